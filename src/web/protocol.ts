/**
 * The messages between the web page (page.ts, the main thread) and the machine's worker
 * (worker.ts). The machine runs in the worker so the page stays responsive; the worker
 * sends what changed at a bounded rate (console text as it comes, statistics ten times a
 * second, the memory map five times).
 */
import type { AddressSpaceView, FrameDetails, MirrorMode } from '../vmm/index.js';
import type { RunPlan } from './run-plan.js';

export type ToWorker =
  | { type: 'boot'; plan: RunPlan }
  | { type: 'restore'; name: string; bytes: ArrayBuffer; seed: number }
  /** Typed text; the guest gets its UTF-8 bytes. */
  | { type: 'input'; text: string }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'step' }
  | { type: 'pace'; pace: boolean }
  /** A fault in the --inject language; a spec without a time lands within the next `within` cycles (0: now). */
  | { type: 'inject'; spec: string; within: number }
  /** A fault of `kind` on the guest page that host frame `hostFrame` holds, now. */
  | { type: 'inject-frame'; hostFrame: number; kind: string }
  | { type: 'details'; hostFrame: number }
  | { type: 'snapshot' };

/** What the page's counters and chart show. */
export interface Counters {
  injected: number;
  activated: number;
  recovered: number;
  recoveredByGuest: number;
  machineChecks: number;
  killed: number;
}

export interface Status {
  running: boolean;
  mirror: MirrorMode;
  seed: number;
  instructions: number;
  cycles: number;
  /** Guest instructions per host second over the last interval. */
  mips: number;
  counters: Counters;
}

export interface LogEntry {
  cycle: number;
  kind: 'injected' | 'activated' | 'recovered' | 'machine-check' | 'guest' | 'run';
  text: string;
}

export type FromWorker =
  | { type: 'progress'; name: string; loaded: number; total: number }
  | { type: 'booted'; mirror: MirrorMode; seed: number; restored: boolean; consoleHistory: string }
  | { type: 'console'; text: string }
  | { type: 'status'; status: Status }
  | { type: 'log'; entries: LogEntry[] }
  | { type: 'map'; roles: Uint8Array; guestFrames: number; spareEnd: number; spaces: AddressSpaceView[] }
  | { type: 'details'; details: FrameDetails }
  /** A fault was added to the plan (the page adds it to the shareable URL). */
  | { type: 'injected'; spec: string }
  /** The plan's `until` matched (or the machine stopped): the run's end, with its instruction count. */
  | { type: 'finished'; outcome: string; instructions: number; cycles: number; message: string }
  | { type: 'snapshot'; name: string; bytes: ArrayBuffer }
  | { type: 'error'; message: string };
