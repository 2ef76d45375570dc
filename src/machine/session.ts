/**
 * A run of the PC with a console: collects what the guest prints, types --send text when
 * a prompt appears, stops on --until, takes a snapshot on --snapshot-at, and gives up
 * after a wall-clock timeout. Console watching happens only at slice boundaries, which
 * fall at fixed points of virtual time, so what the guest receives and when is the same
 * in every run with the same inputs. `run` drives it to the end on Node; a web page's
 * worker calls `step` itself, a slice at a time, between its messages.
 */
import { CYCLE_NS } from './device.js';
import type { PC, StopReason } from './pc.js';
import { PromptedInput } from './prompted-input.js';
import type { ConsoleState } from './snapshot.js';

/** What --send waits for unless told otherwise: a shell prompt ending the console (a regular expression, multi-line). */
export const DEFAULT_PROMPT = '\\$ $';

/** Text as the bytes a serial line carries: each UTF-16 unit's low byte (Latin-1). */
export function latin1Bytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}

/** Virtual cycles per slice: 10 ms of guest time. */
export const SLICE_CYCLES = 1_000_000;

export interface SessionOptions {
  /** Stop with success when the console matches (searched in output since the start of this session). */
  until?: RegExp;
  /** Texts typed into the serial console, each after the next match of `prompt`. */
  send?: string[];
  prompt?: RegExp;
  /** Wall-clock limit. */
  timeoutMs?: number;
  /** Virtual-time limit in cycles. */
  maxCycles?: number;
  /** When the console first matches `snapshotAt`, `saveSnapshot` is called (the monitor writes the file). */
  snapshotAt?: RegExp;
  saveSnapshot?: (state: ConsoleState) => void;
  /** Console bytes as they arrive (for a terminal). */
  echo?: (text: string) => void;
  /** Keep virtual time from running ahead of wall time (interactive use). */
  pace?: boolean;
  /** Console transcript carried over from a snapshot. */
  history?: string;
  /** Called at each slice boundary with the whole transcript (console-triggered fault injection). */
  onConsole?: (transcript: string) => void;
  /** How much of `history` earlier --send text already answered (saved in the snapshot). */
  consumed?: number;
}

export type Outcome = 'matched' | 'stopped' | 'timeout' | 'limit' | 'quit' | 'finished';

export interface SessionResult {
  outcome: Outcome;
  stop: StopReason | null;
  /** Everything the guest printed in this session. */
  output: string;
  wallSeconds: number;
  snapshotTaken: boolean;
}

export class Session {
  /** The whole transcript, including `history`. */
  transcript: string;
  private readonly sessionStart: number;
  private pending = '';
  private readonly typing: PromptedInput;
  private snapshotTaken = false;
  private quitRequested = false;
  private begun = false;
  /** Virtual time when the session began. */
  readonly startCycles: number;

  constructor(readonly pc: PC, readonly options: SessionOptions) {
    this.transcript = options.history ?? '';
    this.sessionStart = this.transcript.length;
    this.startCycles = pc.now();
    this.typing = new PromptedInput(options.send ?? [], options.prompt, { history: this.transcript, consumed: options.consumed });
    pc.onConsole = (byte) => { this.pending += String.fromCharCode(byte); };
  }

  /** The console as a snapshot keeps it: the transcript, and how much of it --send text has answered. */
  consoleState(): ConsoleState {
    return { console: this.transcript, consumed: this.typing.consumed };
  }

  /** Host keystrokes (interactive): straight to the UART. */
  input(bytes: Iterable<number>): void {
    this.pc.uart.receive(bytes);
  }

  quit(): void {
    this.quitRequested = true;
    this.pc.cpu.requestStop();
  }

  /** Handles console output and watchers at a slice boundary; returns an outcome to stop with. */
  private boundary(): Outcome | null {
    if (this.pending) {
      this.options.echo?.(this.pending);
      this.transcript += this.pending;
      this.pending = '';
    }
    const o = this.options;
    o.onConsole?.(this.transcript);
    if (o.snapshotAt && o.saveSnapshot && !this.snapshotTaken && o.snapshotAt.test(this.transcript.slice(this.sessionStart))) {
      o.saveSnapshot(this.consoleState());
      this.snapshotTaken = true;
    }
    const text = this.typing.next(this.transcript);
    if (text !== null) this.pc.uart.receive(latin1Bytes(text));
    if (o.until && o.until.test(this.transcript.slice(this.sessionStart))) return 'matched';
    return null;
  }

  /**
   * Runs one slice and handles its boundary; returns an outcome to stop with, or null to
   * go on. The first call only handles the boundary the session starts at: text carried
   * over from a snapshot may already show the prompt a --send waits for.
   */
  step(): Outcome | null {
    if (!this.begun) {
      this.begun = true;
      return this.boundary();
    }
    const o = this.options;
    let slice = SLICE_CYCLES;
    if (o.maxCycles !== undefined) slice = Math.min(slice, this.startCycles + o.maxCycles - this.pc.now());
    if (slice <= 0) return 'limit';
    this.pc.run(slice);
    const outcome = this.boundary();
    if (outcome) return outcome;
    if (this.quitRequested) return 'quit';
    if (this.pc.stopReason) return 'stopped';
    return null;
  }

  /** Milliseconds of guest time that have passed since `fromCycle` (virtual time, at 100 MHz). */
  guestMsSince(fromCycle: number): number {
    return ((this.pc.now() - fromCycle) * CYCLE_NS) / 1e6;
  }

  /** Runs until an outcome; yields to the event loop between slices (for host input and timers). */
  async run(): Promise<SessionResult> {
    const started = performance.now();
    const o = this.options;
    let outcome: Outcome | null;
    while (!(outcome = this.step())) {
      const wall = performance.now() - started;
      if (o.timeoutMs !== undefined && wall > o.timeoutMs) { outcome = 'timeout'; break; }
      if (o.pace) {
        const ahead = this.guestMsSince(this.startCycles) - wall;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(ahead, 50))));
      } else {
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    if (outcome === 'stopped' && !o.until) outcome = 'finished';
    return {
      outcome,
      stop: this.pc.stopReason,
      output: this.transcript.slice(this.sessionStart),
      wallSeconds: (performance.now() - started) / 1000,
      snapshotTaken: this.snapshotTaken,
    };
  }
}
