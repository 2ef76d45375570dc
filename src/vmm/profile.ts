/**
 * What the monitor must know about a guest, in one object: where its system calls trap,
 * where its kernel's half of every address space begins, where it maps the mirror of a
 * user page, and how to find a page's twin. The monitor names no guest constant anywhere
 * else, so another guest (or another mirroring layout of the same one) is one more
 * profile.
 */
import { MIRROR_OFFSET } from '../layout.js';
import type { AddressSpaces } from './address-spaces.js';
import type { MirrorMode } from './monitor.js';

export interface Twin {
  /** The guest frame holding the same data, or null when the page has none. */
  frame: number | null;
  /** How it was found, for the log. */
  description: string;
}

export interface GuestProfile {
  readonly name: string;
  /** The vector of the guest's system-call trap (`int $N`). */
  readonly systemCallVector: number;
  /** The first address of the kernel's half of every address space; user pages lie below. */
  readonly kernelBase: number;
  /** A mirrored user page at va has its twin at va + mirrorOffset. */
  readonly mirrorOffset: number;
  /** The twin of guest frame `frame`, found in the address spaces the guest uses; null if no live address space maps the frame. */
  findTwin(frame: number, spaces: AddressSpaces): Twin | null;
  /** What the guest reported about memory errors on its console. */
  consoleReports(output: string): GuestReports;
  /** Console lines that are the kernel's own diagnostics (not a workload's output): left out when outputs are compared. */
  readonly diagnosticLine: RegExp;
}

export interface GuestReports {
  /** Pages the guest's machine-check handler recovered from a mirror, and processes it killed. */
  recoveredFromMirror: number;
  killed: number;
  panics: number;
  /** Lines of the guest's own divergence check. */
  divergences: number;
}

const count = (text: string, pattern: RegExp) => (text.match(pattern) ?? []).length;

/**
 * A guest that mirrors user pages in its own page tables: the twin of the page at va is
 * the page at va ± offset in the same address space.
 */
function twinInPageTables(offset: number): GuestProfile['findTwin'] {
  return (frame, spaces) => {
    const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;
    for (const { native, mirror } of spaces.liveUserPages()) {
      for (const [va, f] of native) {
        if (f !== frame) continue;
        const twin = mirror.get(va + offset) ?? null;
        return { frame: twin, description: `(va ${hex(va)}) from its twin ${twin === null ? 'none' : hex(twin * 4096)}` };
      }
      for (const [va, f] of mirror) {
        if (f !== frame) continue;
        const twin = native.get(va - offset) ?? null;
        return { frame: twin, description: `(va ${hex(va)}) from its twin ${twin === null ? 'none' : hex(twin * 4096)}` };
      }
    }
    return null;
  };
}

/** MemV6 (and xv6): `int $64`, the kernel at 0x80000000, user twins at va + 0x40000000. */
export const MEMV6: GuestProfile = {
  name: 'memv6',
  systemCallVector: 64,
  kernelBase: 0x80000000,
  mirrorOffset: MIRROR_OFFSET,
  findTwin: twinInPageTables(MIRROR_OFFSET),
  diagnosticLine: /^(mce|mirror): /,
  consoleReports: (output) => ({
    recoveredFromMirror: count(output, /recovered from its mirror/g),
    killed: count(output, /which has no healthy copy: killing it/g),
    panics: count(output, /^panic: /gm),
    divergences: count(output, /^mirror: pid /gm),
  }),
};

/**
 * The MemV6 build's images (in build/guest): the kernel, and the disk a mode boots — with
 * guest mirroring the one whose programs are all translated, otherwise the plain one.
 */
export const MEMV6_IMAGES = {
  kernel: 'kernel',
  disk: (mirror: MirrorMode): string => (mirror === 'guest' ? 'fs-mirrored.img' : 'fs.img'),
} as const;

export const PROFILES: ReadonlyMap<string, GuestProfile> = new Map([[MEMV6.name, MEMV6]]);
