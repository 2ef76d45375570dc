/**
 * Snapshots carry everything the monitor owns (guest-physical → host map, page flags,
 * spare pool, fault plan and its progress, statistics): a run with --inject saved and
 * restored, or one given its faults only at the restore, ends exactly as the
 * uninterrupted run with the same seed. Files are versioned per part and checksummed:
 * a damaged file or a part of another version is refused with one line naming it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PC, type Leftovers } from '../../src/machine/pc.js';
import { parseInjectionSpec } from '../../src/faults/spec.js';
import { SnapshotFile } from '../../src/machine/snapshot.js';
import { DiskImage } from '../../src/machine/disk.js';
import { repoRoot, scratch } from '../support/build.js';
import { createMonitor, machineMemoryMiB } from '../../src/vmm/index.js';
import { guestKernel, guestDisk } from '../guest/scenarios.js';

const dir = scratch('vmm-snapshot');
const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
/** Faults that land after the shell prompt (about cycle 3 million), while forktest and stressfs run (until about cycle 15 million). */
const INJECT = ['--inject', 'poison:target=user-native,count=12,seed=5,window=4000000-14000000', '--inject', 'poison:target=user-mirror,count=6,seed=6,window=4000000-14000000'];
const WORK = ['--send', 'forktest; stressfs\\n', '--send', 'echo finished\\n', '--until', '^finished'];
const AT_PROMPT = ['--snapshot-at', '\\$ $'];

function memvisor(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, 'run', '--seed', '1', '--timeout', '300', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface RunStats {
  instructions: number;
  virtualCycles: number;
  faultOutcome: string;
  memoryErrors: Record<string, unknown> & { log: string[] };
}

/** The deterministic part of a run's --stats (host time left out). */
function deterministic(path: string): Omit<RunStats, 'memoryErrors'> & { memoryErrors: Record<string, unknown> } {
  const s = JSON.parse(readFileSync(path, 'utf8')) as RunStats;
  const { recoveryHostMs: _hostTime, ...errors } = s.memoryErrors;
  return { instructions: s.instructions, virtualCycles: s.virtualCycles, faultOutcome: s.faultOutcome, memoryErrors: errors };
}

test('snapshot + --inject: saved mid-plan and restored, or faults given only at the restore, ends exactly as the uninterrupted run', (t) => {
  // A: the uninterrupted run.
  const statsA = join(dir, 'a.json');
  const a = memvisor(...INJECT, ...WORK, '--stats', statsA);
  assert.equal(a.status, 0, a.stderr);
  const runA = deterministic(statsA);
  assert.ok((runA.memoryErrors.recoveredByMonitor as number) > 0, `no fault was recovered: ${JSON.stringify(runA.memoryErrors)}`);

  // B: the same faults planned at boot, the machine saved at the prompt (plan pending) and restored.
  const snapB = join(dir, 'b.snap'), statsB = join(dir, 'b.json');
  let r = memvisor(...INJECT, ...AT_PROMPT, '--snapshot', snapB, '--until', '\\$ $');
  assert.equal(r.status, 0, r.stderr);
  const b = memvisor('--restore', snapB, ...WORK, '--stats', statsB);
  assert.equal(b.status, 0, b.stderr);
  assert.deepEqual(deterministic(statsB), runA);
  assert.equal(b.stdout, a.stdout.slice(a.stdout.length - b.stdout.length), 'the console after the restore differs');

  // C: a machine saved with no faults at all; the faults come with the restore (a campaign's shape).
  const snapC = join(dir, 'c.snap'), statsC = join(dir, 'c.json');
  r = memvisor(...AT_PROMPT, '--snapshot', snapC, '--until', '\\$ $');
  assert.equal(r.status, 0, r.stderr);
  const c = memvisor('--restore', snapC, ...INJECT, ...WORK, '--stats', statsC);
  assert.equal(c.status, 0, c.stderr);
  assert.deepEqual(deterministic(statsC), runA);

  // D: saved after faults landed and were recovered (P2M switched, spare frames used, frames poisoned), then restored.
  const snapD = join(dir, 'd.snap'), statsD = join(dir, 'd.json');
  r = memvisor(...INJECT, ...WORK.slice(0, 4), '--snapshot-at', 'stressfs starting', '--snapshot', snapD, '--until', 'stressfs starting');
  assert.equal(r.status, 0, r.stderr);
  const d = memvisor('--restore', snapD, '--send', 'echo finished\\n', '--until', '^finished', '--stats', statsD);
  assert.equal(d.status, 0, d.stderr);
  assert.deepEqual(deterministic(statsD), runA);
  t.diagnostic(`${runA.memoryErrors.injected} injected, ${runA.memoryErrors.activated} consumed, ${runA.memoryErrors.recoveredByMonitor} recovered, ` +
    `outcome ${runA.faultOutcome}: the same in all four runs`);
});

/** A snapshot file rewritten: the header edited by `edit`, the checksum made valid again (unless `keepHash`). */
function rewrite(from: string, to: string, edit: (header: Record<string, any>) => void, keepHash = false): void {
  const bytes = readFileSync(from);
  const magic = 'MEMVISOR-SNAPSHOT\n'.length;
  const headerLength = bytes.readUInt32LE(magic);
  const header = JSON.parse(bytes.subarray(magic + 4, magic + 4 + headerLength).toString('utf8')) as Record<string, any>;
  edit(header);
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  const body = Buffer.concat([bytes.subarray(0, magic), length, json, bytes.subarray(magic + 4 + headerLength, bytes.length - 32)]);
  const hash = keepHash ? bytes.subarray(bytes.length - 32) : createHash('sha256').update(body).digest();
  writeFileSync(to, Buffer.concat([body, hash]));
}

test('snapshot files: a part of another version, an old format, an unknown part, a damaged or bit-flipped file are refused with one line', () => {
  const snap = join(dir, 'format.snap');
  let r = memvisor('--mirror', 'off', ...AT_PROMPT, '--snapshot', snap, '--until', '\\$ $');
  assert.equal(r.status, 0, r.stderr);
  const cases: Array<[string, (h: Record<string, any>) => void, RegExp, boolean?]> = [
    ['pit-v9', (h) => { h.parts.pit.version = 9; }, /part 'pit' is version 9 in this snapshot; this memvisor reads version 1/],
    ['cpu-v0', (h) => { h.parts.cpu.version = 0; }, /part 'cpu' is version 0 in this snapshot; this memvisor reads version 2/],
    ['monitor-v2', (h) => { h.parts.monitor.version = 2; }, /part 'monitor' is version 2 in this snapshot; this memvisor reads version 1/],
    ['format1', (h) => { h.format = 1; }, /snapshot format 1 \(written by memvisor [^)]*\); this memvisor reads format 2/],
    ['unknown-part', (h) => { h.parts.floppy = { version: 1, state: {} }; }, /parts this memvisor does not know: floppy/],
    ['missing-part', (h) => { delete h.parts['spare-pool']; }, /has no 'spare-pool' part/],
    ['bad-memory', (h) => { h.machine.memoryMiB = 'lots'; }, /header is damaged \(memory size lots MiB/],
    ['edited', (h) => { h.console.console += 'tampered'; }, /checksum does not match/, true],
    // Values of the wrong kind with a valid checksum (found by the fuzzer: each ran on past --timeout).
    ['clock-object', (h) => { h.parts.clock.state.idleCycles = { a: 1 }; }, /part 'clock' is damaged \(snapshot field idleCycles is \{"a":1\}, not a number\)/],
    ['pit-text', (h) => { h.parts.pit.state.irqAt = 'soon'; }, /part 'pit' is damaged \(snapshot field irqAt is "soon", not a number\)/],
    ['pit-channel', (h) => { h.parts.pit.state.channels[0].reload = [1]; }, /part 'pit' is damaged \(snapshot field reload is \[1\], not a number\)/],
    ['lapic-irr', (h) => { h.parts.lapic.state.irr = [1, 2]; }, /part 'lapic' is damaged \(snapshot field irr is \[1,2\], not what the field holds\)/],
  ];
  for (const [name, edit, pattern, keepHash] of cases) {
    const file = join(dir, `${name}.snap`);
    rewrite(snap, file, edit, keepHash);
    r = memvisor('--restore', file, '--until', 'never');
    assert.equal(r.status, 2, `${name}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${name}: ${r.stderr}`);
    assert.match(r.stderr, pattern, name);
  }
  // Bit flips anywhere in the file (header, memory, disks) are caught by the checksum.
  const bytes = readFileSync(snap);
  for (const at of [30, Math.floor(bytes.length / 3), Math.floor(bytes.length * 0.9), bytes.length - 1]) {
    const flipped = Buffer.from(bytes);
    flipped[at]! ^= 0x10;
    const file = join(dir, `flip-${at}.snap`);
    writeFileSync(file, flipped);
    r = memvisor('--restore', file, '--until', 'never');
    assert.equal(r.status, 2, `flip at ${at}: ${r.stderr}`);
    assert.match(r.stderr, /damaged|checksum|not a memvisor snapshot/);
  }
  // Settings that decide the machine's memory layout cannot change at a restore.
  r = memvisor('--restore', snap, '--mirror', 'hardware', '--until', 'never');
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /taken with --mirror off; it cannot continue with hardware/);
});

test('snapshot memory: a restore into the memory of a finished machine (as campaign runs do) takes it and its emptied TLB arrays over, copies back exactly the frames it wrote (through the TLB, the memory, or directly) and gives the saved bytes; memory of another size or restored from another image is copied whole', () => {
  const pc = new PC({ memoryMiB: 4, spareMiB: 1, rtcStart: 0 });
  const ram = pc.mem.ram;
  for (let at = 0; at < ram.length; at += 4093) ram[at] = (at >>> 3) & 0xff;
  const file = SnapshotFile.decode(SnapshotFile.capture(pc, [], { console: '', consumed: 0 }, 'test.snap').encode(), 'test.snap');
  const first = file.restoreMachine();
  // What a run leaves behind, written every way a run writes memory: the CPU's fast path
  // through write entries in its TLB, the memory's own writes, and direct writes told to it.
  const cpu = first.cpu, mem = first.mem;
  for (let page = 0; page < 1024; page += 3) {
    cpu.translate(page << 12, true, false);
    cpu.wr32((page << 12) + 8, 0x5a5a5a5a);
  }
  for (let page = 1; page < 1024; page += 3) mem.write32((page << 12) + 16, 0x12345678);
  mem.ram.fill(0xab, 1024 * 4096, mem.ram.length);  // the spare frames, as recovery copies into them
  mem.noteHostWrite(1024 * 4096, mem.ram.length - 1024 * 4096);
  // A write nobody was told of (which no part of memvisor makes) is left alone: only
  // frames written are copied back.
  const untold = 2 * 4096 + 100;
  mem.ram[untold] ^= 0xff;
  const left = first.leftovers();
  for (const [name, array] of Object.entries(left.tlb!) as Array<[string, Int32Array]>) assert.equal(array.findIndex((e) => e !== -1), -1, `TLB array ${name} is handed over with entries in it`);
  const second = file.restoreMachine(left);
  assert.equal(second.mem.ram, first.mem.ram, 'the finished machine\'s memory was not taken over');
  assert.equal(second.cpu.tlbR, left.tlb!.supR, 'the finished machine\'s TLB arrays were not taken over');
  const differs = second.mem.ram.findIndex((b, i) => b !== ram[i] && i !== untold);
  assert.equal(differs, -1, `byte 0x${differs.toString(16)} is not the saved one (a written frame was not copied back)`);
  assert.equal(second.mem.ram[untold], ram[untold]! ^ 0xff, 'a frame nobody wrote was copied too: the restore copied all of memory');
  // Another image (another snapshot) is copied whole, and so is memory of another size.
  const other = SnapshotFile.decode(SnapshotFile.capture(pc, [], { console: '', consumed: 0 }, 'other.snap').encode(), 'other.snap');
  const third = other.restoreMachine(second.leftovers());
  assert.equal(third.mem.ram, first.mem.ram);
  assert.equal(third.mem.ram.findIndex((b, i) => b !== ram[i]), -1, 'a restore from another image did not copy all of memory');
  const fresh = file.restoreMachine({ memory: { wasm: new WebAssembly.Memory({ initial: 16 }), ram: new Uint8Array(1 << 20), written: new Uint8Array(256), image: null } });
  assert.equal(fresh.mem.ram.length, ram.length);
  assert.equal(fresh.mem.ram.findIndex((b, i) => b !== ram[i]), -1);
});

test('snapshot disks: a disk restored from the image a finished machine\'s disk was restored from takes its bytes over and copies back exactly the 4 KiB chunks written; another image is copied whole', () => {
  const image = new Uint8Array(64 * 1024 + 512);
  for (let i = 0; i < image.length; i++) image[i] = (i * 7) & 0xff;
  const first = DiskImage.restore('test.img', image);
  assert.notEqual(first.data, image, 'a restored disk must not write into the snapshot\'s image');
  const sector = new Uint8Array(512).fill(0xee);
  first.write(3, sector, 0);                      // chunk 0
  first.write(9, sector, 0);                      // chunk 1
  first.write(image.length / 512 - 1, sector, 0); // the short last chunk
  // A change nobody made through write() stays: only chunks written are copied back.
  const untold = 40_000;
  first.data[untold]! ^= 0xff;
  const second = DiskImage.restore('test.img', image, first.leftover()!);
  assert.equal(second.data, first.data, 'the finished disk\'s bytes were not taken over');
  const differs = second.data.findIndex((b, i) => b !== image[i] && i !== untold);
  assert.equal(differs, -1, `disk byte ${differs} is not the image's (a written chunk was not copied back)`);
  assert.equal(second.data[untold], image[untold]! ^ 0xff, 'a chunk nobody wrote was copied too: the restore copied the whole disk');
  second.write(0, sector, 0);
  const third = DiskImage.restore('test.img', image, second.leftover()!);
  assert.equal(third.data[0], image[0], 'marks from an earlier restore were lost');
  // Another image is copied whole (not taken over).
  const other = image.slice();
  const fourth = DiskImage.restore('other.img', other, third.leftover()!);
  assert.notEqual(fourth.data, third.data);
  assert.equal(fourth.data.findIndex((b, i) => b !== other[i]), -1);
  assert.equal(DiskImage.open({ name: 'plain.img', bytes: image }, '--hdb').leftover(), null, 'a disk not restored from a snapshot has no image to restore');
});

test('snapshot memory after real runs: restored into the memory and disks of finished runs (MemV6 forking and writing files, poisoned pages the monitor recovers into spare frames), every byte of host memory and of the disk is the snapshot\'s again', async () => {
  const boot = { kernel: guestKernel, hdb: guestDisk, memoryMiB: machineMemoryMiB('guest'), rtcStart: 0 };
  const original = createMonitor({ machine: { boot }, mirror: 'guest' });
  let held: SnapshotFile | null = null;
  const atPrompt = await original.session({ prompt: /\$ $/, until: /\$ $/, snapshotAt: /\$ $/, saveSnapshot: (state) => { held = original.capture(state, 'held'); } }).run();
  assert.equal(atPrompt.outcome, 'matched');
  const file = held as unknown as SnapshotFile;
  const restored = file.restoreMachine();
  const image = restored.mem.ram.slice(), diskImage = restored.ide.drives[1]!.data.slice();
  const faults = [parseInjectionSpec('poison:target=user-native,count=8,seed=3,window=2000000-12000000'), parseInjectionSpec('poison:target=user-mirror,count=4,seed=4,window=2000000-12000000')];
  let reuse: Leftovers | undefined;
  for (let run = 0; run < 2; run++) {
    const m = createMonitor({ machine: { restore: file, reuse }, faults, recovery: 'monitor' });
    const r = await m.session({ send: ['forktest; stressfs\n', 'echo finished\n'], prompt: /\$ $/, until: /^finished/m, timeoutMs: 300_000 }).run();
    assert.equal(r.outcome, 'matched', r.output.slice(-400));
    if (run === 0) assert.ok(m.injector.injected > 0, 'no fault was injected');
    for (const d of m.pc.ide.drives) d?.close();
    assert.notEqual(m.pc.ide.drives[1]!.data.findIndex((b, i) => b !== diskImage[i]), -1, 'stressfs wrote nothing to the disk');
    reuse = m.pc.leftovers();
    const back = file.restoreMachine(reuse);
    assert.equal(back.mem.ram, reuse.memory!.ram);
    const differs = back.mem.ram.findIndex((b, i) => b !== image[i]);
    assert.equal(differs, -1, `after run ${run + 1}, host byte 0x${differs.toString(16)} is not the snapshot's`);
    assert.equal(back.ide.drives[1]!.data, reuse.disks![1]!.data, 'the finished run\'s disk bytes were not taken over');
    const diskDiffers = back.ide.drives[1]!.data.findIndex((b, i) => b !== diskImage[i]);
    assert.equal(diskDiffers, -1, `after run ${run + 1}, disk byte ${diskDiffers} is not the snapshot's`);
    for (const d of back.ide.drives) d?.close();
    reuse = back.leftovers();
  }
});

test('snapshot in memory (as campaigns take it): restored, it runs exactly as the file it encodes to and as the machine it was taken of, which ran on after it', async () => {
  const boot = { kernel: guestKernel, hdb: guestDisk, memoryMiB: machineMemoryMiB('guest'), rtcStart: 0 };
  const original = createMonitor({ machine: { boot }, mirror: 'guest' });
  let held: SnapshotFile | null = null;
  const work = { send: ['forktest; stressfs\n', 'echo finished\n'], prompt: /\$ $/, until: /^finished/m, timeoutMs: 300_000 };
  const first = await original.session({ ...work, snapshotAt: /\$ $/, saveSnapshot: (state) => { held = original.capture(state, 'held'); } }).run();
  assert.equal(first.outcome, 'matched');
  const captured = held as unknown as SnapshotFile;
  const ends: Array<{ instructions: number; output: string; disk: string }> = [];
  for (const file of [captured, SnapshotFile.decode(captured.encode(), 'encoded.snap'), captured]) {
    const m = createMonitor({ machine: { restore: file } });
    const r = await m.session(work).run();
    assert.equal(r.outcome, 'matched');
    ends.push({ instructions: m.pc.cpu.instructionCount, output: r.output, disk: createHash('sha256').update(m.pc.ide.drives[1]!.data).digest('hex') });
  }
  assert.deepEqual(ends[1], ends[0], 'the encoded file runs differently from the snapshot in memory');
  assert.deepEqual(ends[2], ends[0], 'restoring the snapshot in memory a second time runs differently (a run changed what it holds)');
  assert.equal(ends[0]!.instructions, original.pc.cpu.instructionCount, 'the restored machine ends elsewhere than the machine the snapshot was taken of');
  assert.equal(createHash('sha256').update(original.pc.ide.drives[1]!.data).digest('hex'), ends[0]!.disk);
});
