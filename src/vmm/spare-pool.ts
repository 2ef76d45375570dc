/**
 * Workflow step 1: host memory reserved at VM start, beyond the guest's, for frames that
 * replace bad ones (and, with --mirror hardware, for the monitor's copy of all guest
 * memory). The layout of host memory is decided here, once:
 *
 *   [0, guest)                     guest memory (identity P2M until frames are replaced)
 *   [guest, guest + spare)         spare frames, handed out in order, never returned
 *   [guest + spare, + guest)       the hardware mirror (only with --mirror hardware)
 */
import type { PhysicalMemory } from '../cpu/memory.js';
import type { DeviceState, SnapshotPart } from '../machine/device.js';

const PAGE = 4096;

/** Host memory beyond the guest's that a monitor with this set-up reserves (MiB). */
export function reservedMiB(memoryMiB: number, spareMiB: number, hardwareMirror: boolean): number {
  return spareMiB + (hardwareMirror ? memoryMiB : 0);
}

export class SparePool implements SnapshotPart {
  readonly name = 'spare-pool';
  readonly version = 1;
  private next: number;
  /** The first host frame beyond the pool (where the hardware mirror begins). */
  readonly end: number;

  constructor(mem: PhysicalMemory, spareMiB: number) {
    this.next = mem.guestSize / PAGE;
    this.end = this.next + (spareMiB * 1024 * 1024) / PAGE;
    if (this.end > mem.ram.length / PAGE) throw new Error('internal error: the spare pool is larger than host memory');
  }

  /** Spare frames not handed out yet. */
  get left(): number {
    return this.end - this.next;
  }

  /** The first host frame not handed out yet (those below it, from the pool's start, were). */
  get firstLeft(): number {
    return this.next;
  }

  /** A fresh host frame, or null when the pool is used up. */
  take(): number | null {
    return this.next < this.end ? this.next++ : null;
  }

  save(): DeviceState {
    return { next: this.next };
  }

  restore(state: DeviceState): void {
    const next = state.next;
    if (!Number.isInteger(next) || (next as number) > this.end) throw new Error('spare pool position is malformed');
    this.next = next as number;
  }
}
