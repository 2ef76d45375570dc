/**
 * System mode (`--mirror system`, docs/system-mode.md): the MemV6 kernel translated by
 * memvisor's own translator, memory split into a native and a mirror half, every native
 * frame kept equal to its twin pa + half. The translated kernel must also run on
 * qemu-system-i386 (without a reserve, its mirror map points onto its own memory); on
 * memvisor, usertests passes with every frame equal to its twin at the end; each write the
 * translator cannot see is mirrored by someone (negative controls remove one at a time);
 * kernel and page-table memory errors are recovered transparently; and a fault landing
 * between a native store and its mirror store is held back (the negative control, with the
 * guard off, repairs from the stale copy and loses the store).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseElf } from '../../src/elf/index.js';
import { parseInjectionSpec } from '../../src/faults/index.js';
import { MIRROR_OFFSET } from '../../src/layout.js';
import { translateElf } from '../../src/sbt/index.js';
import { machineMemoryMiB, type Monitor, type MonitorOptions } from '../../src/vmm/index.js';
import { repoRoot } from '../support/build.js';
import { runMemvisor, type MemvisorResult } from '../support/machine.js';
import { requireQemuSystem, runQemuSystem } from '../support/qemu.js';
import { checkUsertests, SHELL_PROMPT } from '../guest/scenarios.js';

const build = join(repoRoot, 'build', 'guest');
const systemKernel = join(build, 'kernel-system');
const plainKernel = join(build, 'kernel');
const mirroredDisk = join(build, 'fs-mirrored.img');
const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const KERNBASE = 0x80000000;
/**
 * How long the pair test runs on after the instant it aims at: past the next timer tick
 * (MemV6's ticks come 1,000,000 cycles apart), whose `addl $1, ticks` reads the poisoned
 * frame, to half-way to the one after. (Whatever else shares the frame with `ticks`, and
 * might read it sooner, depends on the kernel's layout.)
 */
const AFTER = 1_500_000;
const MEMORY = machineMemoryMiB('system');
const SHORT = ['echo hi\n'];
const SHORT_DONE = /(^|\n)hi\r?\n/;
const WORK = ['usertests printf forkwait sbrkgrow pipebig bigfile\n', 'echo finished\n'];
const FINISHED = /(^|\n)finished\r?\n|panic/;

async function runSystem(send: string[], until: RegExp, monitor: Omit<MonitorOptions, 'machine'> = {}, kernel = systemKernel,
  setup?: (m: Monitor) => void): Promise<MemvisorResult> {
  return runMemvisor({
    kernel, hdb: mirroredDisk, memoryMiB: MEMORY, prompt: SHELL_PROMPT, send, until, timeoutMs: 600_000,
    monitor: { mirror: 'system', ...monitor }, setup,
  });
}

test('qemu: the translated kernel (build/guest/kernel-system) passes usertests on qemu-system-i386, with no reserve', async () => {
  requireQemuSystem();
  const output = await checkUsertests((session) => runQemuSystem({ kernel: systemKernel, hdb: mirroredDisk, prompt: SHELL_PROMPT, ...session }));
  assert.doesNotMatch(output, /mirrored in the reserve/);
});

test('memvisor --mirror system: usertests passes; at the end every native frame equals its twin and every mirror PTE follows pa + half', async (t) => {
  const r = await runSystem(['usertests\n'], /ALL TESTS PASSED|FAILED|panic/);
  assert.match(r.output, /^ALL TESTS PASSED\r?$/m, r.output.slice(-2000));
  assert.match(r.output, /mirrored in the reserve at 0x8000000/);
  const c = r.monitor.systemCheck();
  assert.ok(c.settled, 'the machine never went idle');
  assert.equal(c.differing, 0, `frames that differ from their twins: ${c.firstDiffering.join(', ')}`);
  assert.equal(c.mirrorPtesOffRule, 0);
  assert.equal(c.sharedFrames, 0);
  assert.ok(c.compared > 30_000, `${c.compared} frames compared`);
  t.diagnostic(`${r.pc.cpu.instructionCount} instructions; ${c.compared} frames compared, 0 differ; ${r.monitor.system!.platformWrites} platform writes mirrored, ` +
    `${r.monitor.system!.heldInstructions} instructions run with an interrupt held at a store pair`);
});

test('platform writes: with the processor\'s own writes (trap frames, A/D bits) not mirrored, the check finds frames that differ', async () => {
  const good = await runSystem(SHORT, SHORT_DONE);
  assert.ok(good.matched, good.output);
  assert.equal(good.monitor.systemCheck().differing, 0);
  assert.ok(good.monitor.system!.platformWrites > 0);
  // A listener ahead of the system mirror's that swallows every platform write.
  const bad = await runSystem(SHORT, SHORT_DONE, {}, systemKernel, (m) => { m.pc.cpu.platformWriteListeners.add(1, 'negative control', () => true); });
  assert.ok(bad.matched, bad.output);
  assert.ok(bad.monitor.systemCheck().differing > 0, 'the check missed unmirrored trap frames and A/D bits');
});

test('insl: a kernel translated without the rep ins template (the IDE driver\'s sector reads) is caught by the check', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'memvisor-system-'));
  try {
    const broken = join(dir, 'kernel-no-insl');
    const { output } = translateElf(readFileSync(plainKernel), { path: plainKernel, scratch: 'stack', disabledTemplates: new Set(['repIns'] as const) });
    writeFileSync(broken, output);
    const r = await runSystem(SHORT, SHORT_DONE, {}, broken);
    assert.ok(r.matched, r.output);
    assert.ok(r.monitor.systemCheck().differing > 0, 'sector reads left unmirrored went unnoticed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('recovery: 100 poisoned kernel-image frames and 30 poisoned page tables, every consumed error recovered by the monitor, output as without faults', async (t) => {
  const clean = await runSystem(WORK, FINISHED);
  assert.ok(clean.matched && !/FAILED|panic/.test(clean.output), clean.output.slice(-2000));
  for (const spec of ['poison:target=kernel,count=100,seed=3,window=5000000-300000000', 'poison:target=page-table,count=30,seed=4,window=20000000-300000000']) {
    const r = await runSystem(WORK, FINISHED, { faults: [parseInjectionSpec(spec, 1)] });
    const e = r.monitor.memoryErrors();
    assert.ok(r.matched, `${spec}: ${r.output.slice(-2000)}`);
    assert.equal(r.output, clean.output, `${spec}: the output differs from the fault-free run`);
    assert.equal(e.machineChecks, 0, e.log.join('\n'));
    assert.ok(e.activated > 0, `${spec}: no poison was consumed`);
    assert.equal(e.recoveredByMonitor, e.activated, e.log.join('\n'));
    assert.equal(r.monitor.outcome(r), 'recovered-transparent');
    t.diagnostic(`${spec}: ${e.injected} injected, ${e.activated} consumed and recovered, ${e.overwritten} overwritten before use`);
  }
});

/**
 * The kernel's copy of `ticks` to its twin (after `addl $1, ticks`, the template reads the
 * native word and stores it at ticks + OFFSET): the address of that load, inside a store pair.
 */
function ticksCopyLoad(): { load: number; ticks: number } {
  const elf = parseElf(readFileSync(systemKernel), systemKernel);
  const ticks = elf.symbols.find((s) => s.name === 'ticks')!.value >>> 0;
  const text = elf.sections.find((s) => s.name === '.text')!;
  const bytes = elf.bytes.subarray(text.offset, text.offset + text.size);
  const le = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
  const native = le(ticks), mirror = le((ticks + MIRROR_OFFSET) >>> 0);
  const at = (i: number, pattern: number[]) => pattern.every((b, k) => bytes[i + k] === b);
  for (let i = 0; i + 12 < bytes.length; i++) {
    // mov ticks, %eax ; mov %eax, ticks + OFFSET
    if (at(i, [0xa1, ...native]) && at(i + 5, [0xa3, ...mirror])) return { load: text.addr + i, ticks };
    // mov ticks, %r32 ; mov %r32, ticks + OFFSET (the same ModRM)
    if (bytes[i] === 0x8b && (bytes[i + 1]! & 0xc7) === 0x05 && at(i + 2, native) && at(i + 6, [0x89, bytes[i + 1]!, ...mirror])) return { load: text.addr + i, ticks };
  }
  throw new Error('no copy of ticks to its twin in the translated kernel');
}

test('store pairs: a fault landing between a native store and its mirror store waits for the pair; with the guard off it is repaired from the stale twin and the store is lost', async () => {
  const { load, ticks } = ticksCopyLoad();
  const ticksPa = ticks - KERNBASE;
  // Machine A: to the prompt, then one instruction at a time until the processor is about
  // to copy `ticks` (just incremented by the timer interrupt) to its twin.
  const a = await runSystem([], /\$ $/);
  assert.ok(a.monitor.system!.insidePair(load), 'the copy of ticks is not inside a store pair');
  const pc = a.pc;
  const prompt = pc.now();
  for (let steps = 0; pc.cpu.eip >>> 0 !== load; steps++) {
    assert.ok(steps < 20_000_000, 'the kernel never copied ticks');
    pc.run(1);
  }
  const when = pc.now();
  pc.run(AFTER);
  const expected = pc.mem.peek32(ticksPa);
  assert.equal(pc.mem.peek32(ticksPa + pc.mem.guestSize / 2), expected);
  // Machines B and C: the same run, with the frame of `ticks` poisoned at that instant.
  const poisoned = async (storePairGuard: boolean): Promise<{ value: number; twin: number; recovered: number }> => {
    const spec = parseInjectionSpec(`poison:addr=0x${ticksPa.toString(16)},at=${when}`, 1);
    const r = await runSystem([], /\$ $/, { faults: [spec], storePairGuard });
    assert.equal(r.pc.now(), prompt, 'the runs did not reach the prompt at the same instant');
    r.pc.run(when - prompt + AFTER);
    return { value: r.pc.mem.peek32(ticksPa), twin: r.pc.mem.peek32(ticksPa + r.pc.mem.guestSize / 2), recovered: r.monitor.recovery.recovered };
  };
  const guarded = await poisoned(true);
  assert.equal(guarded.recovered, 1);
  assert.equal(guarded.value, expected, 'with the guard, ticks lost its increment');
  assert.equal(guarded.twin, expected);
  const unguarded = await poisoned(false);
  assert.equal(unguarded.recovered, 1);
  assert.equal(unguarded.value, (expected - 1) >>> 0, 'the negative control: without the guard the repair from the stale twin should lose the increment');
});

test('bad input: --mirror system with an untranslated kernel, or memory that does not split, is one line and exit 2', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'run', '--mirror', 'system', ...args], { encoding: 'utf8', timeout: 60_000 });
  const untranslated = run('--kernel', plainKernel, '--hdb', mirroredDisk);
  assert.equal(untranslated.status, 2, untranslated.stderr);
  assert.match(untranslated.stderr, /^memvisor: --mirror system: --kernel .*kernel is not translated/);
  assert.equal(untranslated.stderr.trim().split('\n').length, 1);
  const odd = run('--mem', '100');
  assert.equal(odd.status, 2, odd.stderr);
  assert.match(odd.stderr, /cannot be split into two halves/);
  assert.equal(odd.stderr.trim().split('\n').length, 1);
});

test('both copies lost: a kernel code frame poisoned with its twin ends in MemV6\'s machine-check message naming the frame, and a clean stop', async () => {
  // The frame of the file system's iget (not on the machine-check path: IDT, trap entry,
  // console), from the first instruction: the first process's start reads it.
  const elf = parseElf(readFileSync(systemKernel), systemKernel);
  const frame = ((elf.symbols.find((s) => s.name === 'iget')!.value >>> 0) - KERNBASE) & ~0xfff;
  const half = MEMORY * 1024 * 1024 / 2;
  const at = 1;
  const faults = [frame, frame + half].map((pa) => parseInjectionSpec(`poison:addr=0x${pa.toString(16)},at=${at}`, 1));
  const r = await runSystem([], /panic: .*/, { faults });
  assert.ok(r.matched, `${r.outcome} ${r.stop?.message ?? ''}: ${r.output.slice(-1500)}`);
  assert.match(r.output, new RegExp(`mce: uncorrectable memory error in kernel memory at physical 0x${(frame >>> 12).toString(16)}[0-9a-f]{3} `), r.output.slice(-1500));
  assert.match(r.output, /panic: machine check in kernel memory/);
  const e = r.monitor.memoryErrors();
  assert.equal(e.recoveredByMonitor, 0);
  assert.equal(e.machineChecks, 1);
});
