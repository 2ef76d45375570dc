/**
 * Guest-physical memory: one host ArrayBuffer, a guest-physical → host frame map
 * (P2M, identity unless the hypervisor remaps a frame), per-page hook flags, and
 * memory-mapped devices. Accesses to pages with any flag set take the slow path, so
 * hooks cost nothing on ordinary pages.
 */
import type { AccessSize, MmioDevice } from './bus.js';
import { Listeners } from './listeners.js';

export const PAGE_MMIO = 1;
export const PAGE_HOOK = 2;
/** Writes notify writeListeners after they land (the CPU's marked write path); reads stay fast. */
export const PAGE_WRITE_HOOK = 4;
/**
 * The page holds compiled code: reads stay fast; writes take the CPU's marked-write path,
 * which drops the blocks only when the bytes written hold code (64-byte lines).
 */
export const PAGE_CODE = 8;
/** Flags that still let the TLB cache a page (reads fast, writes through the marked-write path). */
export const READ_CACHEABLE = PAGE_WRITE_HOOK | PAGE_CODE;

/**
 * The most host memory a machine (or a user-mode process) may have: host offsets are
 * 31-bit, because TLB entries are `hostPage ^ linearPage` in an Int32Array whose -1 means
 * "not cached" and the fast paths index typed arrays with `entry ^ linear`.
 */
export const MAX_HOST_BYTES = 2 ** 31;
export const MiB = 1024 * 1024;

/**
 * A machine's host memory as the next machine takes it over (PC.leftovers, a campaign's
 * runs): the bytes, and which frames may have been written since they last held all of
 * `image` (a snapshot's memory image, restored into them), so that restoring the same
 * image again copies only those frames.
 */
export interface HostMemory {
  /** The WebAssembly memory that holds `ram` (from byte 0) and the CPU state area after it. */
  wasm: WebAssembly.Memory;
  ram: Uint8Array;
  written: Uint8Array;
  image: Uint8Array | null;
}

/**
 * Copies back into `bytes` the pieces of `image` (`unit` bytes each) that `marks` says
 * were written since `bytes` held all of it, runs of marked pieces at a time, and clears
 * the marks (a snapshot's memory or disk restored into the bytes of a finished machine).
 */
export function copyBackMarked(bytes: Uint8Array, image: Uint8Array, marks: Uint8Array, unit: number): void {
  for (let piece = 0; piece < marks.length;) {
    if (!marks[piece]) { piece++; continue; }
    const first = piece;
    while (piece < marks.length && marks[piece]) piece++;
    bytes.set(image.subarray(first * unit, piece * unit), first * unit);
  }
  marks.fill(0);
}

/**
 * The CPU state area, after host memory in the same WebAssembly memory (so that code the
 * compiled tier writes in WebAssembly reaches guest memory, the TLB and the registers
 * alike): the four TLB arrays (user/supervisor × read/write, 4 MiB each), then the
 * register file, the segment selectors and the WebAssembly tier's slots and tables.
 * Offsets from `PhysicalMemory.stateBase`.
 */
export const STATE_TLB_USER_R = 0;
export const STATE_TLB_USER_W = 4 << 20;
export const STATE_TLB_SUP_R = 8 << 20;
export const STATE_TLB_SUP_W = 12 << 20;
export const STATE_REGISTERS = 16 << 20;
/** The six segment selectors (ES CS SS DS FS GS, an int32 each): blocks push them (PUSH sreg). */
export const STATE_SELECTORS = STATE_REGISTERS + 256;
/** The WebAssembly tier's successor cache (tier.ts dispatchCode): four int32 per slot, in the register file's 64 KiB. */
export const STATE_SUCCESSORS = STATE_REGISTERS + 32768;
export const STATE_SUCCESSOR_SLOTS = 2048;
/** The WebAssembly tier's block table: one entry of four int32 (host, eip, function index, pass: the batch it needs, Block.pass) per slot of the block cache. */
export const STATE_BLOCKS = (16 << 20) + 65536;
export const STATE_BLOCK_SLOTS = 1 << 18;
const STATE_BYTES = STATE_BLOCKS + STATE_BLOCK_SLOTS * 16;
const WASM_PAGE = 65536;

/** A WebAssembly memory of host memory (`hostBytes`, rounded up to whole pages) and the state area. */
function wasmMemory(hostBytes: number): WebAssembly.Memory {
  const pages = Math.ceil(hostBytes / WASM_PAGE) + STATE_BYTES / WASM_PAGE;
  return new WebAssembly.Memory({ initial: pages, maximum: pages });
}

interface MmioRegion {
  base: number;
  end: number;
  device: MmioDevice;
}

export class PhysicalMemory {
  readonly guestSize: number;
  /** Holds `ram` from byte 0, then the CPU state area at `stateBase`. */
  readonly wasm: WebAssembly.Memory;
  readonly stateBase: number;
  readonly ram: Uint8Array;
  readonly view: DataView;
  /** Guest-physical page number → host frame number (change it with remap). */
  readonly p2m: Int32Array;
  /** Host frame → the guest page mapped to it, or -1. */
  private readonly h2g: Int32Array;
  /** Per guest-physical page (covering the whole 4 GiB space); non-zero = slow path. */
  readonly pageFlags: Uint8Array;
  /**
   * Told before every access to a RAM page whose flags include PAGE_HOOK (poisoned
   * pages). A listener may remap the page (P2M) before the access happens, or abort the
   * access by throwing (a machine check).
   */
  readonly accessListeners = new Listeners<[guestPhys: number, size: number, write: boolean]>();
  /** Told after every write to a RAM page whose flags include PAGE_WRITE_HOOK. */
  readonly writeListeners = new Listeners<[guestPhys: number, size: number]>();
  /** Called when bytes compiled code was made from are written (the CPU forgets that frame's blocks). */
  onCodeWrite: ((hostFrame: number) => void) | null = null;
  /** Per 64-byte line of host memory: 1 while compiled code was made from it. */
  private readonly codeLines: Uint8Array;
  /** Per host frame: 1 while any of its lines holds compiled code. */
  private readonly codeFrames: Uint8Array;
  private readonly regions: MmioRegion[] = [];
  /**
   * Per host frame: 1 if it may have been written since the memory last held all of
   * `image`. Every write to host memory marks its frame: the CPU's when it gives a page
   * a write entry in its TLB (its fast paths write only through those), these methods'
   * writes, and everyone who writes host memory directly, through noteHostWrite.
   */
  private readonly written: Uint8Array;
  /** The image the memory holds outside the frames in `written` (null: none known). */
  private image: Uint8Array | null;

  /**
   * `reuse`: the host memory of a machine that is finished, taken over when it has the
   * right size; its bytes are left as they are, so only a caller that overwrites all of
   * them (a snapshot restore, restoreImage) may pass it.
   */
  constructor(guestBytes: number, hostBytes = guestBytes, reuse?: HostMemory) {
    if (guestBytes % 4096 !== 0 || hostBytes < guestBytes || hostBytes > MAX_HOST_BYTES) throw new Error('internal error: memory sizes');
    this.guestSize = guestBytes;
    const taken = reuse !== undefined && reuse.ram.length === hostBytes && reuse.ram.byteOffset === 0 && reuse.written.length === hostBytes / 4096;
    this.wasm = taken ? reuse.wasm : wasmMemory(hostBytes);
    this.stateBase = Math.ceil(hostBytes / WASM_PAGE) * WASM_PAGE;
    this.ram = taken ? reuse.ram : new Uint8Array(this.wasm.buffer, 0, hostBytes);
    this.written = taken ? reuse.written : new Uint8Array(hostBytes / 4096);
    this.image = taken ? reuse.image : null;
    this.view = new DataView(this.ram.buffer);
    this.p2m = new Int32Array(guestBytes / 4096);
    for (let i = 0; i < this.p2m.length; i++) this.p2m[i] = i;
    this.h2g = new Int32Array(hostBytes / 4096).fill(-1);
    this.h2g.set(this.p2m);
    this.pageFlags = new Uint8Array(1 << 20);
    this.pageFlags.fill(PAGE_MMIO, guestBytes >>> 12);
    this.codeLines = new Uint8Array(hostBytes / 64);
    this.codeFrames = new Uint8Array(hostBytes / 4096);
  }

  /**
   * Records that code was compiled from host bytes [start, end) (in one frame) and marks
   * the guest page mapped there PAGE_CODE; true if the page was not marked before.
   */
  markCode(start: number, end: number): boolean {
    this.codeLines.fill(1, start >>> 6, ((end - 1) >>> 6) + 1);
    this.codeFrames[start >>> 12] = 1;
    const page = this.h2g[start >>> 12]!;
    if (page < 0 || this.pageFlags[page]! & PAGE_CODE) return false;
    this.pageFlags[page] |= PAGE_CODE;
    return true;
  }

  /** The frame's compiled code is gone: its lines are plain data again, its page unmarked. */
  unmarkCode(hostFrame: number): void {
    this.codeFrames[hostFrame] = 0;
    this.codeLines.fill(0, hostFrame << 6, (hostFrame + 1) << 6);
    const page = this.h2g[hostFrame]!;
    if (page >= 0) this.pageFlags[page] &= ~PAGE_CODE;
  }

  /** This memory, for a machine that takes it over (this one must not run again). */
  hostMemory(): HostMemory {
    return { wasm: this.wasm, ram: this.ram, written: this.written, image: this.image };
  }

  /**
   * Host frame `frame` may be written from now on without the memory hearing of it (the
   * CPU gives a page a write entry in its TLB).
   */
  markWritten(frame: number): void {
    this.written[frame] = 1;
  }

  /**
   * Makes all of host memory hold `image` (a snapshot's): when it held all of the same
   * image before, only the frames written since are copied (a run of a campaign's
   * workload wrote 434 of its 36,864 frames; the whole copy cost 60 ms a run).
   */
  restoreImage(image: Uint8Array): void {
    if (image.length !== this.ram.length) throw new Error('internal error: memory image size');
    if (this.image !== image) {
      this.ram.set(image);
      this.written.fill(0);
    } else copyBackMarked(this.ram, image, this.written, 4096);
    this.image = image;
  }

  /** `size` bytes at host offset `host` (within one frame) were written: drop code made from them. */
  wroteCode(host: number, size: number): void {
    if (!this.codeFrames[host >>> 12]) return;
    for (let line = host >>> 6; line <= (host + size - 1) >>> 6; line++) {
      if (this.codeLines[line]) {
        this.onCodeWrite?.(host >>> 12);
        return;
      }
    }
  }

  /**
   * Whoever writes host memory directly (loaders, the hypervisor, system calls of the
   * user-mode runner) reports it here, so compiled code made from those bytes is dropped
   * and a restore of the image the memory held copies those frames back.
   */
  noteHostWrite(hostOffset: number, length: number): void {
    const last = (hostOffset + Math.max(length, 1) - 1) >>> 12;
    for (let frame = hostOffset >>> 12; frame <= last; frame++) {
      this.written[frame] = 1;
      if (this.codeFrames[frame]) this.onCodeWrite?.(frame);
    }
  }

  /** The guest page that maps to host frame `hostFrame`, or -1. */
  guestPageOf(hostFrame: number): number {
    return this.h2g[hostFrame]!;
  }

  /**
   * Replaces the whole guest-physical → host map (a restored snapshot); false if it is not
   * a one-to-one map into host memory.
   */
  setGuestToHostMap(map: Int32Array): boolean {
    if (map.length !== this.p2m.length) return false;
    const seen = new Uint8Array(this.h2g.length);
    for (const frame of map) {
      if (frame < 0 || frame >= seen.length || seen[frame]) return false;
      seen[frame] = 1;
    }
    this.h2g.fill(-1);
    for (let page = 0; page < map.length; page++) {
      this.p2m[page] = map[page]!;
      this.h2g[map[page]!] = page;
    }
    return true;
  }

  /** Guest page `guestPage` is backed by host frame `hostFrame` from now on (the caller flushes TLBs). */
  remap(guestPage: number, hostFrame: number): void {
    const old = this.p2m[guestPage]!;
    if (this.h2g[old] === guestPage) this.h2g[old] = -1;
    this.p2m[guestPage] = hostFrame;
    this.h2g[hostFrame] = guestPage;
  }

  /**
   * `size` bytes landed at host offset `host` (within one frame) of a page with PAGE_CODE
   * or PAGE_WRITE_HOOK (the CPU's marked-write path, or slowWrite): compiled code made from
   * those bytes is dropped and the write hook runs.
   */
  afterMarkedWrite(host: number, size: number): void {
    this.wroteCode(host, size);
    const notify = this.writeListeners.dispatch;
    if (notify !== null) {
      const page = this.h2g[host >>> 12]!;
      if (page >= 0 && this.pageFlags[page]! & PAGE_WRITE_HOOK) notify((page << 12) | (host & 0xfff), size);
    }
  }

  mapMmio(base: number, length: number, device: MmioDevice): void {
    this.regions.push({ base: base >>> 0, end: (base + length) >>> 0, device });
    for (let page = base >>> 12; page < (base + length + 4095) >>> 12; page++) this.pageFlags[page] |= PAGE_MMIO;
  }

  /** The host offset of a guest-physical address in ordinary RAM. */
  hostOffset(guestPhys: number): number {
    return (this.p2m[guestPhys >>> 12]! << 12) | (guestPhys & 0xfff);
  }

  read8(p: number): number {
    p >>>= 0;
    if (this.pageFlags[p >>> 12] === 0) return this.ram[this.hostOffset(p)]!;
    return this.slowRead(p, 1);
  }

  read16(p: number): number {
    p >>>= 0;
    if ((p & 0xfff) <= 0xffe && this.pageFlags[p >>> 12] === 0) return this.view.getUint16(this.hostOffset(p), true);
    return (p & 0xfff) <= 0xffe ? this.slowRead(p, 2) : this.read8(p) | (this.read8(p + 1) << 8);
  }

  read32(p: number): number {
    p >>>= 0;
    if ((p & 0xfff) <= 0xffc && this.pageFlags[p >>> 12] === 0) return this.view.getInt32(this.hostOffset(p), true);
    if ((p & 0xfff) <= 0xffc) return this.slowRead(p, 4) | 0;
    return (this.read16(p) | (this.read16(p + 2) << 16)) | 0;
  }

  write8(p: number, v: number): void {
    p >>>= 0;
    if (this.pageFlags[p >>> 12] === 0) {
      const host = this.hostOffset(p);
      this.ram[host] = v;
      this.written[host >>> 12] = 1;
    } else this.slowWrite(p, 1, v & 0xff);
  }

  write16(p: number, v: number): void {
    p >>>= 0;
    if ((p & 0xfff) <= 0xffe && this.pageFlags[p >>> 12] === 0) {
      const host = this.hostOffset(p);
      this.view.setUint16(host, v, true);
      this.written[host >>> 12] = 1;
    } else if ((p & 0xfff) <= 0xffe) this.slowWrite(p, 2, v & 0xffff);
    else {
      this.write8(p, v);
      this.write8(p + 1, v >>> 8);
    }
  }

  write32(p: number, v: number): void {
    p >>>= 0;
    if ((p & 0xfff) <= 0xffc && this.pageFlags[p >>> 12] === 0) {
      const host = this.hostOffset(p);
      this.view.setInt32(host, v, true);
      this.written[host >>> 12] = 1;
    } else if ((p & 0xfff) <= 0xffc) this.slowWrite(p, 4, v >>> 0);
    else {
      this.write16(p, v);
      this.write16(p + 2, v >>> 16);
    }
  }

  /** A 32-bit read that bypasses every hook (the monitor inspecting guest memory). */
  peek32(p: number): number {
    p >>>= 0;
    if (p + 4 > this.guestSize) return 0;
    return this.view.getUint32(this.hostOffset(p), true);
  }

  loadBytes(guestPhys: number, bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) this.write8(guestPhys + i, bytes[i]!);
  }

  readBytes(guestPhys: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.read8(guestPhys + i);
    return out;
  }

  private region(p: number): MmioRegion | undefined {
    for (const r of this.regions) if (p >= r.base && p < r.end) return r;
    return undefined;
  }

  /** Whether guest-physical `p` is neither RAM nor a device: reads see all ones, writes land nowhere. */
  isUnassigned(p: number): boolean {
    return p >>> 0 >= this.guestSize && this.region(p >>> 0) === undefined;
  }

  /** Whether one device covers guest-physical page `page` (the CPU may cache its translation). */
  isDevicePage(page: number): boolean {
    const start = page * 4096;
    const r = this.region(start);
    return r !== undefined && r.end - start >= 4096;
  }

  /** A read of a device register at guest-physical `p` (on a device page). */
  deviceRead(p: number, size: AccessSize): number {
    const r = this.region(p >>> 0)!;
    return r.device.mmioRead((p >>> 0) - r.base, size);
  }

  private slowRead(p: number, size: AccessSize): number {
    const r = this.region(p);
    if (r) return r.device.mmioRead(p - r.base, size);
    if (p >= this.guestSize) return size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
    if (this.pageFlags[p >>> 12]! & PAGE_HOOK) this.accessListeners.dispatch?.(p, size, false);
    const host = this.hostOffset(p);
    return size === 1 ? this.ram[host]! : size === 2 ? this.view.getUint16(host, true) : this.view.getUint32(host, true);
  }

  private slowWrite(p: number, size: AccessSize, v: number): void {
    const r = this.region(p);
    if (r) return r.device.mmioWrite(p - r.base, size, v);
    if (p >= this.guestSize) return;
    const flags = this.pageFlags[p >>> 12]!;
    if (flags & PAGE_HOOK) this.accessListeners.dispatch?.(p, size, true);
    const host = this.hostOffset(p);
    if (size === 1) this.ram[host] = v;
    else if (size === 2) this.view.setUint16(host, v, true);
    else this.view.setUint32(host, v, true);
    this.written[host >>> 12] = 1;
    if (flags & READ_CACHEABLE) this.afterMarkedWrite(host, size);
  }
}
