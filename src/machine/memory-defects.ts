/**
 * Defective memory: host frames whose DRAM has lost data (poison, detected by the memory
 * controller when read) or holds stuck bits (silent). Defects belong to host frames, as
 * bad cells belong to a DIMM: when the monitor moves a guest page to another host frame,
 * the defect stays behind with the retired frame.
 *
 * A poisoned frame's lost bytes are marked; writes replace lost bytes (a frame rewritten
 * in full is healthy again, as when a kernel zeroes a page it allocates). A read of a
 * lost byte *consumes* the poison: the consumed listeners (the monitor's recovery) may
 * repair the page by moving it to another host frame, and the access goes on there;
 * otherwise the machine-check bank raises #MC.
 */
import { Listeners } from '../cpu/listeners.js';
import { PAGE_HOOK, PAGE_WRITE_HOOK, type PhysicalMemory } from '../cpu/memory.js';
import type { CPU } from '../cpu/index.js';
import type { Device, DeviceState } from './device.js';
import { LISTENER_ORDER } from './listener-order.js';
import type { MachineCheckBank } from './mca.js';

const PAGE = 4096;
/** What the bytes of a lost frame read as (the data is gone). */
const LOST_BYTE = 0xa5;

interface Poisoned {
  /** 1 for each byte the guest has rewritten since the poisoning (or that was never lost). */
  written: Uint8Array;
  lost: number;
  consumed: boolean;
}

/** A stuck bit: byte offset in the frame, bit mask, the value it keeps. */
export type StuckBit = [offset: number, mask: number, value: number];

export class MemoryDefects implements Device {
  readonly name = 'memory-defects';
  readonly version = 1;
  private poisoned = new Map<number, Poisoned>();
  private stuck = new Map<number, StuckBit[]>();
  /** A read reached lost data at guest-physical `address` (host frame `hostFrame`); a listener may repair the page. */
  readonly consumedListeners = new Listeners<[address: number, hostFrame: number]>();
  /** Reads of lost data, and poisoned frames rewritten in full before any read. */
  consumed = 0;
  overwritten = 0;
  private listeningToWrites = false;

  constructor(private readonly mem: PhysicalMemory, private readonly cpu: CPU, private readonly mca: MachineCheckBank) {
    mem.accessListeners.add(LISTENER_ORDER.access.poison, 'poison', (p, size, write) => this.onAccess(p, size, write));
  }

  /** Stuck bits are re-applied after every write to their frame (listened to only once there are some: writes are hot). */
  private listenToWrites(): void {
    if (this.listeningToWrites) return;
    this.listeningToWrites = true;
    this.mem.writeListeners.add(LISTENER_ORDER.write.stuckBits, 'stuck bits', (p) => {
      const frame = this.mem.p2m[p >>> 12]!;
      const bits = this.stuck.get(frame);
      if (bits) this.applyStuck(frame, bits);
    });
  }

  reset(): void {}

  /** Is host frame `hostFrame` poisoned (some of its data lost)? */
  isPoisoned(hostFrame: number): boolean {
    return this.poisoned.has(hostFrame);
  }

  /** Poisoned host frames, and frames with stuck bits. */
  get poisonedFrames(): number {
    return this.poisoned.size;
  }

  /**
   * The host frame behind guest page `guestPage` loses the bytes in [from, to) (the whole
   * frame by default); bytes already lost stay lost.
   */
  poison(guestPage: number, from = 0, to = PAGE): void {
    const frame = this.mem.p2m[guestPage]!;
    const written = new Uint8Array(PAGE).fill(1);
    written.fill(0, from, to);
    const previous = this.poisoned.get(frame);
    if (previous) for (let i = 0; i < PAGE; i++) written[i] = written[i]! & previous.written[i]!;
    let lost = 0;
    for (let i = 0; i < PAGE; i++) if (!written[i]) lost++;
    this.poisoned.set(frame, { written, lost, consumed: false });
    const ram = this.mem.ram, host = frame * PAGE;
    for (let i = 0; i < PAGE; i++) if (!written[i]) ram[host + i] = LOST_BYTE;
    this.mem.noteHostWrite(host, PAGE);
    this.refresh(guestPage);
  }

  /** Bits of the host frame behind guest page `guestPage` stick at a value, whatever is written. */
  stick(guestPage: number, bits: StuckBit[]): void {
    const frame = this.mem.p2m[guestPage]!;
    const all = [...(this.stuck.get(frame) ?? []), ...bits];
    this.stuck.set(frame, all);
    this.listenToWrites();
    this.applyStuck(frame, all);
    this.refresh(guestPage);
  }

  /**
   * Sets guest page `guestPage`'s hook flags for the defects of the host frame it maps now
   * (after poisoning, or after the monitor moved the page to another frame).
   */
  refresh(guestPage: number): void {
    const frame = this.mem.p2m[guestPage]!;
    const flags = this.mem.pageFlags;
    if (this.poisoned.has(frame)) flags[guestPage] |= PAGE_HOOK;
    else flags[guestPage] &= ~PAGE_HOOK;
    // Stuck bits are re-applied after writes; the write hook flag may be shared with the
    // hardware mirror, so it is only ever set here.
    if (this.stuck.has(frame)) flags[guestPage] |= PAGE_WRITE_HOOK;
    this.cpu.flushTlb();
  }

  private applyStuck(frame: number, bits: StuckBit[]): void {
    const ram = this.mem.ram, host = frame * PAGE;
    for (const [at, mask, value] of bits) ram[host + at] = (ram[host + at]! & ~mask) | value;
    this.mem.noteHostWrite(host, PAGE);
  }

  private onAccess(p: number, size: number, write: boolean): void {
    const page = p >>> 12;
    const frame = this.mem.p2m[page]!;
    const state = this.poisoned.get(frame);
    if (!state) return;
    const offset = p & 0xfff;
    const written = state.written;
    if (write) {
      for (let i = offset; i < offset + size; i++) {
        if (!written[i]) { written[i] = 1; state.lost--; }
      }
      if (state.lost === 0) {
        this.poisoned.delete(frame);
        if (!state.consumed) this.overwritten++;
        this.refresh(page);
      }
      return;
    }
    let lost = false;
    for (let i = offset; i < offset + size; i++) if (!written[i]) lost = true;
    if (!lost) return;
    state.consumed = true;
    this.consumed++;
    this.consumedListeners.dispatch?.(p, frame);
    if (this.mem.p2m[page] !== frame) return;  // repaired: the access goes on in the new frame
    this.mca.signalMemoryError(p);
  }

  save(): DeviceState {
    return {
      consumed: this.consumed,
      overwritten: this.overwritten,
      poisoned: [...this.poisoned].map(([frame, s]) => ({ frame, lostBytes: lostRanges(s.written), consumed: s.consumed })),
      stuck: [...this.stuck],
    };
  }

  restore(state: DeviceState): void {
    const s = state as { consumed: number; overwritten: number; poisoned: Array<{ frame: number; lostBytes: Array<[number, number]>; consumed: boolean }>; stuck: Array<[number, StuckBit[]]> };
    if (!Array.isArray(s.poisoned) || !Array.isArray(s.stuck)) throw new Error('memory-defects state is malformed');
    this.consumed = s.consumed;
    this.overwritten = s.overwritten;
    this.poisoned.clear();
    for (const p of s.poisoned) {
      const written = new Uint8Array(PAGE).fill(1);
      let lost = 0;
      for (const [from, to] of p.lostBytes) { written.fill(0, from, to); lost += to - from; }
      this.poisoned.set(p.frame, { written, lost, consumed: p.consumed });
    }
    this.stuck = new Map(s.stuck);
    if (this.stuck.size) this.listenToWrites();
  }
}

/** The [from, to) runs of bytes not yet rewritten. */
function lostRanges(written: Uint8Array): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  for (let i = 0; i < PAGE; i++) {
    if (written[i]) continue;
    const from = i;
    while (i < PAGE && !written[i]) i++;
    runs.push([from, i]);
  }
  return runs;
}
