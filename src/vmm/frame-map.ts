/**
 * A map of host memory as the monitor sees it, one entry per host frame: guest memory,
 * then the spare pool, then (with --mirror hardware) the monitor's copy of guest memory.
 * Each frame gets one role, computed from what the monitor already knows — the guest's
 * address spaces (walked in its page tables), the kernel image, the guest-physical →
 * host map, the spare pool and the memory's defects — and, on request, its details:
 * which processes map it at which virtual address, its twin, and its history.
 *
 * Roles, strongest first when a frame has several:
 *   retired     a frame no guest page maps any more (its page moved away): in guest
 *               memory, or a spare frame a page was recovered into and then left again
 *   poisoned    a frame whose data is (partly) lost, still in use
 *   recovered   a spare frame that now holds a guest page (the monitor moved it there)
 *   page-table  a page directory or user page table of a live address space
 *   native      a user page below the mirror offset
 *   mirror      a user page's twin (va + offset), or the hardware mirror's copy
 *   kernel      the kernel image
 *   spare       a spare frame not handed out yet
 *   free        anything else: free memory, or kernel data the monitor cannot name
 */
import type { PC } from '../machine/pc.js';
import type { AddressSpaces, UserPages } from './address-spaces.js';
import type { HardwareMirror } from './hardware-mirror.js';
import type { MemoryEventLog } from './memory-events.js';
import type { GuestProcess } from './profile.js';
import type { SparePool } from './spare-pool.js';

export const FRAME_ROLES = ['free', 'kernel', 'spare', 'mirror', 'native', 'page-table', 'recovered', 'poisoned', 'retired'] as const;
export type FrameRole = (typeof FRAME_ROLES)[number];
const ROLE = Object.fromEntries(FRAME_ROLES.map((r, i) => [r, i])) as Record<FrameRole, number>;

const PAGE = 4096;

/** One live address space: its process (when the guest profile names it) and the host frames of its pages. */
export interface AddressSpaceView {
  /** Guest-physical address of its page directory. */
  directory: number;
  process: GuestProcess | null;
  running: boolean;
  /** Host frames of its native user pages and of their twins (same order; null: no twin). */
  native: number[];
  twins: Array<number | null>;
  /** Per native page: without a twin yet, known zero (the guest profile's knownZeroBit). */
  knownZero: boolean[];
  /** Host frames of mirror pages without a native page, and of its page tables (with the directory). */
  otherMirrors: number[];
  tables: number[];
}

export interface FrameMap {
  /** One role per host frame, as an index into FRAME_ROLES. */
  roles: Uint8Array;
  guestFrames: number;
  /** Host frames [guestFrames, spareEnd) are the spare pool; from spareEnd on, the hardware mirror's copy. */
  spareEnd: number;
  spaces: AddressSpaceView[];
}

export interface FrameOwner {
  process: string;
  va: number;
  kind: 'native' | 'mirror';
  /** The host frame of the page at the other address of the pair, if it is mapped. */
  twinHostFrame: number | null;
}

export interface FrameDetails {
  hostFrame: number;
  role: FrameRole;
  region: 'guest memory' | 'spare pool' | 'hardware mirror';
  /** The guest frame this host frame backs, or (hardware mirror) copies; null: none. */
  guestFrame: number | null;
  owners: FrameOwner[];
  /** For a frame of the hardware mirror's copy, or backed by one: the host frame of the other copy. */
  hardwareTwin: number | null;
  history: string[];
}

export const processLabel = (space: { directory: number; process: GuestProcess | null }): string =>
  space.process ? `pid ${space.process.pid} (${space.process.name})` : `address space 0x${space.directory.toString(16)}`;

export class FrameMapper {
  constructor(
    private readonly pc: PC, private readonly spaces: AddressSpaces, private readonly spare: SparePool,
    private readonly hardware: HardwareMirror | null, private readonly events: MemoryEventLog, private readonly mirrorOffset: number,
  ) {}

  private get guestFrames(): number {
    return this.pc.mem.guestSize / PAGE;
  }

  private get hostFrames(): number {
    return this.hardware ? this.hardware.base + this.guestFrames : this.spare.end;
  }

  /** Which host frames some guest frame maps now. */
  private mappedHostFrames(): Uint8Array {
    const mapped = new Uint8Array(this.hostFrames);
    const p2m = this.pc.mem.p2m;
    for (let g = 0; g < this.guestFrames; g++) mapped[p2m[g]!] = 1;
    return mapped;
  }

  private liveSpaces(): UserPages[] {
    return [...this.spaces.liveUserPages()];
  }

  private view(space: UserPages): AddressSpaceView {
    const p2m = this.pc.mem.p2m, offset = this.mirrorOffset;
    const native: number[] = [], twins: Array<number | null> = [], otherMirrors: number[] = [], knownZero: boolean[] = [];
    for (const [va, frame] of space.native) {
      native.push(p2m[frame]!);
      knownZero.push(space.knownZero.has(va));
      const twin = space.mirror.get(va + offset);
      twins.push(twin === undefined ? null : p2m[twin]!);
    }
    for (const [va, frame] of space.mirror) if (!space.native.has(va - offset)) otherMirrors.push(p2m[frame]!);
    return {
      directory: space.directory, process: this.spaces.ownerOf(space.directory), running: space.directory === (this.pc.cpu.cr3 & ~0xfff) >>> 0,
      native, twins, knownZero, otherMirrors, tables: [space.directory >>> 12, ...space.tables].map((f) => p2m[f]!),
    };
  }

  /** The role of every host frame now, and the live address spaces (those with user pages). */
  map(): FrameMap {
    const { pc, hardware } = this;
    const guestFrames = this.guestFrames, spareEnd = this.spare.end, handedOut = this.spare.firstLeft;
    const roles = new Uint8Array(this.hostFrames);
    const mapped = this.mappedHostFrames();
    const p2m = pc.mem.p2m;
    // Weakest first: a later role overrides an earlier one.
    for (let h = handedOut; h < spareEnd; h++) roles[h] = ROLE.spare;
    if (hardware) roles.fill(ROLE.mirror, hardware.base, hardware.base + guestFrames);
    if (pc.kernelFrames) for (let g = pc.kernelFrames[0]; g < pc.kernelFrames[1]; g++) roles[p2m[g]!] = ROLE.kernel;
    const spaces = this.liveSpaces().map((s) => this.view(s));
    for (const s of spaces) {
      for (const f of s.otherMirrors) roles[f] = ROLE.mirror;
      for (const f of s.twins) if (f !== null) roles[f] = ROLE.mirror;
      for (const f of s.native) roles[f] = ROLE.native;
      for (const f of s.tables) roles[f] = ROLE['page-table'];
    }
    for (let h = guestFrames; h < handedOut; h++) if (mapped[h]) roles[h] = ROLE.recovered;
    for (let h = 0; h < this.hostFrames; h++) if (mapped[h] && pc.defects.isPoisoned(h)) roles[h] = ROLE.poisoned;
    for (let h = 0; h < handedOut; h++) if (!mapped[h]) roles[h] = ROLE.retired;
    return { roles, guestFrames, spareEnd, spaces: spaces.filter((s) => s.native.length + s.otherMirrors.length > 0) };
  }

  /** Everything the monitor knows about host frame `hostFrame`. */
  details(hostFrame: number): FrameDetails {
    const { pc, hardware } = this;
    const guestFrames = this.guestFrames;
    const inCopy = hardware !== null && hostFrame >= hardware.base;
    const p2m = pc.mem.p2m;
    let guestFrame: number | null = null;
    if (!inCopy) for (let g = 0; g < guestFrames && guestFrame === null; g++) if (p2m[g] === hostFrame) guestFrame = g;
    const owners: FrameOwner[] = [];
    const offset = this.mirrorOffset;
    if (guestFrame !== null) {
      for (const space of this.liveSpaces()) {
        const process = processLabel({ directory: space.directory, process: this.spaces.ownerOf(space.directory) });
        const twinOf = (map: Map<number, number>, va: number) => {
          const f = map.get(va);
          return f === undefined ? null : p2m[f]!;
        };
        for (const [va, f] of space.native) if (f === guestFrame) owners.push({ process, va, kind: 'native', twinHostFrame: twinOf(space.mirror, va + offset) });
        for (const [va, f] of space.mirror) if (f === guestFrame) owners.push({ process, va, kind: 'mirror', twinHostFrame: twinOf(space.native, va - offset) });
      }
    }
    const hardwareTwin = !hardware ? null : inCopy ? p2m[hostFrame - hardware.base]! : guestFrame !== null ? hardware.mirrorFrame(guestFrame) : null;
    const roles = this.map().roles;
    return {
      hostFrame, role: FRAME_ROLES[roles[hostFrame] ?? 0]!,
      region: hostFrame < guestFrames ? 'guest memory' : hostFrame < this.spare.end ? 'spare pool' : 'hardware mirror',
      guestFrame: inCopy ? hostFrame - hardware!.base : guestFrame, owners, hardwareTwin,
      history: this.events.history(hostFrame).map((e) => `cycle ${e.cycle}: ${e.kind}: ${e.text}`),
    };
  }
}
