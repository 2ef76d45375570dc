/**
 * System mode (`--mirror system`, docs/system-mode.md): guest-physical memory is split
 * into a native half and a mirror half, and every frame pa of the native half has its
 * twin at pa + half. The guest kernel is translated, so every store it makes (and every
 * store a translated process makes) is repeated in the twin; this part does the rest of
 * the platform's share:
 *
 *   - at power-on it copies the native half into the mirror half (what the loader and the
 *     firmware wrote before the first instruction);
 *   - it repeats in the twin every write the processor makes by itself (interrupt frames,
 *     accessed and dirty bits, descriptor bits), which no translated instruction makes;
 *   - it holds external interrupts while EIP lies inside one of the kernel's store pairs
 *     (between a native store and its mirror store), and tells the fault injector not to
 *     land a fault there: a page repaired from its twin is then never one store behind;
 *   - it is the recovery's twin source: pa ± half, except user pages of untranslated
 *     processes and translator spill pages, which have no healthy twin;
 *   - it compares every native frame with its twin at the end of a run.
 */
import type { DeviceState, SnapshotPart } from '../machine/device.js';
import { LISTENER_ORDER } from '../machine/listener-order.js';
import type { PC } from '../machine/pc.js';
import type { AddressSpaces } from './address-spaces.js';
import { framesEqual } from './mirror.js';
import type { TwinSource } from './recovery.js';

const PAGE = 4096;
const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;

/** What the end-of-run comparison found (the `system` object of --stats). */
export interface SystemCheck {
  /** Native frames compared with their twins, and those that differ (guest-physical addresses, the first few). */
  compared: number;
  differing: number;
  firstDiffering: string[];
  /** Not compared, by reason. */
  unmirroredUserPages: number;
  spillPages: number;
  poisoned: number;
  devicePages: number;
  /** Mirror PTEs that do not map pa + half, or share their native frame. */
  mirrorPtesOffRule: number;
  sharedFrames: number;
  /** Did the machine reach a point with no store pair open (idle) before the comparison? */
  settled: boolean;
}

export class SystemMirror implements SnapshotPart, TwinSource {
  readonly name = 'system-mirror';
  readonly version = 1;
  /** Platform writes repeated in the twin, and interrupts held at a store pair's end. */
  platformWrites = 0;
  heldInstructions = 0;
  readonly half: number;
  private readonly halfPages: number;

  /** `pairs`: the kernel's store-pair intervals [start, end), sorted (the translator's .memvisor.pairs). */
  /** `guard` false (the negative control only): faults aimed at kernel memory are not held inside pairs. */
  constructor(private readonly pc: PC, private readonly spaces: AddressSpaces, private pairs: Array<[number, number]>, private readonly mirrorOffset: number,
    private readonly guard = true) {
    this.half = pc.mem.guestSize / 2;
    this.halfPages = this.half / PAGE;
    const cpu = pc.cpu;
    cpu.platformWriteListeners.add(LISTENER_ORDER.platformWrite.systemMirror, 'system mirror', (phys, size) => this.mirrorPlatformWrite(phys, size));
    cpu.interruptHold = (eip) => {
      const held = this.insidePair(eip);
      if (held) this.heldInstructions++;
      return held;
    };
  }

  /** Power-on (workflow step 1): the mirror half starts as a copy of the native half. */
  start(): void {
    const mem = this.pc.mem;
    for (let page = 0; page < this.halfPages; page++) {
      const from = mem.hostOffset(page * PAGE), to = mem.hostOffset((page + this.halfPages) * PAGE);
      mem.ram.copyWithin(to, from, from + PAGE);
    }
    mem.noteHostWrite(mem.hostOffset(this.half), this.half);
  }

  /** Is EIP between a native store and its mirror store in the kernel? */
  insidePair(eip: number): boolean {
    const pairs = this.pairs;
    let lo = 0, hi = pairs.length - 1;
    eip >>>= 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [start, end] = pairs[mid]!;
      if (eip < start) hi = mid - 1;
      else if (eip >= end) lo = mid + 1;
      else return true;
    }
    return false;
  }

  /** A fault aimed at kernel memory waits while the processor is inside a kernel store pair. */
  landingHeld(): boolean {
    return this.guard && this.insidePair(this.pc.cpu.eip);
  }

  private mirrorPlatformWrite(phys: number, size: number): void {
    if (phys + size > this.half) return;  // the processor wrote a twin itself: nothing to repeat
    const mem = this.pc.mem;
    this.platformWrites++;
    if (size === 4 && (phys & 3) === 0) {
      mem.write32(phys + this.half, mem.peek32(phys));
      return;
    }
    for (let i = 0; i < size; i++) mem.write8(phys + this.half + i, mem.ram[mem.hostOffset(phys + i)]!);
  }

  /**
   * The pages whose twin frame is not kept equal: user pages of untranslated processes
   * (they write only their own copy) and translator spill pages (scratch, no twin mapped).
   */
  private unmirroredFrames(): { user: Set<number>; spill: Set<number> } {
    const user = new Set<number>(), spill = new Set<number>();
    for (const { native, mirror } of this.spaces.liveUserPages()) {
      for (const [va, frame] of native) {
        if (mirror.has((va + this.mirrorOffset) >>> 0)) continue;
        (mirror.size > 0 ? spill : user).add(frame);
      }
    }
    return { user, spill };
  }

  /** The twin of guest page `page`: page ± half, unless its twin is not kept (see unmirroredFrames). */
  healthyTwin(page: number): { hostFrame: number; description: string } | null {
    if (page >= 2 * this.halfPages) return null;
    const native = page < this.halfPages;
    if (native) {
      const { user, spill } = this.unmirroredFrames();
      if (user.has(page) || spill.has(page)) return null;
    }
    const twin = native ? page + this.halfPages : page - this.halfPages;
    return { hostFrame: this.pc.mem.p2m[twin]!, description: `from its twin ${hex(twin * PAGE)} (${native ? 'mirror' : 'native'} half)` };
  }

  /** Compares every native frame with its twin (the machine should be idle: see Monitor.systemCheck). */
  compare(settled: boolean): SystemCheck {
    const { pc } = this;
    const mem = pc.mem;
    const { user, spill } = this.unmirroredFrames();
    const result: SystemCheck = {
      compared: 0, differing: 0, firstDiffering: [], unmirroredUserPages: 0, spillPages: 0, poisoned: 0, devicePages: 0,
      mirrorPtesOffRule: 0, sharedFrames: 0, settled,
    };
    for (let page = 0; page < this.halfPages; page++) {
      if (mem.isDevicePage(page) || mem.isDevicePage(page + this.halfPages)) { result.devicePages++; continue; }
      if (user.has(page)) { result.unmirroredUserPages++; continue; }
      if (spill.has(page)) { result.spillPages++; continue; }
      if (pc.defects.isPoisoned(mem.p2m[page]!) || pc.defects.isPoisoned(mem.p2m[page + this.halfPages]!)) { result.poisoned++; continue; }
      result.compared++;
      if (!framesEqual(mem, page * PAGE, (page + this.halfPages) * PAGE)) {
        result.differing++;
        if (result.firstDiffering.length < 8) result.firstDiffering.push(hex(page * PAGE));
      }
    }
    for (const { native, mirror } of this.spaces.liveUserPages()) {
      for (const [va, frame] of mirror) {
        const nativeFrame = native.get((va - this.mirrorOffset) >>> 0);
        if (nativeFrame === undefined) continue;
        if (frame === nativeFrame) result.sharedFrames++;
        else if (frame !== nativeFrame + this.halfPages) result.mirrorPtesOffRule++;
      }
    }
    return result;
  }

  save(): DeviceState {
    return { pairs: this.pairs, platformWrites: this.platformWrites, heldInstructions: this.heldInstructions };
  }

  restore(state: DeviceState): void {
    this.pairs = state.pairs as Array<[number, number]>;
    this.platformWrites = state.platformWrites as number;
    this.heldInstructions = state.heldInstructions as number;
  }
}

/** One line for the end of a run. */
export function describeSystemCheck(c: SystemCheck, platformWrites: number): string {
  return `system mirroring: ${c.compared} frames compared with their twins, ${c.differing} differ` +
    `${c.differing ? ` (${c.firstDiffering.join(', ')}${c.differing > c.firstDiffering.length ? ', …' : ''})` : ''}; ` +
    `not compared: ${c.unmirroredUserPages} user pages of untranslated processes, ${c.spillPages} spill pages, ${c.poisoned} poisoned, ${c.devicePages} device pages; ` +
    `${c.mirrorPtesOffRule} mirror PTEs off the pa + half rule, ${c.sharedFrames} sharing their native frame; ` +
    `${platformWrites} platform writes mirrored${c.settled ? '' : '; the machine never went idle (compared mid-run)'}`;
}
