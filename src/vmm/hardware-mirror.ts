/**
 * `--mirror hardware`: the monitor keeps a second copy of all guest memory and duplicates
 * every guest write into it, as Intel's full memory mirroring does in the memory
 * controller. No translated code, twice the memory: the reference that guest mirroring is
 * measured against. Every guest RAM page gets a write hook: reads stay fast, writes take
 * the CPU's marked-write path (no page walk), and after each write the same bytes go to
 * the page's mirror.
 */
import { PAGE_WRITE_HOOK } from '../cpu/memory.js';
import { MemvisorError } from '../errors.js';
import type { PC } from '../machine/pc.js';

const PAGE = 4096;

export class HardwareMirror {
  /** Host frame of the mirror of guest frame 0; guest frame g's mirror is base + g. */
  readonly base: number;
  writes = 0;

  /**
   * The PC must have been built with host memory beyond the guest's (PcOptions.spareMiB)
   * of at least the guest's size: the mirror takes the top of it, the spare pool the rest.
   */
  constructor(private readonly pc: PC) {
    const mem = pc.mem;
    const guestFrames = mem.guestSize / PAGE;
    this.base = mem.ram.length / PAGE - guestFrames;
    if (this.base < guestFrames) throw new MemvisorError('--mirror hardware: internal error: no host memory reserved for the mirror');
    for (let g = 0; g < guestFrames; g++) this.sync(g);
    for (let g = 0; g < guestFrames; g++) mem.pageFlags[g] |= PAGE_WRITE_HOOK;
    const ram = mem.ram, mirrorStart = this.base * PAGE;
    mem.writeHook = (p, size) => {
      this.writes++;
      const host = mem.hostOffset(p), mirror = mirrorStart + p;
      for (let i = 0; i < size; i++) ram[mirror + i] = ram[host + i]!;
    };
    pc.cpu.flushTlb();
  }

  /** Copies guest frame g into its mirror. */
  sync(g: number): void {
    const mem = this.pc.mem;
    const host = mem.hostOffset(g * PAGE);
    mem.ram.copyWithin((this.base + g) * PAGE, host, host + PAGE);
  }

  /** The host frame holding the mirror of guest frame g. */
  mirrorFrame(g: number): number {
    return this.base + g;
  }
}
