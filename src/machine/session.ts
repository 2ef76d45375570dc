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

/**
 * The console is bytes: the transcript holds each byte the guest sends as one character
 * (latin1), and the terminal gets the same bytes back, as QEMU's serial console passes them
 * on. Text a user gives (--until, --prompt, --send) is UTF-8, so it is turned into the
 * bytes a guest would print or read for it.
 */
export function consoleBytesOf(text: string): string {
  let bytes = '';
  for (const byte of new TextEncoder().encode(text)) bytes += String.fromCharCode(byte);
  return bytes;
}

/** A regular expression over the console transcript's bytes, written as UTF-8 text (multiline). */
export function consoleRegExp(source: string): RegExp {
  return new RegExp(consoleBytesOf(source), 'm');
}

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
/** Host milliseconds after which work that is slow on the host yields inside a slice (see CPU.hostDeadline). */
const HOST_SLICE_MS = 50;

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
  /** A debugger attached to the run (gdb): it may hold the machine still between any two instructions. */
  debugger?: SessionDebugger;
}

/**
 * A debugger's hold on a session. A stop cuts a slice short; the rest of the slice runs
 * when the debugger lets go, so slice boundaries (console, --send, --until) fall where
 * they would without it, and the run goes on exactly as it would have.
 */
export interface SessionDebugger {
  /** The machine must stand still (a breakpoint, a step, Ctrl-C, waiting for the debugger). */
  readonly holding: boolean;
  /** Called while holding: resolves when the debugger lets the machine go on, or with 'quit' when it ends the run. */
  release(): Promise<'run' | 'quit'>;
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

  /** Console output so far to the transcript and the terminal. */
  private flush(): void {
    if (this.pending) {
      this.options.echo?.(this.pending);
      this.transcript += this.pending;
      this.pending = '';
    }
  }

  /** Handles console output and watchers at a slice boundary; returns an outcome to stop with. */
  private boundary(): Outcome | null {
    this.flush();
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

  /** Wall-clock milliseconds the machine stood still for a debugger (not counted by --timeout or pacing). */
  private heldMs = 0;
  /** The virtual cycle the current slice ends at; null between slices. */
  private sliceEnd: number | null = null;

  /** The machine must stand still for a debugger (a breakpoint, a step, Ctrl-C, -S); `run` waits, a caller of `step` must too. */
  get held(): boolean {
    return this.options.debugger?.holding === true;
  }

  /**
   * Runs one slice and handles its boundary; returns an outcome to stop with, or null to
   * go on. The first call only handles the boundary the session starts at: text carried
   * over from a snapshot may already show the prompt a --send waits for. A debugger's
   * stop, or the CPU yielding to the host, cuts a slice short (null); the next call runs
   * the rest of it, so boundaries fall where they would otherwise.
   */
  step(): Outcome | null {
    if (!this.begun) {
      this.begun = true;
      return this.boundary();
    }
    if (this.held) return null;
    const o = this.options;
    if (this.sliceEnd === null) {
      let slice = SLICE_CYCLES;
      if (o.maxCycles !== undefined) slice = Math.min(slice, this.startCycles + o.maxCycles - this.pc.now());
      if (slice <= 0) return 'limit';
      this.sliceEnd = this.pc.now() + slice;
    }
    const left = this.sliceEnd - this.pc.now();
    if (left > 0 && !this.pc.stopReason) {
      const cpu = this.pc.cpu;
      cpu.hostDeadline = performance.now() + HOST_SLICE_MS;
      this.pc.run(left);
      cpu.hostDeadline = Infinity;
      const yielded = cpu.yielded;
      cpu.yielded = false;
      // Cut short by the host (a debugger holds the processor, or the CPU yielded to the host
      // in a long instruction): the slice goes on in the next step from the same point, and
      // its boundary comes where it would have, so the run stays the same.
      if ((this.held || yielded) && this.pc.now() < this.sliceEnd && !this.pc.stopReason && !this.quitRequested) {
        this.flush();   // what the guest printed shows; its watchers wait for the boundary
        return null;
      }
    }
    this.sliceEnd = null;
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

  /** Waits while a debugger holds the machine; false if the debugger ended the run. */
  private async whileHeld(): Promise<boolean> {
    const debug = this.options.debugger;
    while (debug?.holding) {
      const since = performance.now();
      const answer = await debug.release();
      this.heldMs += performance.now() - since;
      if (answer === 'quit') return false;
    }
    return true;
  }

  /** Runs until an outcome; yields to the event loop between slices (for host input and timers). */
  async run(): Promise<SessionResult> {
    const started = performance.now();
    const o = this.options;
    let outcome: Outcome | null;
    for (;;) {
      if (!await this.whileHeld()) { outcome = 'quit'; break; }
      if ((outcome = this.step())) break;
      if (this.held) continue;
      const wall = performance.now() - started - this.heldMs;
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
      wallSeconds: (performance.now() - started - this.heldMs) / 1000,
      snapshotTaken: this.snapshotTaken,
    };
  }
}
