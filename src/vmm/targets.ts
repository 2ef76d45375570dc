/**
 * Fault target classes as the monitor sees the guest: the frames of the running
 * process's user pages (native, mirror, or both of a pair), its page tables, the kernel
 * image, or any frame of guest memory. A frame already poisoned is not a fresh target.
 */
import type { Candidates, FaultTarget, FaultTargets } from '../faults/index.js';
import type { PC } from '../machine/pc.js';
import type { AddressSpaces } from './address-spaces.js';

/** The first frame `any` may hit: below it lie the firmware tables and the real-mode area. */
const FIRST_ORDINARY_FRAME = 0x100;
/** Where the kernel image is assumed to be when the machine was not booted from a multiboot kernel. */
const DEFAULT_KERNEL_FRAMES: [number, number] = [0x100, 0x200];

const frames = (list: number[][]): Candidates => ({ count: list.length, at: (i) => list[i]! });
const frameRange = (first: number, end: number): Candidates => ({ count: Math.max(0, end - first), at: (i) => [first + i] });

export class GuestFaultTargets implements FaultTargets {
  /** `held`: while true, faults aimed at kernel memory, page tables or any frame wait (system mode's store pairs). */
  constructor(private readonly pc: PC, private readonly spaces: AddressSpaces, private readonly mirrorOffset: number, private readonly held?: () => boolean) {}

  landingHeld(): boolean {
    return this.held?.() === true;
  }

  candidates(target: Exclude<FaultTarget, 'address'>): Candidates {
    const pc = this.pc;
    if (target === 'kernel') {
      const [first, end] = pc.kernelFrames ?? DEFAULT_KERNEL_FRAMES;
      return frameRange(first, end);
    }
    if (target === 'any') return frameRange(FIRST_ORDINARY_FRAME, pc.mem.guestSize / 4096);
    const { native, mirror, knownZero, tables } = this.spaces.current();
    const fresh = (f: number) => !pc.defects.isPoisoned(pc.mem.p2m[f]!);
    const offset = this.mirrorOffset;
    switch (target) {
      case 'user-native': {
        // In a mirrored process, its protected pages: those with a twin and those known
        // zero (no twin yet); not the translator's spill page once written (it has no twin by design);
        // in an unmirrored one, any of its pages.
        const pages = mirror.size ? [...native.entries()].filter(([va]) => mirror.has(va + offset) || knownZero.has(va)).map(([, f]) => f) : [...native.values()];
        return frames(pages.filter(fresh).map((f) => [f]));
      }
      case 'user-mirror': return frames([...mirror.values()].filter(fresh).map((f) => [f]));
      case 'both':
        return frames([...native.entries()].filter(([va, f]) => mirror.has(va + offset) && fresh(f)).map(([va, f]) => [f, mirror.get(va + offset)!]));
      case 'page-table': return frames(tables.filter(fresh).map((f) => [f]));
    }
  }
}
