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

/** Bytes a page table maps: page-directory entries cover 4 MiB each. */
const TABLE_SPAN = 1 << 22;

// Module constants: the imported ones read in countMirrors' loops made it twice as slow.
const USER_TABLE_MASK = PTE_P | PTE_U | PTE_PS, USER_TABLE = PTE_P | PTE_U;
/** Does page-directory entry `pde` point to a present user page table (not a 4 MiB page)? */
const userTable = (pde: number) => (pde & USER_TABLE_MASK) === USER_TABLE;

/**
 * Calls `visit(va, pte)` for every present 4 KiB page under the user page tables of page
 * directory `cr3` whose directory entries cover [from, to) (whole tables: from and to
 * are taken in 4 MiB steps), and `table(frame)` for each such table. Reads bypass every
 * hook. It runs at every CR3 load when the monitor counts mirror pages, so it reads the
 * tables in place (no map, no per-entry call into PhysicalMemory).
 */
function forEachUserPage(mem: PhysicalMemory, cr3: number, from: number, to: number,
  visit: (va: number, pte: number) => void, table?: (frame: number) => void): void {
  const dir = cr3 & ~0xfff;
  const view = mem.view;
  const end = Math.min(Math.floor(to / TABLE_SPAN), 1024);
  for (let pdi = Math.floor(from / TABLE_SPAN); pdi < end; pdi++) {
    const pde = mem.peek32(dir + pdi * 4);
    if (!userTable(pde)) continue;
    const base = (pde & ~0xfff) >>> 0;
    table?.(base >>> 12);
    if (base + PAGE > mem.guestSize) continue;  // outside RAM: reads as zeros, nothing present
    const host = mem.hostOffset(base);
    for (let pti = 0; pti < 1024; pti++) {
      const pte = view.getUint32(host + pti * 4, true);
      if (pte & PTE_P) visit(((pdi << 22) | (pti << 12)) >>> 0, pte);
    }
  }
}

/** The PTE of the page at `va` if a user page table of directory `dir` maps it present, else 0. */
function userPte(mem: PhysicalMemory, dir: number, va: number): number {
  const pde = mem.peek32(dir + (va >>> 22) * 4);
  if (!userTable(pde)) return 0;
  const pte = mem.peek32((pde & ~0xfff) + ((va >>> 12) & 0x3ff) * 4);
  return pte & PTE_P ? pte : 0;
}

/**
 * The present 4 KiB pages under the user page tables of a page directory in [from, to):
 * va → PTE, and the frames of those page tables. Reads bypass every hook.
 */
export function walkUserPages(mem: PhysicalMemory, cr3: number, from: number, to: number): { pages: Map<number, number>; tables: number[] } {
  const pages = new Map<number, number>();
  const tables: number[] = [];
  forEachUserPage(mem, cr3, from, to, (va, pte) => pages.set(va, pte), (frame) => tables.push(frame));
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
  const dir = cr3 & ~0xfff;
  // The twin of va is the page at va + offset under the tables the mirror range's walk
  // covers (whole 4 MiB tables from offset up to 2 × offset), as a native page is one
  // under the tables below offset.
  const mirrorFirst = Math.floor(offset / TABLE_SPAN), mirrorEnd = Math.min(Math.floor(offset * 2 / TABLE_SPAN), 1024);
  const inTables = (va: number, first: number, end: number) => va >= 0 && va < 2 ** 32 && Math.floor(va / TABLE_SPAN) >= first && Math.floor(va / TABLE_SPAN) < end;
  const result: AddressSpaceMirrors = { userPages: 0, mirroredPages: 0, sharedFrames: [], differing: [], orphans: [], knownZero: [], notZero: [] };
  forEachUserPage(mem, cr3, 0, offset, (va, pte) => {
    result.userPages++;
    const twinVa = va + offset;
    const twin = inTables(twinVa, mirrorFirst, mirrorEnd) ? userPte(mem, dir, twinVa) : 0;
    if (twin === 0) {
      if (knownZeroBit && pte & knownZeroBit) {
        result.knownZero.push(va);
        if (compareBytes && !frameZero(mem, pte)) result.notZero.push(va);
      }
      return;
    }
    result.mirroredPages++;
    if ((twin & ~0xfff) === (pte & ~0xfff)) result.sharedFrames.push(va);
    else if (compareBytes && !framesEqual(mem, pte, twin)) result.differing.push(va);
  });
  forEachUserPage(mem, cr3, offset, offset * 2, (va) => {
    const nativeVa = va - offset;
    if (!inTables(nativeVa, 0, mirrorFirst) || userPte(mem, dir, nativeVa) === 0) result.orphans.push(va);
  });
  return result;
}

/** The word index in `u32` (RAM) of the user page table under entry `pdi` of the directory at word `dir`, or -1. */
function userTableWords(mem: PhysicalMemory, u32: Uint32Array, dir: number, pdi: number): number {
  const pde = u32[dir + pdi]!;
  if (!userTable(pde)) return -1;
  const base = (pde & ~0xfff) >>> 0;
  return base + PAGE > mem.guestSize ? -1 : mem.hostOffset(base) >>> 2;
}

/** What MirrorStatistics counts at a CR3 load. */
export interface MirrorCounts {
  userPages: number;
  mirroredPages: number;
  sharedFrames: number;
}

/**
 * inspectMirrors' three counts (user pages below `offset`, those with a twin, twins
 * sharing the native frame) without its lists, for MirrorStatistics: it runs at every
 * CR3 load (131,000 times in a usertests run), so it reads the page tables in place
 * through `u32`, a 32-bit view of all of RAM. An address space with no user page table
 * in the mirror range has no twins, and a switch to it counts only whether it has a user
 * page at all: there the native pages are looked at up to the first (userPages 0 or 1).
 */
export function countMirrors(mem: PhysicalMemory, u32: Uint32Array, cr3: number, offset: number, out: MirrorCounts): void {
  out.userPages = out.mirroredPages = out.sharedFrames = 0;
  const dirAddress = (cr3 & ~0xfff) >>> 0;
  if (dirAddress + PAGE > mem.guestSize) return;
  const dir = mem.hostOffset(dirAddress) >>> 2;
  const mirrorFirst = Math.floor(offset / TABLE_SPAN), mirrorEnd = Math.min(Math.floor(offset * 2 / TABLE_SPAN), 1024);
  // Half the loads are of the kernel's own directory, with no user page: it is found out
  // before the mirror range is looked at (the directory entries are tested inline, a
  // table only looked up for a user one: 1.5 µs a call became 0.3 µs).
  if (!hasUserPage(mem, u32, dir, mirrorFirst)) return;
  if (!hasUserTable(mem, u32, dir, mirrorFirst, mirrorEnd)) { out.userPages = 1; return; }
  let userPages = 0, mirroredPages = 0, sharedFrames = 0;
  let twinPdi = -1, twinTable = -1;
  for (let pdi = 0; pdi < mirrorFirst; pdi++) {
    if (!userTable(u32[dir + pdi]!)) continue;
    const table = userTableWords(mem, u32, dir, pdi);
    if (table < 0) continue;
    for (let pti = 0; pti < 1024; pti++) {
      const pte = u32[table + pti]!;
      if (!(pte & PTE_P)) continue;
      userPages++;
      const twinVa = pdi * TABLE_SPAN + pti * PAGE + offset;
      const tp = Math.floor(twinVa / TABLE_SPAN);
      if (tp >= mirrorEnd) continue;
      if (tp !== twinPdi) { twinPdi = tp; twinTable = userTableWords(mem, u32, dir, tp); }
      if (twinTable < 0) continue;
      const twin = u32[twinTable + ((twinVa >>> 12) & 0x3ff)]!;
      if (!(twin & PTE_P)) continue;
      mirroredPages++;
      if (((twin ^ pte) & ~0xfff) === 0) sharedFrames++;
    }
  }
  out.userPages = userPages;
  out.mirroredPages = mirroredPages;
  out.sharedFrames = sharedFrames;
}

/** Has the directory at word `dir` a user page table among entries [first, end)? */
function hasUserTable(mem: PhysicalMemory, u32: Uint32Array, dir: number, first: number, end: number): boolean {
  for (let pdi = first; pdi < end; pdi++) if (userTable(u32[dir + pdi]!) && userTableWords(mem, u32, dir, pdi) >= 0) return true;
  return false;
}

/** Is a user page present under the directory at word `dir` below table `end`? */
function hasUserPage(mem: PhysicalMemory, u32: Uint32Array, dir: number, end: number): boolean {
  for (let pdi = 0; pdi < end; pdi++) {
    if (!userTable(u32[dir + pdi]!)) continue;
    const table = userTableWords(mem, u32, dir, pdi);
    if (table < 0) continue;
    for (let pti = 0; pti < 1024; pti++) if (u32[table + pti]! & PTE_P) return true;
  }
  return false;
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

  constructor(mem: PhysicalMemory, cpu: CPU, offset: number) {
    const stats = this.stats;
    const u32 = new Uint32Array(mem.ram.buffer);
    const a: MirrorCounts = { userPages: 0, mirroredPages: 0, sharedFrames: 0 };
    cpu.cr3Listeners.add(LISTENER_ORDER.cr3.mirrorStatistics, 'mirror statistics', (cr3) => {
      countMirrors(mem, u32, cr3, offset, a);
      if (a.userPages === 0) return;  // the kernel's own page directory
      if (a.mirroredPages === 0) { stats.plainSwitches++; return; }
      stats.mirroredSwitches++;
      stats.sharedFrames += a.sharedFrames;
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
