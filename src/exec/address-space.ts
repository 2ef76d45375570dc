/**
 * A two-level i386 page table built from the host side, over a PhysicalMemory with a
 * simple frame allocator: what a kernel would do for a process, done by the user-mode
 * runner (and by CPU tests). Frames are zero when handed out.
 */
import { MemvisorError } from '../errors.js';
import type { PhysicalMemory } from '../cpu/memory.js';
import { PTE_P, PTE_U, PTE_W } from '../cpu/state.js';

export class AddressSpace {
  readonly pageDirectory: number;
  private nextFrame: number;
  private readonly freeFrames: number[] = [];
  /** Linear page number → guest-physical frame address, for every mapped page. */
  readonly pages = new Map<number, number>();
  /**
   * Mirroring (0 = off): every page mapped below this offset gets a twin at page + offset
   * with its own frame, and everything the runner writes goes to both (as MemV6 does for
   * translated programs).
   */
  mirrorOffset = 0;
  /** A page that gets no twin (the translator's spill page), or -1. */
  noTwin = -1;

  constructor(readonly mem: PhysicalMemory, firstFrame = 0x1000) {
    this.nextFrame = firstFrame;
    this.pageDirectory = this.allocateFrame();
  }

  allocateFrame(): number {
    const reused = this.freeFrames.pop();
    if (reused !== undefined) {
      this.mem.ram.fill(0, this.mem.hostOffset(reused), this.mem.hostOffset(reused) + 4096);
      this.mem.noteHostWrite(this.mem.hostOffset(reused), 4096);
      return reused;
    }
    if (this.nextFrame + 4096 > this.mem.guestSize) {
      throw new MemvisorError(`out of guest memory (${this.mem.guestSize >>> 20} MiB); raise --memory`, 3);
    }
    const frame = this.nextFrame;
    this.nextFrame += 4096;
    return frame;
  }

  /** Frames not yet handed out (a bound: page tables take some of them too). */
  get framesLeft(): number {
    return (this.mem.guestSize - this.nextFrame) / 4096 + this.freeFrames.length;
  }

  get framesInUse(): number {
    return this.nextFrame / 4096 - this.freeFrames.length;
  }

  /** Maps one page (a fresh zero frame unless `frame` is given). Returns the frame. */
  map(linear: number, flags: number, frame?: number): number {
    if (this.mirrorOffset && (linear >>> 0) < this.mirrorOffset && (linear & ~0xfff) !== this.noTwin) {
      this.map((linear + this.mirrorOffset) | 0, flags);
    }
    const page = linear >>> 12;
    const existing = this.pages.get(page);
    if (existing !== undefined) {
      this.setPte(linear, existing | flags | PTE_P);
      return existing;
    }
    const pdeAddr = this.pageDirectory + (linear >>> 22) * 4;
    let pde = this.mem.read32(pdeAddr);
    if (!(pde & PTE_P)) {
      pde = this.allocateFrame() | PTE_P | PTE_W | PTE_U;
      this.mem.write32(pdeAddr, pde);
    }
    const target = frame ?? this.allocateFrame();
    this.pages.set(page, target);
    this.setPte(linear, target | flags | PTE_P);
    return target;
  }

  unmap(linear: number): void {
    const page = linear >>> 12;
    const frame = this.pages.get(page);
    if (frame === undefined) return;
    if (this.mirrorOffset && (linear >>> 0) < this.mirrorOffset) this.unmap((linear + this.mirrorOffset) | 0);
    this.pages.delete(page);
    this.setPte(linear, 0);
    this.freeFrames.push(frame);
  }

  private setPte(linear: number, value: number): void {
    const pde = this.mem.read32(this.pageDirectory + (linear >>> 22) * 4);
    this.mem.write32((pde & ~0xfff) + ((linear >>> 12) & 0x3ff) * 4, value);
  }

  isMapped(linear: number): boolean {
    return this.pages.has(linear >>> 12);
  }

  /** Host offset of a mapped linear address, or -1. */
  hostOffset(linear: number): number {
    const frame = this.pages.get(linear >>> 12);
    return frame === undefined ? -1 : this.mem.hostOffset(frame | (linear & 0xfff));
  }

  /** Copies bytes into mapped pages; false if some page is not mapped. */
  write(linear: number, bytes: Uint8Array): boolean {
    for (let i = 0; i < bytes.length;) {
      const at = (linear + i) >>> 0;
      const host = this.hostOffset(at);
      if (host < 0) return false;
      const n = Math.min(bytes.length - i, 4096 - (at & 0xfff));
      this.mem.ram.set(bytes.subarray(i, i + n), host);
      this.mem.noteHostWrite(host, n);
      if (this.mirrorOffset && at < this.mirrorOffset) {
        const twin = this.hostOffset(at + this.mirrorOffset);
        if (twin >= 0) {
          this.mem.ram.set(bytes.subarray(i, i + n), twin);
          this.mem.noteHostWrite(twin, n);
        }
      }
      i += n;
    }
    return true;
  }

  /** Bytes where a page below the mirror offset differs from its twin: [address, native, mirror]. */
  mirrorDifferences(limit: number): { pages: number; compared: number; bytes: number; first: Array<[number, number, number]> } {
    const result = { pages: 0, compared: 0, bytes: 0, first: [] as Array<[number, number, number]> };
    const ram = this.mem.ram;
    for (const [page, frame] of this.pages) {
      const va = page * 4096;
      if (!this.mirrorOffset || va >= this.mirrorOffset) continue;
      const twin = this.pages.get((va + this.mirrorOffset) >>> 12);
      if (twin === undefined) continue;
      result.compared++;
      const a = this.mem.hostOffset(frame), b = this.mem.hostOffset(twin);
      let differs = false;
      for (let i = 0; i < 4096; i++) {
        if (ram[a + i] === ram[b + i]) continue;
        differs = true;
        result.bytes++;
        if (result.first.length < limit) result.first.push([va + i, ram[a + i]!, ram[b + i]!]);
      }
      if (differs) result.pages++;
    }
    return result;
  }

  /** Reads bytes from mapped pages; null if some page is not mapped. */
  read(linear: number, length: number): Uint8Array | null {
    const out = new Uint8Array(length);
    for (let i = 0; i < length;) {
      const at = (linear + i) >>> 0;
      const host = this.hostOffset(at);
      if (host < 0) return null;
      const n = Math.min(length - i, 4096 - (at & 0xfff));
      out.set(this.mem.ram.subarray(host, host + n), i);
      i += n;
    }
    return out;
  }
}
