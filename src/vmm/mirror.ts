/**
 * The monitor's view of guest mirroring: it walks a guest page directory (as a real
 * hypervisor walks guest page tables) and finds, for every user page at va below
 * OFFSET, whether a twin is mapped at va + OFFSET, whether the twin has its own frame,
 * and whether the two hold the same bytes. A mirror that shares its native page's frame
 * gives no redundancy, so it is reported separately.
 *
 * The invariant recovery relies on: every page a process can read has a healthy twin or is
 * known zero. A guest may leave a page without a twin until its first write if it marks
 * the native PTE known zero (the profile's knownZeroBit; MemV6 does so for a program's bss
 * pages at exec): the page is read-only, so it still holds zeros, and recovery restores it
 * from zeros. With bytes compared, such a page whose frame is not all zeros breaks the
 * invariant and is listed.
 */
import type { CPU } from '../cpu/index.js';
import type { PhysicalMemory } from '../cpu/memory.js';
import { PTE_P, PTE_PS, PTE_U } from '../cpu/state.js';
import { assignState, type DeviceState, type SnapshotPart } from '../machine/device.js';
import { LISTENER_ORDER } from '../machine/listener-order.js';

const PAGE = 4096;

export interface AddressSpaceMirrors {
  /** Present user pages below OFFSET. */
  userPages: number;
  /** Of those, pages with a twin at va + OFFSET. */
  mirroredPages: number;
  /** Twins whose frame is the native page's own frame. */
  sharedFrames: number[];
  /** Native pages whose twin holds different bytes (only when bytes are compared). */
  differing: number[];
  /** Present pages in the mirror range without a native page below. */
  orphans: number[];
  /** Native pages without a twin that are marked known zero. */
  knownZero: number[];
  /** Of those, pages whose frame is not all zeros (only when bytes are compared): the invariant broken. */
  notZero: number[];
}

/**
 * The present 4 KiB pages under the user page tables of a page directory in [from, to):
 * va → PTE, and the frames of those page tables. Reads bypass every hook.
 */
export function walkUserPages(mem: PhysicalMemory, cr3: number, from: number, to: number): { pages: Map<number, number>; tables: number[] } {
  const pages = new Map<number, number>();
  const tables: number[] = [];
  const dir = cr3 & ~0xfff;
  for (let pdi = from >>> 22; pdi < to >>> 22; pdi++) {
    const pde = mem.peek32(dir + pdi * 4);
    if (!(pde & PTE_P) || !(pde & PTE_U) || pde & PTE_PS) continue;
    const table = pde & ~0xfff;
    tables.push(table >>> 12);
    for (let pti = 0; pti < 1024; pti++) {
      const pte = mem.peek32(table + pti * 4);
      if (pte & PTE_P) pages.set(((pdi << 22) | (pti << 12)) >>> 0, pte);
    }
  }
  return { pages, tables };
}

/** Do the frames at guest-physical addresses a and b (page offsets ignored) hold the same bytes? */
export function framesEqual(mem: PhysicalMemory, a: number, b: number): boolean {
  const x = mem.hostOffset(a & ~0xfff), y = mem.hostOffset(b & ~0xfff);
  const ram = mem.ram;
  for (let i = 0; i < PAGE; i++) if (ram[x + i] !== ram[y + i]) return false;
  return true;
}

/** Is the frame at guest-physical address a (page offset ignored) all zeros? */
function frameZero(mem: PhysicalMemory, a: number): boolean {
  const x = mem.hostOffset(a & ~0xfff);
  const ram = mem.ram;
  for (let i = 0; i < PAGE; i++) if (ram[x + i] !== 0) return false;
  return true;
}

/**
 * Inspects one address space (twins at va + offset; native PTEs with `knownZeroBit` are
 * known zero); `compareBytes` also compares every pair of pages, and checks known-zero pages.
 */
export function inspectMirrors(mem: PhysicalMemory, cr3: number, compareBytes: boolean, offset: number, knownZeroBit = 0): AddressSpaceMirrors {
  const native = walkUserPages(mem, cr3, 0, offset).pages;
  const mirror = walkUserPages(mem, cr3, offset, offset * 2).pages;
  const result: AddressSpaceMirrors = { userPages: 0, mirroredPages: 0, sharedFrames: [], differing: [], orphans: [], knownZero: [], notZero: [] };
  for (const [va, pte] of native) {
    result.userPages++;
    const twin = mirror.get((va + offset) >>> 0);
    if (twin === undefined) {
      if (knownZeroBit && pte & knownZeroBit) {
        result.knownZero.push(va);
        if (compareBytes && !frameZero(mem, pte)) result.notZero.push(va);
      }
      continue;
    }
    result.mirroredPages++;
    if ((twin & ~0xfff) === (pte & ~0xfff)) result.sharedFrames.push(va);
    else if (compareBytes && !framesEqual(mem, pte, twin)) result.differing.push(va);
  }
  for (const va of mirror.keys()) if (!native.has((va - offset) >>> 0)) result.orphans.push(va);
  return result;
}

/** Counters the monitor keeps while following the guest's address spaces (for --stats). */
export interface MirrorStats {
  /** Switches into an address space that has mirror pages, and into one that has none. */
  mirroredSwitches: number;
  plainSwitches: number;
  /** The most mirror pages seen in one address space, and user pages in that one. */
  peakMirroredPages: number;
  peakUserPages: number;
  /** Mirror pages found sharing their native frame (should stay 0). */
  sharedFrames: number;
}

/** Follows every CR3 load of the guest and counts its mirror pages there. */
export class MirrorStatistics implements SnapshotPart {
  readonly name = 'mirror-statistics';
  readonly version = 1;
  readonly stats: MirrorStats = { mirroredSwitches: 0, plainSwitches: 0, peakMirroredPages: 0, peakUserPages: 0, sharedFrames: 0 };

  constructor(mem: PhysicalMemory, cpu: CPU, offset: number, knownZeroBit = 0) {
    const stats = this.stats;
    cpu.cr3Listeners.add(LISTENER_ORDER.cr3.mirrorStatistics, 'mirror statistics', (cr3) => {
      const a = inspectMirrors(mem, cr3, false, offset, knownZeroBit);
      if (a.userPages === 0) return;  // the kernel's own page directory
      if (a.mirroredPages === 0) { stats.plainSwitches++; return; }
      stats.mirroredSwitches++;
      stats.sharedFrames += a.sharedFrames.length;
      if (a.mirroredPages > stats.peakMirroredPages) {
        stats.peakMirroredPages = a.mirroredPages;
        stats.peakUserPages = a.userPages;
      }
    });
  }

  /** One line for the end of a run. */
  summary(): string {
    const m = this.stats;
    if (m.mirroredSwitches === 0) return `guest mirroring: no mirrored process ran (${m.plainSwitches} switches to unmirrored ones)`;
    return `guest mirroring: ${m.mirroredSwitches} switches to mirrored processes (peak ${m.peakMirroredPages} mirror pages of ` +
      `${m.peakUserPages} user pages), ${m.plainSwitches} to unmirrored ones, ${m.sharedFrames} mirror pages sharing a frame`;
  }

  save(): DeviceState {
    return { ...this.stats };
  }

  restore(state: DeviceState): void {
    assignState(this.stats, state, ['mirroredSwitches', 'plainSwitches', 'peakMirroredPages', 'peakUserPages', 'sharedFrames']);
  }
}
