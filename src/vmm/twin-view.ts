/**
 * What the monitor sees at one linear address of the running address space: the guest
 * frame and host frame behind it, the twin that would repair it (found as recovery finds
 * it: the guest profile's twin at va ± mirror offset in guest mode, the monitor's own copy
 * in hardware mode), and the bytes of both, read straight from host memory (a poisoned
 * frame shows what is left in it). A debugger's `monitor mirror` prints this.
 */
import { debugTranslate } from '../cpu/index.js';
import type { Monitor } from './monitor.js';

export interface FrameView {
  /** The linear address (null for the hardware mirror, which no address maps). */
  va: number | null;
  guestPhys: number;
  hostFrame: number;
  poisoned: boolean;
  bytes: Uint8Array;
}

export interface TwinView {
  native: FrameView;
  twin: FrameView | null;
  /** Where the twin comes from, or why there is none. */
  how: string;
}

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;

/** The view of [va, va + length) (clipped to its page); a message when nothing is mapped at va. */
export function viewTwin(monitor: Monitor, va: number, length: number): TwinView | string {
  const { pc, settings } = monitor;
  const { mem, cpu } = pc;
  va >>>= 0;
  length = Math.max(1, Math.min(length, 0x1000 - (va & 0xfff)));
  const frame = (at: number | null, guestPhys: number, hostFrame: number): FrameView => {
    const host = (hostFrame << 12) | (guestPhys & 0xfff);
    return { va: at, guestPhys, hostFrame, poisoned: pc.defects.isPoisoned(hostFrame), bytes: mem.ram.slice(host, host + length) };
  };
  const guestFrame = (at: number): FrameView | null => {
    const phys = debugTranslate(cpu, at);
    if (phys === null || phys >= mem.guestSize) return null;
    return frame(at, phys, mem.p2m[phys >>> 12]!);
  };
  const native = guestFrame(va);
  if (!native) return `${hex(va)} is not mapped to guest memory in the running address space (cr3 ${hex(cpu.cr3)})`;
  if (monitor.hardware) {
    return { native, twin: frame(null, native.guestPhys, monitor.hardware.mirrorFrame(native.guestPhys >>> 12)), how: 'the hardware mirror (the monitor\'s copy of every frame)' };
  }
  const { mirrorOffset, kernelBase } = settings.profile;
  if (va >= kernelBase) return { native, twin: null, how: `kernel memory has no twin in ${settings.mirror} mode` };
  if (va >= 2 * mirrorOffset) return { native, twin: null, how: `${hex(va)} is above the mirror range` };
  const twinVa = va < mirrorOffset ? va + mirrorOffset : va - mirrorOffset;
  const twin = guestFrame(twinVa);
  if (!twin) return { native, twin: null, how: `nothing is mapped at ${hex(twinVa)} (va ${va < mirrorOffset ? '+' : '-'} the mirror offset ${hex(mirrorOffset)})` };
  const shared = twin.guestPhys >>> 12 === native.guestPhys >>> 12 ? ': the same frame, no redundancy' : '';
  return { native, twin, how: `the page at va ${va < mirrorOffset ? '+' : '-'} ${hex(mirrorOffset)} in the same address space${shared}` };
}
