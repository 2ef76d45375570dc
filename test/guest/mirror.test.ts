/**
 * MemV6's mirrored execution: every user program translated (build/guest/fs-mirrored.img),
 * the kernel giving each translated process a twin of every page at va + OFFSET, and the
 * divergence check. Checked on memvisor and on qemu-system-i386, and by the monitor
 * walking the guest's page tables.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PT_LOAD, PT_NOTE, parseElf } from '../../src/elf/index.js';
import { inspectMirrors, MEMV6, walkUserPages } from '../../src/vmm/index.js';
import { countMirrors } from '../../src/vmm/mirror.js';
import { repoRoot, scratch } from '../support/build.js';
import { runMemvisor } from '../support/machine.js';
import { requireQemuSystem, runQemuSystem } from '../support/qemu.js';
import { checkUsertests, guestKernel, SHELL_PROMPT, type GuestConsole } from './scenarios.js';

const dir = scratch('mirror');
const build = join(repoRoot, 'build', 'guest');
const mirroredDisk = join(build, 'fs-mirrored.img');
/** The same kernel with vm.c built to leave the twins alone during read(): a negative control. */
const mirrorbugKernel = join(build, 'kernel-mirrorbug');
const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const CHECK_EVERY_SYSCALL = 'mirrorcheck=syscall';
const DIVERGENCE = /^mirror: pid \d+ .*$/m;

function requireMirroredGuest(): void {
  for (const file of [guestKernel, mirroredDisk]) assert.ok(existsSync(file), `${file} is missing: run \`npm install\` (or \`make -C guest\`)`);
}

const machines: Array<{ name: string; ready: () => void; boot: GuestConsole }> = [
  {
    name: 'memvisor',
    ready: requireMirroredGuest,
    boot: async (session) => {
      const { output, matched } = await runMemvisor({ kernel: guestKernel, hdb: mirroredDisk, cmdline: CHECK_EVERY_SYSCALL, prompt: SHELL_PROMPT, ...session });
      return { output, matched };
    },
  },
  {
    name: 'qemu',
    ready: () => { requireQemuSystem(); requireMirroredGuest(); },
    boot: (session) => runQemuSystem({ kernel: guestKernel, hdb: mirroredDisk, prompt: SHELL_PROMPT, cmdline: CHECK_EVERY_SYSCALL, ...session }),
  },
];

for (const { name, ready, boot } of machines) {
  test(`${name}: translated usertests passes, and the divergence check at every system call finds nothing`, async () => {
    ready();
    const output = await checkUsertests(boot, 900_000);
    assert.match(output, /MemV6 options: mirrorcheck=syscall/);
    assert.doesNotMatch(output, DIVERGENCE, 'the divergence check reported a page');
  });
}

test('memvisor: at every system call, each mirrored page has its own frame and the same bytes; unmirrored processes have no mirror pages; the counts taken at every CR3 load agree with the full walk', async (t) => {
  requireMirroredGuest();
  let mirroredCalls = 0, plainCalls = 0, pagesChecked = 0, knownZero = 0, loads = 0;
  const problems: string[] = [];
  const { output, matched } = await runMemvisor({
    kernel: guestKernel, hdb: mirroredDisk, prompt: SHELL_PROMPT, timeoutMs: 120_000, until: /(^|\n)finished\r?\n/,
    send: ['mstat; plainmstat; echo a b c d | plaincat | wc; echo x y | wc | plainwc; forktest; stressfs\n', 'echo finished\n'],
    monitor: { mirror: 'guest' },
    setup: (monitor) => {
      // What --stats and bench usertests count at every CR3 load (countMirrors, reading the
      // tables in place) is what the full walk finds; where an address space has no user
      // table in the mirror range, only whether it has user pages is counted.
      const { mem } = monitor.pc;
      const u32 = new Uint32Array(mem.ram.buffer);
      const counts = { userPages: 0, mirroredPages: 0, sharedFrames: 0 };
      monitor.pc.cpu.cr3Listeners.add(1000, 'test: mirror counts', (cr3) => {
        loads++;
        const a = inspectMirrors(mem, cr3, false, MEMV6.mirrorOffset);
        countMirrors(mem, u32, cr3, MEMV6.mirrorOffset, counts);
        const expected = { userPages: a.userPages, mirroredPages: a.mirroredPages, sharedFrames: a.sharedFrames.length };
        if (counts.userPages !== a.userPages && counts.userPages === 1 && a.mirroredPages === 0) expected.userPages = 1;
        if (JSON.stringify(counts) !== JSON.stringify(expected)) problems.push(`CR3 0x${(cr3 >>> 0).toString(16)}: counted ${JSON.stringify(counts)}, the walk found ${JSON.stringify(expected)}`);
      });
      monitor.observeSystemCalls(() => {
        const a = monitor.inspectRunningAddressSpace(true);
        if (a.mirroredPages === 0) plainCalls++; else mirroredCalls++;
        pagesChecked += a.mirroredPages;
        // Every page of a mirrored process has a twin except the translator's spill page and
        // the pages known zero (bss never written), which must hold zeros.
        knownZero += a.knownZero.length;
        if (a.mirroredPages > 0 && a.mirroredPages + a.knownZero.length !== a.userPages - 1) problems.push(`${a.userPages - a.mirroredPages - a.knownZero.length} pages without a twin`);
        for (const va of a.notZero) problems.push(`page 0x${va.toString(16)} is known zero but is not`);
        for (const va of a.sharedFrames) problems.push(`page 0x${va.toString(16)} shares its frame with its mirror`);
        for (const va of a.differing) problems.push(`page 0x${va.toString(16)} differs from its mirror`);
        for (const va of a.orphans) problems.push(`mirror page 0x${va.toString(16)} has no native page`);
      });
    },
  });
  assert.ok(matched, output);
  assert.deepEqual(problems.slice(0, 10), [], `${problems.length} problems`);
  assert.ok(mirroredCalls > 100 && plainCalls > 10, `system calls from mirrored processes: ${mirroredCalls}, from unmirrored ones: ${plainCalls}`);
  assert.match(output, /^mstat: mirrored, 0 pages differ\r?$/m);
  assert.match(output, /^mstat: not mirrored\r?$/m);
  assert.match(output, /^1 4 8 ?\r?$/m, 'translated echo | untranslated cat | translated wc: "a b c d"');
  assert.match(output, /^1 3 7 ?\r?$/m, 'translated echo | translated wc | untranslated wc: wc\'s "1 2 4 \\n" counted');
  assert.match(output, /fork test OK/);
  assert.match(output, /stressfs ok/);
  assert.ok(knownZero > 0, 'no page was known zero (lazy twins)');
  assert.ok(loads > 100, `${loads} CR3 loads`);
  t.diagnostic(`${mirroredCalls} system calls from mirrored processes (${pagesChecked} page pairs compared, ${knownZero} known-zero pages checked), ${plainCalls} from unmirrored ones; ${loads} CR3 loads counted`);
});

/** The pages the usertests file fills that a usertests process maps, at most, over a run (and the problems the mirror walk found), with kernel options `cmdline`. */
async function mappedFilePages(cmdline: string, filePages: Set<number>): Promise<{ mostMapped: number; calls: number; problems: string[]; output: string }> {
  let calls = 0, mostMapped = 0;
  const problems: string[] = [];
  const { output, matched } = await runMemvisor({
    kernel: guestKernel, hdb: mirroredDisk, prompt: SHELL_PROMPT, timeoutMs: 120_000, cmdline,
    send: ['usertests getpid execargs\n'], until: /ALL TESTS PASSED|FAILED|panic/,
    monitor: { mirror: 'guest' },
    setup: (monitor) => {
      monitor.observeSystemCalls(() => {
        if (MEMV6.runningProcess(monitor.pc.mem, monitor.pc.cpu)?.name !== 'usertests') return;
        calls++;
        const { pages } = walkUserPages(monitor.pc.mem, monitor.pc.cpu.cr3, 0, MEMV6.mirrorOffset);
        let mapped = 0;
        for (const va of filePages) if (pages.has(va)) mapped++;
        mostMapped = Math.max(mostMapped, mapped);
        const a = monitor.inspectRunningAddressSpace(true);
        if (a.mirroredPages + a.knownZero.length !== a.userPages - 1) problems.push(`${a.userPages - a.mirroredPages - a.knownZero.length} pages without a twin`);
        for (const va of [...a.differing, ...a.sharedFrames, ...a.notZero, ...a.orphans]) problems.push(`page 0x${va.toString(16)} is not mirrored right`);
      });
    },
  });
  assert.ok(matched, output);
  assert.match(output, /ALL TESTS PASSED/);
  return { mostMapped, calls, problems, output };
}

test('memvisor: exec reads a translated program\'s pages on demand (readaround=off: pages the program never touches are never mapped; by default a touch reads its 128 KiB window), and every page it maps has its twin', async (t) => {
  requireMirroredGuest();
  // The pages the usertests file fills (its code, translated and original, its data), less
  // the translator's spill page (a zero page, never read: see dropmirror).
  const elf = parseElf(new Uint8Array(readFileSync(join(build, 'mirrored', 'usertests'))));
  const spill = elf.sections.find((s) => s.name === '.memvisor.spill')?.addr;
  const filePages = new Set<number>();
  for (const p of elf.programHeaders) {
    if (p.type !== PT_LOAD) continue;
    for (let va = p.vaddr; va < p.vaddr + p.filesz; va += 4096) if (va !== spill) filePages.add(va);
  }
  assert.ok(filePages.size > 15, `usertests fills only ${filePages.size} pages`);
  const alone = await mappedFilePages('readaround=off', filePages);
  assert.match(alone.output, /MemV6 options: .*readaround=off/);
  assert.deepEqual(alone.problems.slice(0, 10), [], `${alone.problems.length} problems`);
  assert.ok(alone.calls > 20, `only ${alone.calls} system calls from usertests`);
  // Read whole, every one of them would be mapped from exec on.
  assert.ok(alone.mostMapped < filePages.size / 2, `a usertests process mapped ${alone.mostMapped} of the ${filePages.size} pages its file fills`);
  // With read-around (the default) the same run maps more of them (each segment of usertests
  // lies within one or two windows), and still with a twin each.
  const around = await mappedFilePages('', filePages);
  assert.deepEqual(around.problems.slice(0, 10), [], `${around.problems.length} problems`);
  assert.ok(around.mostMapped > alone.mostMapped, `read-around mapped ${around.mostMapped} pages, reading alone ${alone.mostMapped}`);
  t.diagnostic(`at most ${alone.mostMapped} of the ${filePages.size} pages the file fills were mapped reading pages alone, ${around.mostMapped} reading around them`);
});

test('memvisor: negative control: a kernel whose copyout leaves the twins alone during read() is caught by the divergence check; the real kernel, same session, is not', async () => {
  requireMirroredGuest();
  assert.ok(existsSync(mirrorbugKernel), `${mirrorbugKernel} is missing: run \`npm install\` (or \`make -C guest\`)`);
  const session = { hdb: mirroredDisk, cmdline: CHECK_EVERY_SYSCALL, prompt: SHELL_PROMPT, timeoutMs: 60_000, send: ['echo hello > f; cat f\n', 'echo finished\n'] };
  const buggy = await runMemvisor({ kernel: mirrorbugKernel, ...session, until: DIVERGENCE });
  assert.ok(buggy.matched, `the divergence check did not notice read() leaving the twins alone:\n${buggy.output}`);
  assert.match(buggy.output, /^mirror: pid \d+ \((sh|cat)\): page 0x[0-9a-f]+ differs from its mirror\r?$/m);
  const real = await runMemvisor({ kernel: guestKernel, ...session, until: /(^|\n)finished\r?\n/ });
  assert.ok(real.matched, real.output);
  assert.match(real.output, /^hello\r?$/m);
  assert.doesNotMatch(real.output, DIVERGENCE, 'the real kernel diverged in the same session');
});

test('memvisor: a program translated for another offset, or with a damaged note, is refused by exec with a console message', async () => {
  requireMirroredGuest();
  const other = join(dir, 'echo50'), damaged = join(dir, 'echobad');
  let r = spawnSync(process.execPath, [cli, 'translate', join(build, 'user', 'echo'), '-o', other, '--offset', '0x50000000'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const bytes = new Uint8Array(readFileSync(join(build, 'mirrored', 'echo')));
  const note = parseElf(bytes).programHeaders.find((p) => p.type === PT_NOTE)!;
  new DataView(bytes.buffer).setUint32(note.offset + 4, 5, true);  // descsz 5: neither 4 nor 8
  writeFileSync(damaged, bytes);
  const image = join(dir, 'refuse.img');
  r = spawnSync(process.execPath, [cli, 'mkfs', '-o', image, join(build, 'mirrored', 'init'), join(build, 'mirrored', 'sh'), join(build, 'mirrored', 'echo'), other, damaged], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { output, matched } = await runMemvisor({
    kernel: guestKernel, hdb: image, prompt: SHELL_PROMPT, timeoutMs: 60_000,
    send: ['echo50 hi; echobad hi; echo still-fine\n'], until: /(^|\n)still-fine\r?\n/,
  });
  assert.ok(matched, output);
  assert.match(output, /exec echo50: translated for mirror offset 0x50000000, but this kernel mirrors at 0x40000000/);
  assert.match(output, /exec echobad: malformed MemV6 translation note/);
  assert.doesNotMatch(output, /^hi\r?$/m);
});
