/**
 * What happened to memory, as structured events the monitor's views read: faults landing
 * on frames, reads of lost data (activations) and what followed — the monitor's recovery
 * (with the host time it took) or a machine check for the guest. Each event is kept in
 * order and under the host frames it concerns, so a memory map can show a frame's
 * history. The events only observe the run; like the rest of a view they are not part of
 * a snapshot (the monitor's text log, which is, says the same).
 */
import { LISTENER_ORDER } from '../machine/listener-order.js';
import type { PC } from '../machine/pc.js';
import type { FaultInjector } from '../faults/index.js';
import type { Recovery } from './recovery.js';

export type MemoryEventKind = 'injected' | 'activated' | 'recovered' | 'machine-check';

export interface MemoryEvent {
  /** Position in the log, from 0. */
  seq: number;
  cycle: number;
  kind: MemoryEventKind;
  guestFrame: number;
  /** The host frame the event happened to (a recovery: the spare frame that now holds the page). */
  hostFrame: number;
  text: string;
  /** A recovery's host time. */
  hostMs?: number;
}

/** Events kept per frame, the latest last. */
const PER_FRAME = 16;

const hex = (frame: number) => `0x${(frame * 4096).toString(16)}`;

export class MemoryEventLog {
  readonly events: MemoryEvent[] = [];
  private readonly byHostFrame = new Map<number, MemoryEvent[]>();

  constructor(private readonly pc: PC, recovery: Recovery, injector: FaultInjector) {
    injector.injectedListeners.add(LISTENER_ORDER.injected.memoryEvents, 'memory events', (cycle, guestFrame, description) => {
      this.add({ cycle, kind: 'injected', guestFrame, hostFrame: pc.mem.p2m[guestFrame]!, text: description }, []);
    });
    pc.defects.consumedListeners.add(LISTENER_ORDER.consumed.memoryEvents, 'memory events', (address, hostFrame) => {
      const guestFrame = address >>> 12, cycle = pc.now();
      const where = `guest frame ${hex(guestFrame)} (host frame ${hex(hostFrame)})`;
      this.add({ cycle, kind: 'activated', guestFrame, hostFrame, text: `read of lost data at 0x${(address >>> 0).toString(16)} in ${where}` }, []);
      const now = pc.mem.p2m[guestFrame]!;
      if (now !== hostFrame) {
        const ms = recovery.lastHostMs;
        this.add({ cycle, kind: 'recovered', guestFrame, hostFrame: now, hostMs: ms,
          text: `recovered by the monitor into spare host frame ${hex(now)} in ${ms.toFixed(3)} ms; host frame ${hex(hostFrame)} retired` }, [hostFrame]);
      } else {
        this.add({ cycle, kind: 'machine-check', guestFrame, hostFrame, text: `no healthy twin the monitor could use: machine check for the guest at ${where}` }, []);
      }
    });
  }

  private add(event: Omit<MemoryEvent, 'seq'>, alsoFrames: number[]): void {
    const full = { seq: this.events.length, ...event };
    this.events.push(full);
    for (const frame of [event.hostFrame, ...alsoFrames]) {
      const list = this.byHostFrame.get(frame) ?? [];
      list.push(full);
      if (list.length > PER_FRAME) list.shift();
      this.byHostFrame.set(frame, list);
    }
  }

  /** The events after the first `seen` (a view polls with the count it has). */
  since(seen: number): MemoryEvent[] {
    return this.events.slice(seen);
  }

  /** The latest events that concern host frame `hostFrame`, oldest first. */
  history(hostFrame: number): MemoryEvent[] {
    return this.byHostFrame.get(hostFrame) ?? [];
  }
}
