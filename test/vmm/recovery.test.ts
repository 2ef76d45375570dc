/**
 * Break MemV6's memory on purpose and watch what happens: poisoned pages of mirrored
 * processes are recovered transparently by the monitor (or by MemV6's #MC handler), while
 * the same faults in untranslated processes kill them, both copies lost kill the process
 * without wrong output, and kernel memory stops the machine cleanly. Runs are replayable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseInjectionSpec } from '../../src/faults/index.js';
import { GuestFaultTargets } from '../../src/vmm/targets.js';
import { MEMV6, walkUserPages, type MemoryErrorStats, type Monitor, type RecoveryMode } from '../../src/vmm/index.js';
import { repoRoot } from '../support/build.js';
import { runMemvisor, type MemvisorResult } from '../support/machine.js';
import { guestKernel, SHELL_PROMPT } from '../guest/scenarios.js';

const build = join(repoRoot, 'build', 'guest');
const mirroredDisk = join(build, 'fs-mirrored.img');
const plainDisk = join(build, 'fs.img');
const WORK = ['forktest; stressfs; usertests printf forkwait sbrkgrow pipebig bigfile\n', 'mstat; echo finished\n'];
const FINISHED = /(^|\n)finished\r?\n/;

async function withFaults(disk: string, specs: string[], recovery: RecoveryMode = 'monitor', send = WORK, until = FINISHED, scrubEvery = 0): Promise<MemvisorResult & { errors: MemoryErrorStats }> {
  const result = await runMemvisor({
    kernel: guestKernel, hdb: disk, prompt: SHELL_PROMPT, send, until, timeoutMs: 300_000,
    monitor: { mirror: disk === mirroredDisk ? 'guest' : 'off', faults: specs.map((s) => parseInjectionSpec(s, 1)), recovery, scrubEvery },
  });
  return { ...result, errors: result.monitor.memoryErrors() };
}

test('recovery: mirrored usertests with 100 poisoned native pages passes, every consumed poison recovered by the monitor', async (t) => {
  const r = await withFaults(mirroredDisk, ['poison:target=user-native,count=100,seed=1,window=10000000-300000000'], 'monitor',
    ['usertests\n'], /ALL TESTS PASSED|FAILED|panic/);
  const e = r.errors;
  assert.match(r.output, /^ALL TESTS PASSED\r?$/m, r.output.slice(-2000));
  assert.equal(e.injected, 100);
  assert.equal(e.machineChecks, 0, e.log.join('\n'));
  assert.equal(e.recoveredByMonitor, e.activated);
  assert.ok(e.activated > 0, 'no poison was consumed');
  assert.equal(r.monitor.outcome(r), 'recovered-transparent');
  t.diagnostic(`100 injected: ${e.activated} consumed and recovered transparently, ${e.overwritten} overwritten before use, the rest never touched`);
});

test('recovery: mirrored usertests with 100 poisoned mirror pages passes too, and no page differs afterwards', async (t) => {
  const r = await withFaults(mirroredDisk, ['poison:target=user-mirror,count=100,seed=2,window=10000000-300000000'], 'monitor',
    ['usertests\n', 'mstat\n'], /^mstat: .*$/m);
  const e = r.errors;
  assert.match(r.output, /^ALL TESTS PASSED\r?$/m, r.output.slice(-2000));
  assert.equal(e.machineChecks, 0, e.log.join('\n'));
  assert.equal(e.recoveredByMonitor, e.activated);
  assert.ok(e.activated > 0, 'no poison was consumed');
  assert.match(r.output, /^mstat: mirrored, 0 pages differ\r?$/m);
  t.diagnostic(`100 injected: ${e.activated} consumed and recovered transparently, ${e.overwritten} overwritten before use`);
});

test('recovery: with the monitor recovery off, MemV6 recovers from the mirror in its #MC handler', async () => {
  const r = await withFaults(mirroredDisk, ['poison:target=user-native,count=8,seed=2,window=10000000-20000000'], 'guest');
  assert.ok(r.matched, r.output);
  assert.equal(r.errors.recoveredByMonitor, 0);
  assert.ok(r.errors.machineChecks > 0);
  assert.match(r.output, /^mce: pid \d+ \(\w+\): page 0x[0-9a-f]+ recovered from its mirror/m);
  assert.equal(r.monitor.outcome(r), 'recovered-by-guest');
  assert.doesNotMatch(r.output, /killing/);
  assert.match(r.output, /stressfs ok/);
});

test('recovery: both copies lost kills the process with a clear message; nothing wrong is printed; the system goes on', async () => {
  const clean = await withFaults(mirroredDisk, []);
  const r = await withFaults(mirroredDisk, ['poison:target=both,count=3,seed=3,window=10000000-20000000']);
  assert.ok(r.matched, r.output);
  assert.match(r.output, /^mce: pid \d+ \(\w+\): memory error in page 0x[0-9a-f]+, which has no healthy copy: killing it/m);
  assert.equal(r.monitor.outcome(r), 'recovered-degraded');
  const expected = new Set(clean.output.split('\n').map((l) => l.replace(/\r$/, '')));
  for (const line of r.output.split('\n').map((l) => l.replace(/\r$/, ''))) {
    if (/^mce: |failed|^\$ |^$/.test(line)) continue;
    assert.ok(expected.has(line), `a line the fault-free run never printed: ${JSON.stringify(line)}`);
  }
});

/**
 * Runs two usertests sub-tests on the mirrored disk and, at the first system call of a
 * test child (forked by usertests, which waits meanwhile: the two share their pages since
 * fork), poisons the frame behind the child's code page (or behind that page's twin, which
 * only the divergence check reads: mirrorcheck=exit compares every pair as each exits).
 * Returns the run and the processes that mapped the frame when it was poisoned.
 */
async function poisonSharedPage(twin: boolean, recovery: RecoveryMode) {
  let parent: number | null = null;
  let owners: string[] | null = null;
  let image = false;
  let poisoned: { va: number; frame: number } | null = null;
  let stale = 0;  // system calls, after a machine check, from a process still mapping the poisoned frame at va
  const r = await runMemvisor({
    kernel: guestKernel, hdb: mirroredDisk, cmdline: twin ? 'mirrorcheck=exit' : '', prompt: SHELL_PROMPT, send: ['usertests getpid pipeclose\n'], until: /ALL TESTS PASSED|FAILED|panic/, timeoutMs: 120_000,
    monitor: { mirror: 'guest', recovery },
    setup: (monitor) => monitor.observeSystemCalls((m) => {
      const process = MEMV6.runningProcess(m.pc.mem, m.pc.cpu);
      if (poisoned !== null && m.memoryErrors().machineChecks > 0) {
        const pte = walkUserPages(m.pc.mem, m.pc.cpu.cr3, 0, MEMV6.kernelBase).pages.get(poisoned.va);
        if (pte !== undefined && pte >>> 12 === poisoned.frame) stale++;
      }
      if (owners !== null || process?.name !== 'usertests') return;
      parent ??= process.pid;
      if (process.pid === parent) return;
      const { cpu, mem } = m.pc;
      const va = ((cpu.eip & ~0xfff) + (twin ? MEMV6.mirrorOffset : 0)) >>> 0;
      const pages = walkUserPages(mem, cpu.cr3, 0, MEMV6.kernelBase).pages;
      const pte = pages.get(va);
      assert.ok(pte !== undefined, `user page 0x${va.toString(16)} is not mapped`);
      owners = m.frameDetails(mem.p2m[pte >>> 12]!).owners.filter((o) => o.va === va).map((o) => o.process);
      // The code page's PTE (native) still marks it a program-image page: read on demand, unchanged.
      image = ((pages.get((cpu.eip & ~0xfff) >>> 0) ?? 0) & PTE_IMAGE) !== 0;
      m.pc.defects.poison(pte >>> 12);
      poisoned = { va, frame: pte >>> 12 };
    }),
  });
  assert.ok(owners !== null, 'no usertests child made a system call');
  return { ...r, owners: owners as string[], image, stale, errors: r.monitor.memoryErrors() };
}

/** MemV6's PTE bit for a program-image page (guest/kernel/mmu.h): present, it holds the file's bytes unchanged. */
const PTE_IMAGE = 0x800;

test('recovery: a page shared since fork, poisoned in its native frame or its twin, is recovered for every process that maps it', async (t) => {
  for (const twin of [false, true]) {
    const r = await poisonSharedPage(twin, 'monitor');
    const e = r.errors;
    assert.ok(r.owners.length >= 2, `the poisoned ${twin ? 'twin' : 'frame'} was mapped by ${r.owners.join(', ')} only: not shared`);
    // The child's code page came in on demand (exec no longer reads the program), shared
    // with the usertests processes above it: recovery works on such a page as on any other.
    assert.ok(r.image, 'the poisoned code page is not a program-image page read on demand');
    assert.match(r.output, /^ALL TESTS PASSED\r?$/m, r.output.slice(-2000));
    assert.ok(e.activated >= 1, 'the shared frame was never read');
    assert.doesNotMatch(r.output, /^mirror: /m, 'the divergence check found a difference');
    assert.equal(e.recoveredByMonitor, e.activated, e.log.join('\n'));
    assert.equal(e.machineChecks, 0);
    assert.equal(r.monitor.outcome(r), 'recovered-transparent');
    t.diagnostic(`${twin ? 'twin' : 'native'} frame shared by ${r.owners.join(' and ')}: recovered by the monitor`);
  }
  // MemV6's own handler: the process that reads the page first gets a copy of the twin; the
  // others keep the frame, which the handler rewrote with the twin's data.
  const g = await poisonSharedPage(false, 'guest');
  assert.ok(g.owners.length >= 2, `mapped by ${g.owners.join(', ')} only`);
  assert.match(g.output, /^ALL TESTS PASSED\r?$/m, g.output.slice(-2000));
  assert.ok(g.errors.machineChecks >= 1);
  assert.match(g.output, /^mce: pid \d+ \(usertests\): page 0x[0-9a-f]+ recovered from its mirror/m);
  assert.doesNotMatch(g.output, /killing|killed/);
  // Its twin: the handler copies the native page into a new frame, and every process that
  // maps the old twin is pointed to the new one (a twin belongs to its page's frame, which
  // they share); the divergence check at each exit finds every pair equal.
  const gt = await poisonSharedPage(true, 'guest');
  assert.ok(gt.owners.length >= 2, `mapped by ${gt.owners.join(', ')} only`);
  assert.match(gt.output, /^ALL TESTS PASSED\r?$/m, gt.output.slice(-2000));
  assert.ok(gt.errors.machineChecks >= 1);
  assert.match(gt.output, /^mce: pid \d+ \(usertests\): page 0x4[0-9a-f]+ recovered from its mirror/m);
  assert.doesNotMatch(gt.output, /killing|killed/);
  assert.doesNotMatch(gt.output, /^mirror: /m, 'the divergence check found a difference');
  assert.equal(gt.stale, 0, 'a process that shared the twin still maps the frame it was moved from');
});

test('recovery: a bss page with no twin yet (known zero) that loses its data is restored from zeros, by the monitor or by MemV6', async (t) => {
  for (const recovery of ['monitor', 'guest'] as const) {
    let poisoned: number | null = null;
    const r = await runMemvisor({
      kernel: guestKernel, hdb: mirroredDisk, cmdline: 'mirrorcheck=exit', prompt: SHELL_PROMPT, send: ['usertests getpid pipeclose\n'],
      until: /ALL TESTS PASSED|FAILED|panic/, timeoutMs: 120_000, monitor: { mirror: 'guest', recovery },
      // At usertests' first system call, one of its pages known zero: the divergence check reads it at exit.
      setup: (monitor) => monitor.observeSystemCalls((m) => {
        if (poisoned !== null || MEMV6.runningProcess(m.pc.mem, m.pc.cpu)?.name !== 'usertests') return;
        const a = m.inspectRunningAddressSpace(true);
        assert.ok(a.knownZero.length > 0, 'usertests has no page known zero');
        assert.deepEqual(a.notZero, []);
        const va = a.knownZero[a.knownZero.length >> 1]!;  // in the middle of bss: a big buffer these sub-tests never write
        poisoned = va;
        m.pc.defects.poison(walkUserPages(m.pc.mem, m.pc.cpu.cr3, 0, MEMV6.kernelBase).pages.get(va)! >>> 12);
      }),
    });
    const e = r.monitor.memoryErrors();
    assert.ok(poisoned !== null, 'usertests made no system call');
    assert.match(r.output, /^ALL TESTS PASSED\r?$/m, r.output.slice(-2000));
    assert.doesNotMatch(r.output, /^mirror: |killing/m);
    assert.ok(e.activated >= 1, 'the page was never read');
    if (recovery === 'monitor') {
      assert.equal(e.recoveredByMonitor, e.activated, e.log.join('\n'));
      assert.equal(e.machineChecks, 0);
      assert.match(e.log.join('\n'), /known zero/);
    } else {
      assert.ok(e.machineChecks >= 1);
      assert.match(r.output, new RegExp(`^mce: pid \\d+ \\(usertests\\): page 0x${(poisoned as unknown as number).toString(16)} recovered as known zero`, 'm'));
    }
    t.diagnostic(`${recovery}: page 0x${(poisoned as unknown as number).toString(16)} known zero, restored`);
  }
});

test('recovery: target=user-native counts pages known zero among a mirrored process\'s protected pages, and never its spill page', async () => {
  let checked = false;
  await runMemvisor({
    kernel: guestKernel, hdb: mirroredDisk, prompt: SHELL_PROMPT, send: ['usertests getpid\n'],
    until: /ALL TESTS PASSED|FAILED|panic/, timeoutMs: 120_000, monitor: { mirror: 'guest' },
    setup: (monitor) => monitor.observeSystemCalls((m) => {
      if (checked || MEMV6.runningProcess(m.pc.mem, m.pc.cpu)?.name !== 'usertests') return;
      checked = true;
      const space = m.spaces.current();
      const targets = new GuestFaultTargets(m.pc, m.spaces, MEMV6.mirrorOffset);
      const candidates = targets.candidates('user-native');
      const picked = new Set(Array.from({ length: candidates.count }, (_, i) => candidates.at(i)[0]!));
      assert.ok(space.knownZero.size > 0, 'usertests has no page known zero');
      const protectedPages = [...space.native].filter(([va]) => space.mirror.has(va + MEMV6.mirrorOffset) || space.knownZero.has(va));
      assert.deepEqual([...picked].sort(), protectedPages.map(([, f]) => f).sort());
      for (const va of space.knownZero) assert.ok(picked.has(space.native.get(va)!), `known-zero page 0x${va.toString(16)} is not a target`);
      assert.ok(protectedPages.length < space.native.size, 'every page is protected: the spill page is missing');
    }),
  });
  assert.ok(checked, 'usertests made no system call');
});

/**
 * Runs `send` on the untranslated disk and, at the first system call `pick` chooses (it
 * returns the user address the kernel is about to read), takes that page's data away.
 */
async function loseAtSystemCall(send: string, pick: (monitor: Monitor, call: number, args: (i: number) => number) => number | null) {
  let lostPage: number | null = null;
  const r = await runMemvisor({
    kernel: guestKernel, hdb: plainDisk, prompt: SHELL_PROMPT, send: [send], until: FINISHED, timeoutMs: 120_000,
    setup: (monitor) => monitor.observeSystemCalls((m) => {
      if (lostPage !== null) return;
      const { cpu, mem } = m.pc;
      const word = (at: number) => cpu.peekLinear(at, 4).reduce<number>((v, b, i) => v | ((b ?? 0) << (8 * i)), 0) >>> 0;
      const va = pick(m, cpu.reg[0]!, (i) => word((cpu.reg[4]! + 4 + 4 * i) >>> 0));  // the arguments above the stub's return address
      if (va === null) return;
      const pte = walkUserPages(mem, cpu.cr3, 0, MEMV6.kernelBase).pages.get(va & ~0xfff);
      assert.ok(pte !== undefined, `user page 0x${va.toString(16)} is not mapped`);
      lostPage = va & ~0xfff;
      m.pc.defects.poison(pte >>> 12);
    }),
  });
  assert.ok(lostPage !== null, 'the system call was never made');
  return { ...r, errors: r.monitor.memoryErrors() };
}

test('recovery: what the kernel was reading from a lost page reaches no one: the write fails, the fork makes no child', async () => {
  const SYS_FORK = 1, SYS_WRITE = 16;
  const text = (m: Monitor, va: number, n: number) => String.fromCharCode(...m.pc.cpu.peekLinear(va, n).map((b) => b ?? 0));
  // echo's write of its argument: the buffer's page is lost as the kernel copies it into the file.
  const write = await loseAtSystemCall('echo lostdata > lost; cat lost; echo finished\n',
    (m, call, arg) => (call === SYS_WRITE && text(m, arg(1), 8) === 'lostdata' ? arg(1) : null));
  assert.ok(write.matched, write.output);
  assert.equal(write.errors.activated, 1, 'the kernel read the lost data');
  assert.match(write.output, /^mce: pid \d+ \(echo\): memory error in page 0x[0-9a-f]+, which has no healthy copy: killing it\r?$/m);
  assert.doesNotMatch(write.output, /\0|^lostdata\r?$/m, 'cat finds no zeros in the file (nor the lost text)');
  // forktest's first fork: its stack page is lost while the kernel copies it for the child.
  const fork = await loseAtSystemCall('forktest; echo finished\n',
    (m, call) => (call === SYS_FORK && MEMV6.runningProcess(m.pc.mem, m.pc.cpu)?.name === 'forktest' ? m.pc.cpu.reg[4]! : null));
  assert.ok(fork.matched, fork.output);
  assert.equal(fork.errors.activated, 1, 'the kernel read the lost data');
  assert.match(fork.output, /^mce: pid \d+ \(forktest\): memory error in page 0x[0-9a-f]+, which has no healthy copy: killing it\r?$/m);
  assert.doesNotMatch(fork.output, /trap|fork test OK|fork test\r?\n[^]*fork test/, 'no child ran on the zeros');
});

test('recovery: with --mirror hardware the monitor\'s own copy recovers untranslated processes too', async () => {
  const r = await runMemvisor({
    kernel: guestKernel, hdb: plainDisk, prompt: SHELL_PROMPT, send: WORK, until: FINISHED, timeoutMs: 300_000,
    monitor: { mirror: 'hardware', faults: [parseInjectionSpec('poison:target=user-native,count=10,seed=1,window=10000000-40000000', 1)] },
  });
  const errors = r.monitor.memoryErrors();
  assert.ok(r.matched, r.output);
  assert.ok(errors.recoveredByMonitor > 0, errors.log.join('\n'));
  assert.equal(errors.machineChecks, 0);
  assert.doesNotMatch(r.output, /^mce: /m);
  assert.match(r.output, /fork test OK/);
  assert.match(r.output, /stressfs ok/);
});

test('--mirror hardware: after a busy run every guest frame equals its mirror, byte for byte', async (t) => {
  const r = await runMemvisor({
    kernel: guestKernel, hdb: plainDisk, prompt: SHELL_PROMPT, send: WORK, until: FINISHED, timeoutMs: 300_000, monitor: { mirror: 'hardware' },
  });
  assert.ok(r.matched, r.output);
  const hardware = r.monitor.hardware!;
  const mem = r.pc.mem, ram = mem.ram;
  const differing: string[] = [];
  for (let g = 0; g < mem.guestSize / 4096; g++) {
    const native = mem.hostOffset(g * 4096), mirror = hardware.mirrorFrame(g) * 4096;
    if (Buffer.compare(ram.subarray(native, native + 4096), ram.subarray(mirror, mirror + 4096)) !== 0) differing.push(`0x${(g * 4096).toString(16)}`);
  }
  assert.deepEqual(differing.slice(0, 10), [], `${differing.length} frames differ from their mirror`);
  t.diagnostic(`${mem.guestSize / 4096} frames compared; ${hardware.writes} writes mirrored; ${r.pc.cpu.blocks.stats.compiled} blocks compiled`);
});

test('recovery: the same faults in untranslated processes kill them (the baseline mirroring improves on)', async () => {
  // The shell may be one of the processes killed (which pages are mapped when the faults
  // land depends on what the programs have touched: exec reads pages on demand), with the
  // last line typed into it: init starts another shell, which gets one more line.
  const r = await withFaults(plainDisk, ['poison:target=user-native,count=5,seed=1,window=10000000-20000000'], 'monitor', [...WORK, 'echo finished\n']);
  assert.ok(r.matched, r.output);
  assert.equal(r.errors.recoveredByMonitor, 0);
  assert.match(r.output, /which has no healthy copy: killing it/);
});

test('recovery: poisoned kernel memory stops the machine with a message, never a hang', async () => {
  const r = await withFaults(mirroredDisk, ['poison:target=kernel,count=3,seed=3,at=5000000'], 'monitor',
    ['forktest; stressfs; usertests\n'], /ALL TESTS PASSED/);
  assert.equal(r.outcome, 'stopped', `outcome ${r.outcome}`);
  assert.ok(r.stop && (r.stop.kind === 'shutdown' || r.stop.kind === 'halted'), JSON.stringify(r.stop));
  assert.match(`${r.stop.message}\n${r.output}`, /machine check/);
  assert.equal(r.monitor.outcome(r), 'fail-stop');
});

test('recovery: a run with the same seed is replayed exactly (same outcome, same instruction count)', async () => {
  const spec = ['poison:target=user-native,count=10,seed=7,window=10000000-30000000'];
  const a = await withFaults(mirroredDisk, spec);
  const b = await withFaults(mirroredDisk, spec);
  assert.ok(a.matched && b.matched);
  assert.equal(b.output, a.output);
  assert.equal(b.pc.cpu.instructionCount, a.pc.cpu.instructionCount);
  assert.deepEqual(b.errors.log, a.errors.log);
});

test('scrubber: silent bit flips are reported as detected-uncorrectable, and a fault-free run reports nothing', async () => {
  const clean = await withFaults(mirroredDisk, [], 'monitor', WORK, FINISHED, 500_000);
  assert.ok(clean.matched, clean.output);
  assert.ok(clean.errors.scrubbedPages > 100, `only ${clean.errors.scrubbedPages} page pairs scrubbed`);
  assert.equal(clean.errors.detectedUncorrectable, 0, clean.errors.log.join('\n'));
  const flipped = await withFaults(mirroredDisk, ['flip:target=user-native,count=3,bits=2,seed=4,window=7000000-17000000'], 'monitor', WORK, FINISHED, 500_000);
  assert.ok(flipped.errors.detectedUncorrectable > 0, flipped.errors.log.join('\n'));
  assert.match(flipped.errors.log.join('\n'), /scrub: page 0x[0-9a-f]+ differs from its mirror .*: detected, uncorrectable/);
});

test('faults: stuck bits are found by the scrubber; match= injects when the console shows the text', async () => {
  // When stressfs starts (a point in the work, not a cycle count, which moves as the kernel
  // changes): its pages live long enough for the scrubber's next passes.
  const stuck = await withFaults(mirroredDisk, ['stuck:target=user-native,count=2,bits=3,seed=6,match=stressfs starting'], 'monitor', WORK, FINISHED, 1_000_000);
  assert.match(stuck.errors.log.join('\n'), /bit\(s\) stuck in frame/);
  assert.ok(stuck.errors.detectedUncorrectable > 0, stuck.errors.log.join('\n'));
  const matched = await runMemvisor({
    kernel: guestKernel, hdb: mirroredDisk, prompt: SHELL_PROMPT, send: WORK, until: FINISHED, timeoutMs: 120_000,
    monitor: { mirror: 'guest', faults: [parseInjectionSpec('poison:target=user-native,count=3,match=stressfs starting', 5)] },
  });
  const errors = matched.monitor.memoryErrors();
  assert.ok(matched.matched, matched.output);
  assert.equal(errors.injected, 3, errors.log.join('\n'));
  assert.match(matched.output, /stressfs ok/);
});

test('recovery: bad --inject specs are one line and exit 2, before the guest starts', () => {
  const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
  const cases: Array<[string, RegExp]> = [
    ['poison:target=elsewhere', /unknown target 'elsewhere'/],
    ['poison:addr=0x40000000', /address 0x40000000 is outside guest memory/],
    ['poison:count=99999999', /count=99999999 is more than the \d+ pages of guest memory|out of range/],
    ['melt', /unknown fault kind 'melt'/],
  ];
  for (const [spec, pattern] of cases) {
    const r = spawnSync(process.execPath, [cli, 'run', '--inject', spec, '--timeout', '5'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(r.status, 2, `${spec}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, pattern);
    assert.doesNotMatch(r.stdout, /MemV6 booting/, 'the guest started');
  }
});
