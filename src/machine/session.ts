/**
 * A run of the PC with a console: collects what the guest prints, types --send text when
 * a prompt appears, stops on --until, takes a snapshot on --snapshot-at, and gives up
 * after a wall-clock timeout. Console watching happens only at slice boundaries, which
 * fall at fixed points of virtual time, so what the guest receives and when is the same
 * in every run with the same inputs.
 */
import type { PC, StopReason } from './pc.js';
import { PromptedInput } from './prompted-input.js';
import type { ConsoleState } from './snapshot.js';

/**
 * The console is bytes: the transcript holds each byte the guest sends as one character
 * (latin1), and the terminal gets the same bytes back, as QEMU's serial console passes them
 * on. Text a user gives (--until, --prompt, --send) is UTF-8, so it is turned into the
 * bytes a guest would print or read for it.
 */
export function consoleBytesOf(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** A regular expression over the console transcript's bytes, written as UTF-8 text (multiline). */
export function consoleRegExp(source: string): RegExp {
  return new RegExp(consoleBytesOf(source), 'm');
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

  constructor(readonly pc: PC, readonly options: SessionOptions) {
    this.transcript = options.history ?? '';
    this.sessionStart = this.transcript.length;
    this.typing = new PromptedInput(options.send ?? [], options.prompt, { history: this.transcript, consumed: options.consumed });
    pc.onConsole = (byte) => { this.pending += String.fromCharCode(byte); };
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
      o.saveSnapshot({ console: this.transcript, consumed: this.typing.consumed });
      this.snapshotTaken = true;
    }
    const text = this.typing.next(this.transcript);
    if (text !== null) this.pc.uart.receive(Buffer.from(text, 'latin1'));
    if (o.until && o.until.test(this.transcript.slice(this.sessionStart))) return 'matched';
    return null;
  }

  /** Runs until an outcome; yields to the event loop between slices (for host input and timers). */
  async run(): Promise<SessionResult> {
    const started = performance.now();
    const startCycles = this.pc.now();
    const o = this.options;
    let outcome: Outcome | null = null;
    // Text carried over from a snapshot may already show the prompt a --send waits for.
    outcome = this.boundary();
    while (!outcome) {
      let slice = SLICE_CYCLES;
      if (o.maxCycles !== undefined) slice = Math.min(slice, startCycles + o.maxCycles - this.pc.now());
      if (slice <= 0) { outcome = 'limit'; break; }
      this.pc.run(slice);
      outcome = this.boundary();
      if (outcome) break;
      if (this.quitRequested) { outcome = 'quit'; break; }
      if (this.pc.stopReason) { outcome = 'stopped'; break; }
      const wall = performance.now() - started;
      if (o.timeoutMs !== undefined && wall > o.timeoutMs) { outcome = 'timeout'; break; }
      if (o.pace) {
        const ahead = (this.pc.now() - startCycles) / 1e5 - wall;  // 1e5 cycles per ms
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
