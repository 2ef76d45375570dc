/**
 * MemV6's machine-check handler on QEMU, an engine we did not write: while the mirrored
 * `spin` program runs, QEMU's monitor command `mce` raises a machine check naming the
 * frame of one of spin's code pages (found with `info tlb`). MemV6 must recover the page
 * from its mirror, and spin must finish with the checksum of an undisturbed run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PT_LOAD, parseElf } from '../../src/elf/index.js';
import { repoRoot, scratch } from '../support/build.js';
import { requireQemuSystem, runQemuSystem } from '../support/qemu.js';
import { guestKernel, SHELL_PROMPT } from '../guest/scenarios.js';

const build = join(repoRoot, 'build', 'guest');
const mirroredDisk = join(build, 'fs-mirrored.img');
const ROUNDS = 8000;
/** MCi_STATUS: valid, uncorrected, enabled, address valid; memory read error. MCG_STATUS: RIPV | MCIP. */
const MCE = (addr: number) => `mce 0 0 0xb40000000000009f 5 0x${addr.toString(16)} 0`;

/** One HMP command on QEMU's monitor socket; resolves with its output (escape sequences removed). */
function monitor(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(socket);
    let text = '', sent = false;
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`no answer to ${command}`)); }, 10_000);
    s.on('data', (chunk) => {
      text += chunk.toString('latin1');
      const prompts = text.split('(qemu) ').length - 1;
      if (!sent && prompts >= 1) { sent = true; s.write(`${command}\n`); }
      else if (sent && prompts >= 2) { clearTimeout(timer); s.end(); resolve(text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '')); }
    });
    s.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

/** The first page of spin's translated code (just after the translator's spill page): read all the time, never written. */
function spinCodePage(): number {
  const elf = parseElf(readFileSync(join(build, 'mirrored', 'spin')));
  const loads = elf.programHeaders.filter((p) => p.type === PT_LOAD);
  return loads[loads.length - 1]!.vaddr + 0x1000;
}

test('qemu: a machine check raised by QEMU in a mirrored page is recovered by MemV6 from the mirror', async () => {
  requireQemuSystem();
  const base = { kernel: guestKernel, hdb: mirroredDisk, memMiB: 128, prompt: SHELL_PROMPT, send: [`spin ${ROUNDS}\n`], until: /spin: done [0-9a-f]+\r?\n|panic/, timeoutMs: 120_000 };
  const undisturbed = await runQemuSystem({ ...base, extraArgs: ['-cpu', 'pentium3'] });
  const expected = /spin: done ([0-9a-f]+)/.exec(undisturbed.output)?.[1];
  assert.ok(expected, undisturbed.output);

  const socket = join(scratch('qemu-mce'), 'monitor.sock');
  const va = spinCodePage();
  let injection: Promise<string> | null = null;
  let console_ = '';
  const run = await runQemuSystem({
    ...base,
    extraArgs: ['-cpu', 'pentium3', '-monitor', `unix:${socket},server,nowait`],
    onOutput: (text) => {
      console_ += text;
      if (injection || !/spin: started/.test(console_)) return;
      injection = (async () => {
        const tlb = await monitor(socket, 'info tlb');
        const line = new RegExp(`^${va.toString(16).padStart(16, '0')}: ([0-9a-f]{16})`, 'm').exec(tlb);
        if (!line) throw new Error(`page 0x${va.toString(16)} is not in QEMU's TLB listing:\n${tlb.slice(-2000)}`);
        const frame = Number.parseInt(line[1]!, 16);
        return monitor(socket, MCE(frame));
      })();
    },
  });
  assert.ok(injection, 'spin never started');
  const answer = await injection!;
  assert.doesNotMatch(answer, /not supported|invalid/i, answer);
  assert.ok(run.matched, run.output);
  assert.match(run.output, new RegExp(`mce: pid \\d+ \\(spin\\): page 0x${va.toString(16)} recovered from its mirror`));
  assert.match(run.output, new RegExp(`spin: done ${expected}`), 'spin finished with another checksum');
});
