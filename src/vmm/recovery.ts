/**
 * Transparent recovery, workflow steps 4-6: when the guest reads data a bad frame has
 * lost, the monitor takes a spare host frame (step 4), fills it from the page's healthy
 * twin (step 6), switches the guest-physical → host map to it (step 5) and lets the
 * access go on; the guest executes nothing extra. Without a healthy twin, or with
 * `--recovery guest`, the access ends in a machine check for the guest instead (the
 * machine's MCA bank, src/machine/mca.ts).
 */
import type { DeviceState, SnapshotPart } from '../machine/device.js';
import { LISTENER_ORDER } from '../machine/listener-order.js';
import type { PC } from '../machine/pc.js';
import type { SparePool } from './spare-pool.js';

const PAGE = 4096;

export type RecoveryMode = 'monitor' | 'guest';

/** Where the healthy copy of a guest page is. */
export interface TwinSource {
  /**
   * The host frame holding a healthy copy of guest page `page` and how it was found (hostFrame
   * null: the page is known to hold zeros), or null when there is none.
   */
  healthyTwin(page: number): { hostFrame: number | null; description: string } | null;
}

export class Recovery implements SnapshotPart {
  readonly name = 'recovery';
  readonly version = 1;
  recovered = 0;
  /** Host time spent recovering (not part of the deterministic run), in all and by the latest recovery. */
  hostMs = 0;
  lastHostMs = 0;

  /** With `enabled` false (--recovery guest) the monitor only counts: every consumed error is the guest's machine check. */
  constructor(private readonly pc: PC, private readonly spare: SparePool, private readonly twins: TwinSource, private readonly log: string[], enabled: boolean) {
    if (enabled) pc.defects.consumedListeners.add(LISTENER_ORDER.consumed.monitorRecovery, 'monitor recovery', (address) => { this.recover(address >>> 12); });
  }

  /** Guest page `page` lost data: give it a fresh frame holding its twin's bytes, if there is a twin and a frame. */
  private recover(page: number): boolean {
    const started = performance.now();
    const twin = this.twins.healthyTwin(page);
    if (!twin || (twin.hostFrame !== null && this.pc.defects.isPoisoned(twin.hostFrame))) return false;
    const spare = this.spare.take();
    if (spare === null) return false;
    const mem = this.pc.mem;
    if (twin.hostFrame === null) mem.ram.fill(0, spare * PAGE, spare * PAGE + PAGE);
    else mem.ram.copyWithin(spare * PAGE, twin.hostFrame * PAGE, twin.hostFrame * PAGE + PAGE);
    mem.noteHostWrite(spare * PAGE, PAGE);
    mem.remap(page, spare);
    this.pc.defects.refresh(page);
    this.recovered++;
    this.lastHostMs = performance.now() - started;
    this.hostMs += this.lastHostMs;
    this.log.push(`recovered guest frame 0x${(page * PAGE).toString(16)} ${twin.description}`);
    return true;
  }

  save(): DeviceState {
    return { recovered: this.recovered, hostMs: this.hostMs };
  }

  restore(state: DeviceState): void {
    this.recovered = state.recovered as number;
    this.hostMs = state.hostMs as number;
  }
}
