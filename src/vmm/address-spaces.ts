/**
 * The address spaces the guest uses, as the monitor sees them: every page directory the
 * guest has loaded into CR3 and not freed since, and the user pages of each, read from the
 * guest's page tables like a hypervisor walks them. A directory is live while its
 * kernel half is the running one's (a process that exited leaves a stale directory).
 * Which process loaded each directory is remembered too, as the guest profile reads it,
 * for a memory map's owners; that is a view, not part of the machine: it is not in a
 * snapshot, and a restored machine learns it again as its processes run.
 */
import type { CPU } from '../cpu/index.js';
import type { PhysicalMemory } from '../cpu/memory.js';
import { PTE_U } from '../cpu/state.js';
import type { DeviceState, SnapshotPart } from '../machine/device.js';
import { LISTENER_ORDER } from '../machine/listener-order.js';
import { walkUserPages } from './mirror.js';
import type { GuestProcess, GuestProfile } from './profile.js';

/** Past this many directories, those that are no longer live are forgotten… */
const REMEMBERED = 64;
/** …and past this many, the oldest too (a guest with this many live address spaces). */
const LIMIT = 1024;

/** The user pages of one address space: va → guest frame, below the mirror offset and above it, and its page-table frames. */
export interface UserPages {
  directory: number;
  native: Map<number, number>;
  mirror: Map<number, number>;
  /** Native pages marked known zero (the profile's knownZeroBit): no twin yet. */
  knownZero: Set<number>;
  tables: number[];
}

export class AddressSpaces implements SnapshotPart {
  readonly name = 'address-spaces';
  readonly version = 1;
  /** Page directories the guest has loaded, most recent last. */
  private directories: number[] = [];
  private readonly owners = new Map<number, GuestProcess>();
  private readonly kernelEntry: number;

  constructor(private readonly mem: PhysicalMemory, private readonly cpu: CPU, private readonly profile: GuestProfile) {
    this.kernelEntry = (profile.kernelBase >>> 22) * 4;
    cpu.cr3Listeners.add(LISTENER_ORDER.cr3.addressSpaces, 'address spaces', (cr3) => this.remember(cr3));
  }

  private remember(cr3: number): void {
    const dir = cr3 & ~0xfff;
    const dirs = this.directories, last = dirs.length - 1;
    // Most loads are of the last directory or the one before it (a process and the
    // scheduler's, in turn: 131,000 loads in a usertests run).
    if (last >= 1 && dirs[last - 1] === dir) {
      dirs[last - 1] = dirs[last]!;
      dirs[last] = dir;
    } else if (last < 0 || dirs[last] !== dir) {
      const at = dirs.indexOf(dir);
      if (at >= 0) dirs.splice(at, 1);
      dirs.push(dir);
    }
    // Not simply the most recent: a process that has not run for a long while (init, the
    // shell) keeps its pages, and their twins must still be found.
    if (this.directories.length > REMEMBERED) {
      const kernelHalf = this.mem.peek32(dir + this.kernelEntry);
      for (const d of this.directories) if (this.mem.peek32(d + this.kernelEntry) !== kernelHalf) this.owners.delete(d);
      this.directories = this.directories.filter((d) => this.mem.peek32(d + this.kernelEntry) === kernelHalf);
    }
    if (this.directories.length > LIMIT) this.owners.delete(this.directories.shift()!);
    const owner = this.profile.runningProcess(this.mem, this.cpu);
    if (owner) this.owners.set(dir, owner);
    else this.owners.delete(dir);
  }

  /** The process that last loaded page directory `directory`, if the guest profile could tell. */
  ownerOf(directory: number): GuestProcess | null {
    return this.owners.get(directory & ~0xfff) ?? null;
  }

  /** The user pages of the address space with page directory `cr3`. */
  userPages(cr3: number): UserPages {
    const directory = cr3 & ~0xfff;
    const { pages, tables } = walkUserPages(this.mem, directory, 0, this.profile.kernelBase);
    const native = new Map<number, number>(), mirror = new Map<number, number>(), knownZero = new Set<number>();
    const zeroBit = this.profile.knownZeroBit;
    for (const [va, pte] of pages) {
      if (!(pte & PTE_U)) continue;
      (va < this.profile.mirrorOffset ? native : mirror).set(va, pte >>> 12);
      if (zeroBit && pte & zeroBit && va < this.profile.mirrorOffset) knownZero.add(va);
    }
    return { directory, native, mirror, knownZero, tables };
  }

  /** The running address space's user pages. */
  current(): UserPages {
    return this.userPages(this.cpu.cr3 >>> 0);
  }

  /** The user pages of every live address space, most recently loaded first (walked lazily). */
  *liveUserPages(): Generator<UserPages> {
    const kernelHalf = this.mem.peek32((this.cpu.cr3 & ~0xfff) + this.kernelEntry);
    for (let i = this.directories.length - 1; i >= 0; i--) {
      const dir = this.directories[i]!;
      if (this.mem.peek32(dir + this.kernelEntry) !== kernelHalf) continue;
      yield this.userPages(dir);
    }
  }

  save(): DeviceState {
    return { directories: this.directories };
  }

  restore(state: DeviceState): void {
    const dirs = state.directories;
    if (!Array.isArray(dirs) || !dirs.every(Number.isInteger)) throw new Error('address spaces are malformed');
    this.directories = dirs as number[];
  }
}
