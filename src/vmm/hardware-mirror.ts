/**
 * `--mirror hardware`: the monitor keeps a second copy of all guest memory and duplicates
 * every guest write into it, as Intel's full memory mirroring does in the memory
 * controller. No translated code, twice the memory: the reference that guest mirroring is
 * measured against. Every guest RAM page gets a write hook: reads stay fast, writes take
 * the CPU's marked-write path (no page walk), and after each write the same bytes go to
 * the page's mirror.
 */
import { PAGE_WRITE_HOOK } from '../cpu/memory.js';
import type { DeviceState, SnapshotPart } from '../machine/device.js';
import { LISTENER_ORDER } from '../machine/listener-order.js';
import type { PC } from '../machine/pc.js';
import type { TwinSource } from './recovery.js';

const PAGE = 4096;

export class HardwareMirror implements SnapshotPart, TwinSource {
  readonly name = 'hardware-mirror';
  readonly version = 1;
  /** Host frame of the mirror of guest frame 0; guest frame g's mirror is base + g. */
  readonly base: number;
  writes = 0;

  /** The mirror occupies host frames [base, base + guest frames): the top of host memory (see spare-pool.ts). */
  constructor(private readonly pc: PC, base: number) {
    const mem = pc.mem;
    this.base = base;
    if ((base + mem.guestSize / PAGE) * PAGE > mem.ram.length) throw new Error('internal error: no host memory reserved for the hardware mirror');
    const ram = mem.ram, mirrorStart = base * PAGE;
    // Every write takes the slow path from power-on: compiled blocks make it in place
    // rather than leaving the block at each one (see compile.ts leaveBefore).
    pc.cpu.blocks.hookedWrites = true;
    mem.writeListeners.add(LISTENER_ORDER.write.hardwareMirror, 'hardware mirror', (p, size) => {
      this.writes++;
      const host = mem.hostOffset(p), mirror = mirrorStart + p;
      for (let i = 0; i < size; i++) ram[mirror + i] = ram[host + i]!;
      mem.markWritten(mirror >>> 12);
    });
  }

  /** At power-on: the mirror takes a copy of all memory, and every page's writes are hooked from now on. */
  start(): void {
    const mem = this.pc.mem;
    const frames = mem.guestSize / PAGE;
    for (let g = 0; g < frames; g++) {
      const host = mem.hostOffset(g * PAGE);
      mem.ram.copyWithin((this.base + g) * PAGE, host, host + PAGE);
      mem.pageFlags[g] |= PAGE_WRITE_HOOK;
    }
    mem.noteHostWrite(this.base * PAGE, mem.guestSize);
    this.pc.cpu.flushTlb();
  }

  /** The host frame holding the mirror of guest frame g. */
  mirrorFrame(g: number): number {
    return this.base + g;
  }

  healthyTwin(page: number): { hostFrame: number; description: string } | null {
    return { hostFrame: this.mirrorFrame(page), description: 'from the hardware mirror' };
  }

  save(): DeviceState {
    return { writes: this.writes };
  }

  restore(state: DeviceState): void {
    this.writes = state.writes as number;
  }
}
