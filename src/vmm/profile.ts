/**
 * What the monitor must know about a guest, in one object: where its system calls trap,
 * where its kernel's half of every address space begins, where it maps the mirror of a
 * user page, and how to find a page's twin. The monitor names no guest constant anywhere
 * else, so another guest (or another mirroring layout of the same one) is one more
 * profile.
 */
import type { CPU } from '../cpu/index.js';
import type { PhysicalMemory } from '../cpu/memory.js';
import { MIRROR_OFFSET } from '../layout.js';
import type { AddressSpaces } from './address-spaces.js';
import type { MirrorMode } from './monitor.js';

export interface Twin {
  /** The guest frame holding the same data, or null when the page has none. */
  frame: number | null;
  /** The page has no twin but is known to hold zeros (the guest made its twin lazy: see knownZeroBit). */
  knownZero?: boolean;
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
  /**
   * A PTE bit (one the processor ignores) marking a native page that has no twin yet and is
   * known to hold zeros: read-only until its first write, which makes its twin. 0: none.
   */
  readonly knownZeroBit: number;
  /** The twin of guest frame `frame`, found in the address spaces the guest uses; null if no live address space maps the frame. */
  findTwin(frame: number, spaces: AddressSpaces): Twin | null;
  /** What the guest reported about memory errors on its console. */
  consoleReports(output: string): GuestReports;
  /** Console lines that are the kernel's own diagnostics (not a workload's output): left out when outputs are compared. */
  readonly diagnosticLine: RegExp;
  /**
   * The process the guest is running, read from its kernel's memory (for a memory map's
   * owners; nothing the monitor decides depends on it): asked when the guest loads CR3.
   */
  runningProcess(mem: PhysicalMemory, cpu: CPU): GuestProcess | null;
}

export interface GuestProcess {
  pid: number;
  name: string;
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
function twinInPageTables(offset: number, knownZeroBit: number): GuestProfile['findTwin'] {
  return (frame, spaces) => {
    const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;
    for (const { native, mirror, knownZero } of spaces.liveUserPages()) {
      for (const [va, f] of native) {
        if (f !== frame) continue;
        if (knownZeroBit && knownZero.has(va)) return { frame: null, knownZero: true, description: `(va ${hex(va)}) known zero: zeros` };
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

/**
 * Where MemV6 keeps what names the running process (guest/kernel/proc.h and mmu.h, for
 * gcc -m32; test/vmm/frame-map.test.ts checks every number against gcc's offsetof):
 * the GDT register holds &cpu0.gdt, and cpu0.proc lies after the GDT and two ints.
 */
export const MEMV6_LAYOUT = {
  /** offsetof(struct cpu, proc) - offsetof(struct cpu, gdt) */
  cpuProcFromGdt: 56,
  /** offsetof(struct proc, pid), offsetof(struct proc, name), sizeof(((struct proc *)0)->name) */
  procPid: 16,
  procName: 128,
  procNameBytes: 16,
} as const;

const KERNBASE = 0x80000000;

/** A process struct as last read: its pid and name words, and what they were read as. */
interface ReadProcess {
  words: Int32Array;
  process: GuestProcess;
}
const NAME_WORDS = MEMV6_LAYOUT.procNameBytes / 4;
/** Per memory, by the struct's physical address: a CR3 load (131,000 in a usertests run) mostly finds the same bytes again. */
const readProcesses = new WeakMap<PhysicalMemory, Map<number, ReadProcess>>();

/** MemV6's running process: cpu0.proc, found from the GDT register (the kernel's direct map turns its addresses into physical ones). */
function memv6RunningProcess(mem: PhysicalMemory, cpu: CPU): GuestProcess | null {
  const physical = (va: number) => (va >>> 0) - KERNBASE;
  if (cpu.gdtBase >>> 0 < KERNBASE) return null;  // still booting: the loader's GDT
  const proc = mem.peek32(physical(cpu.gdtBase) + MEMV6_LAYOUT.cpuProcFromGdt);
  if (proc >>> 0 < KERNBASE) return null;  // the scheduler's own address space
  const at = physical(proc);
  let known = readProcesses.get(mem);
  if (known === undefined) readProcesses.set(mem, (known = new Map()));
  // The pid and the name's words; the same bytes as last time are the same process.
  const pid = mem.peek32(at + MEMV6_LAYOUT.procPid) | 0;
  let last = known.get(at);
  let same = last !== undefined && last.words[NAME_WORDS] === pid;
  const words = last?.words ?? new Int32Array(NAME_WORDS + 1);
  for (let w = 0; w < NAME_WORDS; w++) {
    const word = mem.peek32(at + MEMV6_LAYOUT.procName + w * 4) | 0;
    if (words[w] !== word) same = false;
    words[w] = word;
  }
  if (same) return last!.process;
  words[NAME_WORDS] = pid;
  let name = '';
  for (let i = 0; i < MEMV6_LAYOUT.procNameBytes; i++) {
    const c = (words[i >> 2]! >>> ((i & 3) * 8)) & 0xff;
    if (c === 0) break;
    name += String.fromCharCode(c);
  }
  last = { words, process: { pid, name } };
  known.set(at, last);
  return last.process;
}

/** MemV6 (and xv6): `int $64`, the kernel at 0x80000000, user twins at va + 0x40000000. */
export const MEMV6: GuestProfile = {
  name: 'memv6',
  systemCallVector: 64,
  kernelBase: KERNBASE,
  mirrorOffset: MIRROR_OFFSET,
  knownZeroBit: 0x400,  // PTE_ZERO (guest/kernel/mmu.h)
  findTwin: twinInPageTables(MIRROR_OFFSET, 0x400),
  diagnosticLine: /^(mce|mirror): /,
  consoleReports: (output) => ({
    recoveredFromMirror: count(output, /recovered (from its mirror|as known zero)/g),
    killed: count(output, /which has no healthy copy: killing it/g),
    panics: count(output, /^panic: /gm),
    divergences: count(output, /^mirror: pid /gm),
  }),
  runningProcess: memv6RunningProcess,
};

/**
 * The MemV6 build's images (in build/guest) a mode boots: the kernel — in system mode the
 * translated one — and the disk — with guest or system mirroring the one whose programs
 * are all translated, otherwise the plain one.
 */
export const MEMV6_IMAGES = {
  kernel: (mirror: MirrorMode): string => (mirror === 'system' ? 'kernel-system' : 'kernel'),
  disk: (mirror: MirrorMode): string => (mirror === 'guest' || mirror === 'system' ? 'fs-mirrored.img' : 'fs.img'),
} as const;

export const PROFILES: ReadonlyMap<string, GuestProfile> = new Map([[MEMV6.name, MEMV6]]);
