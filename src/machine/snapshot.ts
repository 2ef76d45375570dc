/**
 * Snapshot files: the whole machine (CPU, memory with its guest-physical → host map and
 * page flags, every device, the disks as the guest has changed them, the virtual clock,
 * the console transcript) and every part of the monitor built on it (mirror mode, spare
 * pool, fault plan and its progress, statistics), so that a restored machine continues
 * exactly as the original would have.
 *
 * Each part is a section with its own version (as QEMU's VMState): a new field in one
 * device changes that device's version only, and a file is refused naming the part and
 * the versions when they do not match, never restored half-way. The file ends with a
 * SHA-256 of everything before it, checked before anything is parsed.
 *
 * Layout: "MEMVISOR-SNAPSHOT\n", a 32-bit little-endian header length, the header as JSON
 * (format, the memvisor that wrote it, machine configuration, parts, disks, blob sizes,
 * console), the blobs (memory, P2M, page flags, disk images; each raw deflate), the hash.
 */
import { createHash } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { PAGE_HOOK, PAGE_WRITE_HOOK } from '../cpu/memory.js';
import { CPU_STATE_VERSION, type CpuSnapshot } from '../cpu/index.js';
import { MemvisorError } from '../errors.js';
import { INPUT, readInputFile } from '../input-file.js';
import { VERSION } from '../paths.js';
import { stateNumber, type DeviceState, type SnapshotPart } from './device.js';
import { machineMemoryProblem } from './boot.js';
import { DiskImage } from './disk.js';
import { PC, type ExitCounts, type Leftovers } from './pc.js';

const MAGIC = 'MEMVISOR-SNAPSHOT\n';
/** The file's layout; the parts inside have versions of their own. */
export const SNAPSHOT_FORMAT = 2;
const HASH_BYTES = 32;
/** Page flags that belong to the machine's state (the CPU's code marks are rebuilt, MMIO is fixed). */
const SAVED_PAGE_FLAGS = PAGE_HOOK | PAGE_WRITE_HOOK;

interface MachineConfig {
  memoryMiB: number;
  spareMiB: number;
  rtcStart: number;
  debugExit: boolean;
  kernelFrames: [number, number] | null;
}

interface Header {
  format: number;
  memvisor: string;
  machine: MachineConfig;
  parts: Record<string, { version: number; state: DeviceState }>;
  disks: Array<{ unit: 0 | 1; path: string } | null>;
  /** Compressed sizes: memory, P2M, page flags, then the disks in unit order. */
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

const bytesOf = (a: Int32Array | Uint8Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

const sha256 = (bytes: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(bytes).digest());

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The CPU and the clock are parts too, beside the devices. */
function machineParts(pc: PC): SnapshotPart[] {
  const cpu: SnapshotPart = {
    name: 'cpu', version: CPU_STATE_VERSION,
    save: () => pc.cpu.saveState() as unknown as DeviceState,
    restore: (state) => pc.cpu.restoreState(state as unknown as CpuSnapshot),
  };
  const clock: SnapshotPart = {
    name: 'clock', version: 1,
    save: () => ({ idleCycles: pc.idleCycles, exits: { ...pc.exits } }),
    restore: (state) => {
      const idle = stateNumber(state, 'idleCycles');
      if (!Number.isSafeInteger(idle) || idle < 0) throw new Error(`idleCycles ${idle} is not a cycle count`);
      const exits = state.exits as DeviceState;
      if (typeof exits !== 'object' || exits === null) throw new Error('exits is not a set of counts');
      for (const key of Object.keys(pc.exits)) stateNumber(exits, key);
      pc.idleCycles = idle;
      Object.assign(pc.exits, exits as unknown as ExitCounts);
    },
  };
  return [cpu, clock, ...pc.devices];
}

/** Writes a file atomically (a temporary file renamed into place): never half-written. */
export function writeSnapshotFile(path: string, bytes: Uint8Array): void {
  const temporary = `${path}.partial`;
  try {
    writeFileSync(temporary, bytes);
    renameSync(temporary, path);
  } catch (e) {
    throw new MemvisorError(`--snapshot ${path}: cannot write the snapshot (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/**
 * A snapshot file read and checked (magic, hash, format, header): the machine can be
 * rebuilt from it, then each part of the monitor restores its own section.
 */
export class SnapshotFile {
  private readonly used = new Set<string>();

  private constructor(readonly path: string, private readonly header: Header, private readonly blobs: Uint8Array[]) {}

  /**
   * The machine and the monitor's parts as they are now, held in memory without the
   * file's compression and checksum (a campaign restores one for every run: deflating and
   * inflating 144 MiB cost each worker about half a second). Each part's state goes
   * through the file's JSON form, so a restore sees what it would read from the file.
   */
  static capture(pc: PC, monitorParts: SnapshotPart[], consoleState: ConsoleState, path: string): SnapshotFile {
    const disks = [pc.ide.drives[0], pc.ide.drives[1]];
    const mem = pc.mem;
    const flags = mem.pageFlags.slice(0, mem.guestSize >>> 12).map((f) => f & SAVED_PAGE_FLAGS);
    const blobs = [mem.ram.slice(), bytesOf(mem.p2m).slice(), flags, ...disks.filter((d): d is DiskImage => d !== null).map((d) => d.data.slice())];
    const parts: Header['parts'] = {};
    for (const part of [...machineParts(pc), ...monitorParts]) {
      if (parts[part.name]) throw new Error(`internal error: two snapshot parts named ${part.name}`);
      parts[part.name] = { version: part.version, state: JSON.parse(JSON.stringify(part.save(), replacer), reviver) as DeviceState };
    }
    const header: Header = {
      format: SNAPSHOT_FORMAT,
      memvisor: VERSION,
      machine: {
        memoryMiB: pc.options.memoryMiB, spareMiB: pc.options.spareMiB ?? 0, rtcStart: pc.options.rtcStart,
        debugExit: pc.options.debugExit ?? false, kernelFrames: pc.kernelFrames,
      },
      parts,
      disks: disks.map((d, unit) => (d ? { unit: unit as 0 | 1, path: d.path } : null)),
      blobs: [],
      console: structuredClone(consoleState),
    };
    return new SnapshotFile(path, header, blobs);
  }

  /** The file's bytes: magic, header length, JSON header, deflated memory and disk images, SHA-256 of all that. */
  encode(): Uint8Array {
    const blobs = this.blobs.map((b) => deflateRawSync(b));
    const json = new TextEncoder().encode(JSON.stringify({ ...this.header, blobs: blobs.map((b) => b.length) }, replacer));
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, json.length, true);
    const body = concatBytes([new TextEncoder().encode(MAGIC), length, json, ...blobs]);
    return concatBytes([body, sha256(body)]);
  }

  static read(path: string): SnapshotFile {
    return SnapshotFile.decode(readInputFile(path, INPUT.snapshot, `--restore ${path}`), path);
  }

  /** A snapshot file's bytes (`path` names it in messages). */
  static decode(bytes: Uint8Array, path: string): SnapshotFile {
    const bad = (why: string) => new MemvisorError(`--restore ${path}: ${why}`);
    if (bytes.length < MAGIC.length + 4 || String.fromCharCode(...bytes.subarray(0, MAGIC.length)) !== MAGIC) throw bad('not a memvisor snapshot');
    const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(MAGIC.length, true);
    const headerEnd = MAGIC.length + 4 + headerLength;
    if (headerEnd > bytes.length) throw bad('the snapshot is truncated');
    let header: Header;
    try {
      header = JSON.parse(new TextDecoder().decode(bytes.subarray(MAGIC.length + 4, headerEnd)), reviver) as Header;
    } catch {
      throw bad('the snapshot header is damaged');
    }
    if (typeof header !== 'object' || header === null) throw bad('the snapshot header is damaged');
    if (header.format !== SNAPSHOT_FORMAT) {
      throw bad(`snapshot format ${String(header.format)} (written by memvisor ${String(header.memvisor)}); this memvisor reads format ${SNAPSHOT_FORMAT}: take the snapshot again`);
    }
    const body = bytes.subarray(0, bytes.length - HASH_BYTES);
    if (bytes.length < headerEnd + HASH_BYTES || !sameBytes(sha256(body), bytes.subarray(body.length))) {
      throw bad('the snapshot is damaged or truncated (its checksum does not match)');
    }
    const shape = checkHeader(header);
    if (shape) throw bad(`the snapshot header is damaged (${shape})`);
    const blobs: Uint8Array[] = [];
    let at = headerEnd;
    try {
      for (const size of header.blobs) {
        blobs.push(inflateRawSync(bytes.subarray(at, at + size)));
        at += size;
      }
    } catch {
      throw bad('the snapshot is damaged (a memory or disk image does not inflate)');
    }
    if (at !== body.length) throw bad('the snapshot is damaged (its blobs do not fill the file)');
    return new SnapshotFile(path, header, blobs);
  }

  get console(): ConsoleState {
    return this.header.console;
  }

  /** Restores one part from its section, refusing a missing section or another version. */
  restorePart(part: SnapshotPart): void {
    const section = this.header.parts[part.name];
    if (!section) throw new MemvisorError(`--restore ${this.path}: the snapshot has no '${part.name}' part (it was saved by a memvisor with a different set-up)`);
    if (section.version !== part.version) {
      throw new MemvisorError(`--restore ${this.path}: part '${part.name}' is version ${section.version} in this snapshot; this memvisor reads version ${part.version}`);
    }
    try {
      // A copy: a part may keep (and later change) what it is given, and a file can be restored many times.
      part.restore(structuredClone(section.state));
    } catch (e) {
      if (e instanceof MemvisorError) throw e;
      throw new MemvisorError(`--restore ${this.path}: part '${part.name}' is damaged (${(e as Error).message})`);
    }
    this.used.add(part.name);
  }

  /** The saved state of a part, for a part that must know it before it can be built (the monitor's configuration). */
  partState(name: string, version: number): DeviceState {
    const section = this.header.parts[name];
    if (!section) throw new MemvisorError(`--restore ${this.path}: the snapshot has no '${name}' part`);
    if (section.version !== version) throw new MemvisorError(`--restore ${this.path}: part '${name}' is version ${section.version} in this snapshot; this memvisor reads version ${version}`);
    return section.state;
  }

  /**
   * Builds the PC the snapshot was taken of and restores its memory, processor and devices.
   * `reuse`: what a finished machine left (PC.leftovers): its memory is taken over if it
   * has the size (a campaign restores one snapshot for every run; filling new memory cost
   * a tenth of a second a run), and the image overwrites every byte of it (only the frames
   * the finished machine wrote, when it was restored from this snapshot too); so are its
   * disks' bytes (a 16 MiB copy a run; only the 4 KiB chunks it wrote).
   */
  restoreMachine(reuse?: Leftovers): PC {
    this.used.clear();
    const h = this.header, m = h.machine;
    const diskCount = h.disks.filter((d) => d !== null).length;
    if (this.blobs.length !== 3 + diskCount) throw new MemvisorError(`--restore ${this.path}: the snapshot is damaged (${this.blobs.length} blobs for ${diskCount} disks)`);
    const disks: Array<DiskImage | null> = [null, null];
    let next = 3;
    for (const d of h.disks) {
      if (d) disks[d.unit] = DiskImage.restore(d.path, this.blobs[next++]!, reuse?.disks?.[d.unit]);
    }
    const pc = new PC({ memoryMiB: m.memoryMiB, rtcStart: m.rtcStart, debugExit: m.debugExit, spareMiB: m.spareMiB, hda: disks[0], hdb: disks[1], reuse });
    pc.kernelFrames = m.kernelFrames;
    const mem = pc.mem;
    const [ram, p2m, flags] = this.blobs as [Uint8Array, Uint8Array, Uint8Array];
    if (ram.length !== mem.ram.length || p2m.length !== mem.p2m.byteLength || flags.length !== mem.guestSize >>> 12) {
      throw new MemvisorError(`--restore ${this.path}: the memory image does not match the machine's memory size`);
    }
    mem.restoreImage(ram);
    const map = new Int32Array(p2m.buffer.slice(p2m.byteOffset, p2m.byteOffset + p2m.length));
    if (!mem.setGuestToHostMap(map)) throw new MemvisorError(`--restore ${this.path}: the guest-physical → host map is damaged`);
    for (let page = 0; page < flags.length; page++) mem.pageFlags[page] = flags[page]! & SAVED_PAGE_FLAGS;
    for (const part of machineParts(pc)) this.restorePart(part);
    return pc;
  }

  /** Every section was restored by someone: a part this memvisor does not know is refused. */
  finish(): void {
    const unknown = Object.keys(this.header.parts).filter((name) => !this.used.has(name));
    if (unknown.length) throw new MemvisorError(`--restore ${this.path}: the snapshot has parts this memvisor does not know: ${unknown.join(', ')}`);
  }
}

/** What a header must have before anything is built from it; a description of the first problem, or null. */
function checkHeader(h: Header): string | null {
  const m = h.machine;
  if (typeof m !== 'object' || m === null) return 'no machine configuration';
  if (machineMemoryProblem(m.memoryMiB, m.spareMiB) !== null) return `memory size ${String(m.memoryMiB)} MiB with ${String(m.spareMiB)} MiB reserved`;
  if (typeof m.rtcStart !== 'number') return 'no RTC date';
  if (typeof h.parts !== 'object' || h.parts === null) return 'no parts';
  for (const [name, section] of Object.entries(h.parts)) {
    if (typeof section !== 'object' || section === null || !Number.isInteger(section.version) || typeof section.state !== 'object' || section.state === null) return `part '${name}'`;
  }
  if (!Array.isArray(h.disks) || h.disks.length !== 2) return 'disks';
  for (const d of h.disks) if (d !== null && (typeof d !== 'object' || (d.unit !== 0 && d.unit !== 1) || typeof d.path !== 'string')) return 'disks';
  if (!Array.isArray(h.blobs) || !h.blobs.every((b) => Number.isInteger(b) && b >= 0)) return 'blob sizes';
  if (typeof h.console !== 'object' || h.console === null || typeof h.console.console !== 'string' || !Number.isInteger(h.console.consumed)) return 'console';
  return null;
}
