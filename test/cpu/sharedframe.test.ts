/**
 * Compiled blocks that share a frame: the test kernel (test/cpu/sharedframe) maps one frame
 * of code at two linear addresses in one address space and at a third in another, and runs
 * code that reads its own return addresses from each. Blocks are found by host frame, but
 * their code embeds linear addresses: a block compiled at one address must not run at
 * another. qemu-system-i386 and memvisor on every CPU tier must print the same, every
 * check ok, and the tiers must end in the same state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { buildTestKernel, CPU_TIERS, repoRoot, scratch } from '../support/build.js';
import { runMemvisor } from '../support/machine.js';
import { requireQemuSystem, runQemuSystem } from '../support/qemu.js';

const dir = scratch('sharedframe');

test('shared frames: code mapped at several linear addresses gives each address its own result, on QEMU and every CPU tier', async (t) => {
  requireQemuSystem();
  const kernel = buildTestKernel(join(repoRoot, 'test', 'cpu', 'sharedframe', 'sharedframe.c'), join(dir, 'sharedframe.elf'));
  const qemu = await runQemuSystem({
    kernel, memMiB: 64, until: /DONE\r?\n/, timeoutMs: 30_000, extraArgs: ['-device', 'isa-debug-exit,iobase=0xf4,iosize=4'],
  });
  assert.ok(qemu.matched, `the shared-frame kernel did not finish on QEMU:\n${qemu.output}`);
  const full = qemu.output.replace(/\r/g, '');
  const expected = full.slice(full.indexOf('memvisor shared-frame tests'));
  assert.match(expected, /same-frame=ok/, `the check failed on QEMU:\n${expected}`);
  const states = new Map<string, string>();
  for (const [tier, threshold] of CPU_TIERS) {
    const ours = await runMemvisor({
      kernel, memoryMiB: 64, debugExit: true, until: /DONE\n/, timeoutMs: 60_000,
      setup: ({ pc }) => { if (threshold !== undefined) pc.cpu.blocks.threshold = threshold; },
    });
    assert.equal(ours.output.replace(/\r/g, ''), expected, `memvisor (${tier}) differs from QEMU`);
    const pc = ours.pc;
    states.set(tier, `${pc.cpu.instructionCount} instructions, memory ${createHash('sha256').update(pc.mem.ram).digest('hex').slice(0, 16)}`);
    if (threshold !== 0) assert.ok(pc.cpu.blocks.stats.compiled > 0, `${tier}: nothing was compiled`);
  }
  assert.equal(new Set(states.values()).size, 1, `the CPU tiers ended in different states:\n${[...states].join('\n')}`);
  t.diagnostic([...states].map(([k, v]) => `${k}: ${v}`).join('; '));
});
