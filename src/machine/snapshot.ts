/**
 * Snapshot files: the whole machine (CPU, memory, every device, the disks as the guest
 * has changed them, the virtual clock, the console transcript) in one file, so that a
 * restored machine continues exactly as the original would have.
 *
 * Format: the line "MEMVISOR-SNAPSHOT\n", a 32-bit little-endian header length, the
 * header as JSON (format number, memvisor version, configuration, CPU and device state,
 * blob sizes), then the blobs (memory and disk images), each compressed with raw deflate.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { CpuSnapshot } from '../cpu/index.js';
import { MemvisorError } from '../errors.js';
import { VERSION } from '../paths.js';
import type { DeviceState } from './device.js';
import { DiskImage } from './disk.js';
import { PC, type ExitCounts } from './pc.js';

const MAGIC = 'MEMVISOR-SNAPSHOT\n';
export const SNAPSHOT_FORMAT = 1;

interface Header {
  format: number;
  memvisor: string;
  memoryMiB: number;
  rtcStart: number;
  debugExit: boolean;
  spareMiB: number;
  cpu: CpuSnapshot;
  idleCycles: number;
  exits: ExitCounts;
  devices: Record<string, DeviceState>;
  disks: Array<{ unit: 0 | 1; path: string } | null>;
  blobs: number[];
  console: ConsoleState;
}

/** The console transcript at the snapshot, and how much of it --send text had answered. */
export interface ConsoleState {
  console: string;
  consumed: number;
}

/** JSON has no Infinity; device deadlines use it for "never". */
const replacer = (_key: string, value: unknown) => (value === Infinity ? '∞' : value);
const reviver = (_key: string, value: unknown) => (value === '∞' ? Infinity : value);

export function encodeSnapshot(pc: PC, consoleState: ConsoleState): Buffer {
  const disks = [pc.ide.drives[0], pc.ide.drives[1]];
  const blobs = [deflateRawSync(pc.mem.ram), ...disks.filter((d): d is DiskImage => d !== null).map((d) => deflateRawSync(d.data))];
  const header: Header = {
    format: SNAPSHOT_FORMAT,
    memvisor: VERSION,
    memoryMiB: pc.options.memoryMiB,
    rtcStart: pc.options.rtcStart,
    debugExit: pc.options.debugExit ?? false,
    spareMiB: pc.options.spareMiB ?? 0,
    cpu: pc.cpu.saveState(),
    idleCycles: pc.idleCycles,
    exits: { ...pc.exits },
    devices: Object.fromEntries(pc.devices.map((d) => [d.name, d.save()])),
    disks: disks.map((d, unit) => (d ? { unit: unit as 0 | 1, path: d.path } : null)),
    blobs: blobs.map((b) => b.length),
    console: consoleState,
  };
  const json = Buffer.from(JSON.stringify(header, replacer));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  return Buffer.concat([Buffer.from(MAGIC), length, json, ...blobs]);
}

/** Writes a snapshot atomically (a temporary file renamed into place): never half-written. */
export function saveSnapshot(path: string, pc: PC, consoleState: ConsoleState): void {
  const temporary = `${path}.partial`;
  try {
    writeFileSync(temporary, encodeSnapshot(pc, consoleState));
    renameSync(temporary, path);
  } catch (e) {
    throw new MemvisorError(`--snapshot ${path}: cannot write the snapshot (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

export interface RestoredMachine extends ConsoleState {
  pc: PC;
}

export function decodeSnapshot(bytes: Buffer, path: string): RestoredMachine {
  const bad = (why: string) => new MemvisorError(`--restore ${path}: ${why}`);
  if (bytes.length < MAGIC.length + 4 || bytes.subarray(0, MAGIC.length).toString('latin1') !== MAGIC) throw bad('not a memvisor snapshot');
  const headerLength = bytes.readUInt32LE(MAGIC.length);
  let header: Header;
  try {
    header = JSON.parse(bytes.subarray(MAGIC.length + 4, MAGIC.length + 4 + headerLength).toString('utf8'), reviver) as Header;
  } catch {
    throw bad('the snapshot header is damaged');
  }
  if (header.format !== SNAPSHOT_FORMAT || header.memvisor !== VERSION) {
    throw bad(`snapshot from memvisor ${header.memvisor} (format ${header.format}); this is memvisor ${VERSION} (format ${SNAPSHOT_FORMAT})`);
  }
  let at = MAGIC.length + 4 + headerLength;
  const blobs: Buffer[] = [];
  try {
    for (const size of header.blobs) {
      if (at + size > bytes.length) throw new Error('truncated');
      blobs.push(inflateRawSync(bytes.subarray(at, at + size)));
      at += size;
    }
  } catch {
    throw bad('the snapshot is truncated or damaged');
  }
  const disks: Array<DiskImage | null> = [null, null];
  let next = 1;
  for (const d of header.disks) {
    if (d) disks[d.unit] = new DiskImage(d.path, new Uint8Array(blobs[next++]!), false);
  }
  const pc = new PC({ memoryMiB: header.memoryMiB, rtcStart: header.rtcStart, debugExit: header.debugExit, spareMiB: header.spareMiB, hda: disks[0], hdb: disks[1] });
  if (blobs[0]!.length !== pc.mem.ram.length) throw bad('the memory image has the wrong size');
  pc.mem.ram.set(blobs[0]!);
  try {
    for (const d of pc.devices) d.restore(header.devices[d.name] ?? {});
  } catch (e) {
    throw bad(`device state does not match this memvisor (${(e as Error).message})`);
  }
  pc.cpu.restoreState(header.cpu);
  pc.idleCycles = header.idleCycles;
  Object.assign(pc.exits, header.exits);
  return { pc, ...header.console };
}

export function loadSnapshot(path: string): RestoredMachine {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new MemvisorError(`--restore ${path}: cannot read the snapshot (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return decodeSnapshot(bytes, path);
}
