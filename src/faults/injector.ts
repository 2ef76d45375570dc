/**
 * The fault injector: turns a plan (`--inject` specs) into seeded injections at instants
 * of virtual time, on frames of the target class chosen when they land. It is a timed
 * part of the machine (its events are in virtual time) and a snapshot part (the plan, its
 * progress and its random generators are saved), so a run restored from a snapshot, or
 * one given its faults only at the restore, injects exactly what an uninterrupted run
 * with the same seeds injects.
 *
 * Which frames belong to a target class is the monitor's knowledge (it reads the guest's
 * page tables): the injector asks a FaultTargets. Faults aimed at user pages wait for the
 * running process's next system call, when every native/mirror store pair of a
 * translated program is complete: a fault landing between the two stores would be
 * repaired from a copy one store behind. In real memory such a coincidence (an error in
 * the very bytes stored a few nanoseconds ago) is vanishingly rare; an injector picking
 * instants uniformly would make it common and measure the injector, not the system.
 */
import { Listeners } from '../cpu/listeners.js';
import type { DeviceState, SnapshotPart } from '../machine/device.js';
import type { PC, TimedPart } from '../machine/pc.js';
import { applyFault } from './models.js';
import { SeededRandom } from './random.js';
import type { FaultTarget, InjectionSpec } from './spec.js';

/** Retry an injection that found nothing to hit this much later (1 ms of guest time). */
const RETRY_CYCLES = 100_000;
/** …at most this many times. */
const MAX_RETRIES = 1000;

/** Frames a target class covers right now, as the monitor sees the guest. */
export interface FaultTargets {
  /** The candidates for one injection: each is the guest frames hit together (one, or a page and its twin). */
  candidates(target: Exclude<FaultTarget, 'address'>): Candidates;
  /**
   * True while a fault aimed at anything but a user page must not land yet: the guest's
   * kernel is between a native store and its mirror store (system mode). It is tried again
   * one cycle later.
   */
  landingHeld?(): boolean;
}

export interface Candidates {
  count: number;
  at(index: number): number[];
}

const USER_TARGETS: ReadonlySet<FaultTarget> = new Set(['user-native', 'user-mirror', 'both']);

/** Does a fault aimed at `target` wait for the next system call? */
export const landsAtSystemCall = (target: FaultTarget) => USER_TARGETS.has(target);

interface Pending {
  at: number;
  spec: number;
  attempt: number;
}

export class FaultInjector implements TimedPart, SnapshotPart {
  readonly name = 'fault-injector';
  readonly version = 1;
  private specs: InjectionSpec[] = [];
  private random: SeededRandom[] = [];
  private pending: Pending[] = [];
  private atNextSystemCall: Pending[] = [];
  /** Injections put off by landingHeld (back in `pending` before onEvent returns). */
  private held: Pending[] = [];
  /** match= injections waiting for their text on the console. */
  private consoleTriggers: Array<{ spec: number; text: string }> = [];
  injected = 0;
  /** Injections that found no frame of their target class, even after retrying. */
  noTarget = 0;
  /** A fault landed on guest frame `guestFrame` (listeners observe; the log has the same line). */
  readonly injectedListeners = new Listeners<[cycle: number, guestFrame: number, description: string]>();

  constructor(private readonly pc: PC, private readonly targets: FaultTargets, private readonly log: string[]) {}

  /** Adds injections to the plan (at boot, or to a restored machine). */
  plan(specs: InjectionSpec[]): void {
    for (const spec of specs) {
      const index = this.specs.length;
      this.specs.push(spec);
      const random = new SeededRandom(spec.seed);
      this.random.push(random);
      const t = spec.trigger;
      if (t.kind === 'console') {
        this.consoleTriggers.push({ spec: index, text: t.text });
        continue;
      }
      for (let n = 0; n < spec.count; n++) {
        this.pending.push({ at: t.kind === 'cycle' ? t.at : random.nextInRange(t.from, t.to), spec: index, attempt: 0 });
      }
    }
    this.sortPending();
  }

  get planned(): number {
    return this.specs.length;
  }

  private sortPending(): void {
    this.pending.sort((a, b) => a.at - b.at || a.spec - b.spec);
  }

  nextEvent(): number {
    return this.pending.length ? this.pending[0]!.at : Infinity;
  }

  onEvent(now: number): void {
    while (this.pending.length && this.pending[0]!.at <= now) {
      const item = this.pending.shift()!;
      if (landsAtSystemCall(this.specs[item.spec]!.target)) this.atNextSystemCall.push(item);
      else if (this.targets.landingHeld?.() === true) this.held.push({ ...item, at: now + 1 });
      else this.injectNow(item, now);
    }
    if (this.held.length) {
      this.pending.push(...this.held);
      this.held = [];
      this.sortPending();
      this.pc.rescheduled();
    }
  }

  /** The running process made a system call: the user-page injections that are due land now. */
  systemCall(now: number): void {
    if (this.atNextSystemCall.length === 0) return;
    const due = this.atNextSystemCall;
    this.atNextSystemCall = [];
    for (const item of due) this.injectNow(item, now);
  }

  /** The console so far (at a slice boundary): match= injections whose text has appeared are due now. */
  consoleText(transcript: string): void {
    if (this.consoleTriggers.length === 0) return;
    const now = this.pc.now();
    this.consoleTriggers = this.consoleTriggers.filter(({ spec, text }) => {
      if (!transcript.includes(text)) return true;
      for (let n = 0; n < this.specs[spec]!.count; n++) this.pending.push({ at: now, spec, attempt: 0 });
      return false;
    });
    this.sortPending();
  }

  private injectNow(item: Pending, now: number): void {
    const spec = this.specs[item.spec]!;
    const random = this.random[item.spec]!;
    const frames = this.chooseFrames(spec, random);
    if (frames) {
      for (const frame of frames) {
        this.injected++;
        const description = applyFault(this.pc, spec, frame, random);
        this.log.push(`cycle ${now}: ${spec.source} (seed ${spec.seed}): ${description}`);
        this.injectedListeners.dispatch?.(now, frame, `${spec.source}: ${description}`);
      }
    } else if (item.attempt < MAX_RETRIES) {
      this.pending.push({ ...item, at: now + RETRY_CYCLES, attempt: item.attempt + 1 });
      this.sortPending();
      this.pc.rescheduled();
    } else {
      this.noTarget++;
      this.log.push(`cycle ${now}: ${spec.source} (seed ${spec.seed}): no ${spec.target} frame to hit`);
    }
  }

  /** The frames one injection hits, chosen now; null if its target class has none. */
  private chooseFrames(spec: InjectionSpec, random: SeededRandom): number[] | null {
    if (spec.target === 'address') return [spec.address! >>> 12];
    const candidates = this.targets.candidates(spec.target);
    if (candidates.count === 0) return null;
    return candidates.at(random.nextBelow(candidates.count));
  }

  save(): DeviceState {
    return {
      specs: this.specs, random: this.random.map((r) => r.state), pending: this.pending, atNextSystemCall: this.atNextSystemCall,
      consoleTriggers: this.consoleTriggers, injected: this.injected, noTarget: this.noTarget,
    };
  }

  restore(state: DeviceState): void {
    const s = state as { specs: InjectionSpec[]; random: Array<[number, number, number, number]>; pending: Pending[]; atNextSystemCall: Pending[];
      consoleTriggers: Array<{ spec: number; text: string }>; injected: number; noTarget: number };
    if (!Array.isArray(s.specs) || !Array.isArray(s.random) || s.random.length !== s.specs.length) throw new Error('the fault plan is malformed');
    this.specs = s.specs;
    this.random = s.specs.map((spec, i) => {
      const random = new SeededRandom(spec.seed);
      random.state = s.random[i]!;
      return random;
    });
    this.pending = s.pending;
    this.atNextSystemCall = s.atNextSystemCall;
    this.consoleTriggers = s.consoleTriggers;
    this.injected = s.injected;
    this.noTarget = s.noTarget;
  }
}
