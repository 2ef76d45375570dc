/**
 * The monitor's memory map (src/vmm/frame-map.ts): every host frame's role and details,
 * computed from what the monitor knows, checked against the guest it watches — MemV6's
 * processes by name, native pages and their twins on distinct frames, and after faults
 * the recovered, retired and poisoned frames with their history, counted against the
 * monitor's own statistics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseInjectionSpec } from '../../src/faults/index.js';
import { FRAME_ROLES, MEMV6_LAYOUT, type FrameMap, type FrameRole, type MirrorMode } from '../../src/vmm/index.js';
import { repoRoot, scratch } from '../support/build.js';
import { runMemvisor } from '../support/machine.js';
import { guestKernel, SHELL_PROMPT } from '../guest/scenarios.js';

const build = join(repoRoot, 'build', 'guest');
const FINISHED = /(^|\n)finished\r?\n/;

const framesWith = (map: FrameMap, role: FrameRole) => {
  const out: number[] = [];
  map.roles.forEach((r, h) => { if (FRAME_ROLES[r] === role) out.push(h); });
  return out;
};

async function run(mirror: MirrorMode, send: string[], faults: string[] = []) {
  const r = await runMemvisor({
    kernel: guestKernel, hdb: join(build, mirror === 'guest' ? 'fs-mirrored.img' : 'fs.img'), prompt: SHELL_PROMPT, send, until: FINISHED, timeoutMs: 300_000,
    monitor: { mirror, faults: faults.map((s) => parseInjectionSpec(s, 1)) },
  });
  assert.ok(r.matched, r.output.slice(-2000));
  return r;
}

test('frame map: the MemV6 layout the profile reads processes with is what gcc lays out', () => {
  const dir = scratch('layout');
  const source = join(dir, 'layout.c');
  writeFileSync(source, [
    '#include "types.h"', '#include "param.h"', '#include "mmu.h"', '#include "proc.h"', '#include <stddef.h>',
    `_Static_assert(offsetof(struct cpu, proc) - offsetof(struct cpu, gdt) == ${MEMV6_LAYOUT.cpuProcFromGdt}, "cpuProcFromGdt");`,
    `_Static_assert(offsetof(struct proc, pid) == ${MEMV6_LAYOUT.procPid}, "procPid");`,
    `_Static_assert(offsetof(struct proc, name) == ${MEMV6_LAYOUT.procName}, "procName");`,
    `_Static_assert(sizeof(((struct proc *)0)->name) == ${MEMV6_LAYOUT.procNameBytes}, "procNameBytes");`,
    '',
  ].join('\n'));
  const gcc = spawnSync('gcc', ['-m32', '-ffreestanding', '-fsyntax-only', `-I${join(repoRoot, 'guest', 'kernel')}`, `-I${join(repoRoot, 'guest', 'include')}`, source], { encoding: 'utf8' });
  assert.equal(gcc.status, 0, `src/vmm/profile.ts MEMV6_LAYOUT disagrees with guest/kernel/proc.h:\n${gcc.stderr}`);
});

test('frame map: at the mirrored shell, init and sh by name, every native page and its twin on frames of their own', async () => {
  const r = await run('guest', ['echo finished\n']);
  const monitor = r.monitor;
  const map = monitor.frameMap();
  assert.equal(map.roles.length, map.spareEnd, 'guest memory and the spare pool, no hardware mirror');
  const byName = new Map(map.spaces.map((s) => [s.process?.name, s]));
  assert.deepEqual([...byName.keys()].sort(), ['init', 'sh'], JSON.stringify(map.spaces.map((s) => s.process)));
  assert.equal(byName.get('init')!.process!.pid, 1);
  const sh = byName.get('sh')!;
  assert.equal(sh.process!.pid, 2);
  // Every page of sh but the translator's spill page and its bss pages known zero has a
  // twin, on another frame.
  assert.ok(sh.native.length > 4);
  assert.equal(sh.twins.filter((t, i) => t === null && !sh.knownZero[i]).length, 1, 'the spill page alone has no twin and is not known zero');
  assert.ok(sh.knownZero.every((z, i) => !z || sh.twins[i] === null), 'a page known zero has a twin');
  for (let i = 0; i < sh.native.length; i++) {
    const twin = sh.twins[i];
    assert.equal(FRAME_ROLES[map.roles[sh.native[i]!]!], 'native');
    if (twin === null) continue;
    assert.notEqual(twin, sh.native[i]);
    assert.equal(FRAME_ROLES[map.roles[twin]!], 'mirror');
  }
  for (const t of sh.tables) assert.equal(FRAME_ROLES[map.roles[t]!], 'page-table');
  const [first, end] = monitor.pc.kernelFrames!;
  // The kernel image holds the boot page directory, a page table of its own.
  for (let g = first; g < end; g++) assert.match(FRAME_ROLES[map.roles[g]!]!, /^(kernel|page-table)$/);
  assert.ok(framesWith(map, 'kernel').length > (end - first) / 2);
  assert.equal(framesWith(map, 'spare').length, monitor.spare.left);
  for (const role of ['recovered', 'retired', 'poisoned'] as const) assert.equal(framesWith(map, role).length, 0, role);

  const page = sh.twins.findIndex((t) => t !== null);
  const details = monitor.frameDetails(sh.native[page]!);
  assert.equal(details.role, 'native');
  assert.equal(details.region, 'guest memory');
  assert.equal(details.guestFrame, sh.native[page], 'no frame has moved: the guest frame is the host frame');
  assert.deepEqual(details.owners.map((o) => [o.process, o.kind, o.twinHostFrame]), [['pid 2 (sh)', 'native', sh.twins[page]]]);
  const twin = monitor.frameDetails(sh.twins[page]!);
  assert.deepEqual(twin.owners.map((o) => [o.process, o.kind, o.va - details.owners[0]!.va]), [['pid 2 (sh)', 'mirror', monitor.settings.profile.mirrorOffset]]);
});

test('frame map: poisoned mirrored pages become recovered spare frames and retired frames, each with its history', async (t) => {
  // The window covers forktest and stressfs (from about cycle 0.3 M to 12 M): all 20 faults
  // land, and hot pages are hit more than once. A page recovered again moves from one spare
  // frame to another: only the latest holds it ('recovered'), and every frame it left, in
  // guest memory or in the spare pool, is 'retired'.
  const r = await run('guest', ['forktest; stressfs\n', 'echo finished\n'], ['poison:target=user-native,count=20,seed=1,window=1000000-11000000']);
  const monitor = r.monitor, e = monitor.memoryErrors();
  assert.equal(e.injected, 20, e.log.join('\n'));
  assert.ok(e.recoveredByMonitor > 0, e.log.join('\n'));
  assert.equal(e.machineChecks, 0);
  const map = monitor.frameMap();
  const recovered = framesWith(map, 'recovered'), retired = framesWith(map, 'retired');
  const kinds = (kind: string) => monitor.events.events.filter((ev) => ev.kind === kind);
  const latest = new Map<number, number>();  // guest frame -> the spare frame its last recovery chose
  for (const ev of kinds('recovered')) latest.set(ev.guestFrame, ev.hostFrame);
  assert.deepEqual(recovered.sort((a, b) => a - b), [...latest.values()].sort((a, b) => a - b));
  assert.equal(retired.length, e.recoveredByMonitor);
  assert.equal(framesWith(map, 'spare').length, monitor.spare.left);
  assert.equal(kinds('injected').length, e.injected);
  assert.equal(kinds('activated').length, e.activated);
  assert.equal(kinds('recovered').length, e.recoveredByMonitor);
  assert.ok(kinds('recovered').every((ev) => ev.hostMs !== undefined && ev.hostMs >= 0));
  const one = monitor.frameDetails(recovered[0]!);
  assert.equal(one.role, 'recovered');
  assert.equal(one.region, 'spare pool');
  assert.notEqual(one.guestFrame, null);
  assert.match(one.history.join('\n'), /recovered: recovered by the monitor into spare host frame/);
  const old = monitor.frameDetails(retired[0]!);
  assert.equal(old.guestFrame, null);
  assert.deepEqual(old.history.map((h) => h.split(': ')[1]).slice(0, 3), ['injected', 'activated', 'recovered']);
  t.diagnostic(`${e.injected} injected, ${e.recoveredByMonitor} recovered: ${recovered.length} recovered frames, ${retired.length} retired (${e.recoveredByMonitor - latest.size} recoveries of a page recovered before)`);
});

test('frame map: without mirroring, a read of a poisoned page is a machine check for the guest, in the frame history', async () => {
  const r = await run('off', ['forktest; stressfs\n', 'echo finished\n'], ['poison:target=user-native,count=5,seed=1,window=5000000-30000000']);
  const monitor = r.monitor, e = monitor.memoryErrors();
  assert.ok(e.machineChecks > 0, e.log.join('\n'));
  const checks = monitor.events.events.filter((ev) => ev.kind === 'machine-check');
  assert.equal(checks.length, e.machineChecks);
  const map = monitor.frameMap();
  assert.equal(framesWith(map, 'recovered').length, 0);
  assert.equal(framesWith(map, 'retired').length, 0);
  assert.match(r.output, /which has no healthy copy: killing it/);
  const history = monitor.frameDetails(checks[0]!.hostFrame).history.map((h) => h.split(': ')[1]);
  assert.deepEqual(history.slice(0, 3), ['injected', 'activated', 'machine-check']);
});

test('frame map: with the hardware mirror, its copy of guest memory follows the spare pool and pairs each frame with its copy', async () => {
  const r = await run('hardware', ['echo finished\n']);
  const monitor = r.monitor;
  const map = monitor.frameMap();
  const guestFrames = map.guestFrames;
  assert.equal(map.roles.length, map.spareEnd + guestFrames);
  assert.deepEqual(new Set(map.roles.subarray(map.spareEnd)), new Set([FRAME_ROLES.indexOf('mirror')]));
  const sh = map.spaces.find((s) => s.process?.name === 'sh')!;
  assert.ok(sh.twins.every((twin) => twin === null), 'untranslated programs map no twins');
  const page = sh.native[0]!;
  assert.equal(monitor.frameDetails(page).hardwareTwin, map.spareEnd + page);
  const copy = monitor.frameDetails(map.spareEnd + page);
  assert.equal(copy.region, 'hardware mirror');
  assert.equal(copy.guestFrame, page);
  assert.equal(copy.hardwareTwin, page);
});
