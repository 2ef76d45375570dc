/**
 * What a debugger (gdb, through src/gdb) asks of the processor: stop before the
 * instruction at a linear address (breakpoints: no byte of the guest is changed), stop
 * after an instruction that read or wrote watched bytes (watchpoints), stop after one
 * instruction (a step), as the debug registers and the trap flag do on a real i386.
 *
 * None of it costs anything while no debugger is attached (CPU.debug is null). With one,
 * a linear page holding a breakpoint or a watched byte is never cached, neither in the
 * TLB nor as the fetch page: every fetch and every access there takes the slow path
 * (fetchSlow, readLinear, writeLinear), where it is checked; compiled blocks are found
 * through the read TLB, so none runs on such a page. Every other page runs as fast as
 * without a debugger.
 *
 * A stop changes nothing the guest can see: a breakpoint stops before the instruction
 * (nothing of it has run, nothing is counted), a watchpoint or a step after a whole
 * instruction, and the machine goes on from there as if it had never stopped. Stepping
 * over an instruction at which an external interrupt arrives runs the interrupt's
 * handler to its return first, then the instruction: interrupts come exactly where they
 * would without the debugger, and a step still ends one instruction further on.
 */
import type { CPU } from './cpu.js';
import { CR0_PG, CR4_PSE, ESP, PTE_P, PTE_PS } from './state.js';

export type WatchKind = 'write' | 'read' | 'access';

/** Why the processor stopped for the debugger. */
export type DebugStop =
  | { kind: 'breakpoint'; address: number; hardware: boolean }
  /** `address` is the first watched byte the instruction touched. */
  | { kind: 'watchpoint'; watch: WatchKind; address: number }
  | { kind: 'step' }
  /** The debugger asked (Ctrl-C, or it just connected). */
  | { kind: 'interrupted' };

/** Thrown (one instance) when the instruction about to start has a breakpoint: the run loop undoes its fetch. */
export const DEBUG_BREAK = { debugBreak: true };

interface Watch {
  address: number;
  length: number;
  kind: WatchKind;
}

/** Where a step resumes after an interrupt's handler: the instruction it was about to run. */
interface StepReturn {
  linear: number;
  esp: number;
  cr3: number;
}

export class DebugTraps {
  /** Per linear page: breakpoints, watchpoints and step traps on it (non-zero: never cached). */
  readonly pages = new Uint16Array(1 << 20);
  /** Breakpoint address → how many (gdb may put a software and a hardware one at one address); 'hw' when all are hardware. */
  private readonly breakpoints = new Map<number, { count: number; hardware: boolean }>();
  private watches: Watch[] = [];
  /** Why the machine stands still, or null while it runs. */
  stop: DebugStop | null = null;
  private stepping = false;
  private stepFrom: StepReturn | null = null;
  /** The instruction count and interrupts taken when the pending step (re)started. */
  private stepStart = 0;
  private stepInterrupts = 0;
  /** Set while a step waits for an interrupt's handler to return. */
  private stepReturn: StepReturn | null = null;

  constructor(private readonly cpu: CPU) {}

  // ---------------------------------------------------------------- what the debugger sets

  addBreakpoint(address: number, hardware: boolean): void {
    address >>>= 0;
    const known = this.breakpoints.get(address);
    if (known) {
      known.count++;
      known.hardware &&= hardware;
    } else this.breakpoints.set(address, { count: 1, hardware });
    this.cover(address, 1, 1);
  }

  /** False if there was none at `address`. */
  removeBreakpoint(address: number): boolean {
    address >>>= 0;
    const known = this.breakpoints.get(address);
    if (!known) return false;
    if (--known.count === 0) this.breakpoints.delete(address);
    this.cover(address, 1, -1);
    return true;
  }

  addWatchpoint(address: number, length: number, kind: WatchKind): void {
    this.watches.push({ address: address >>> 0, length, kind });
    this.cover(address >>> 0, length, 1);
  }

  /** False if there was no such watchpoint. */
  removeWatchpoint(address: number, length: number, kind: WatchKind): boolean {
    const at = this.watches.findIndex((w) => w.address === address >>> 0 && w.length === length && w.kind === kind);
    if (at < 0) return false;
    this.watches.splice(at, 1);
    this.cover(address >>> 0, length, -1);
    return true;
  }

  /** Every breakpoint and watchpoint gone (the debugger detached). */
  clear(): void {
    for (const [address, { count }] of this.breakpoints) for (let i = 0; i < count; i++) this.removeBreakpoint(address);
    for (const w of [...this.watches]) this.removeWatchpoint(w.address, w.length, w.kind);
    this.endStep();
  }

  /** The next run executes one instruction, then stops (`stop` = step). */
  step(): void {
    const cpu = this.cpu;
    this.stepping = true;
    this.stepFrom = { linear: (cpu.csBase + cpu.eip) | 0, esp: cpu.reg[ESP]!, cr3: cpu.cr3 };
    this.stepStart = cpu.instructionCount;
    this.stepInterrupts = cpu.interruptsTaken;
  }

  /** The machine goes on (continue or step): the last stop is over. */
  resume(): void {
    this.stop = null;
  }

  /** Marks (delta 1) or unmarks (-1) the linear pages of [address, address + length), dropping their cached translations. */
  private cover(address: number, length: number, delta: number): void {
    const first = address >>> 12, last = ((address + Math.max(length, 1) - 1) >>> 0) >>> 12;
    for (let page = first; ; page = (page + 1) & 0xfffff) {
      this.pages[page] += delta;
      this.cpu.invalidatePage(page << 12);
      if (page === last) break;
    }
  }

  private endStep(): void {
    this.stepping = false;
    this.stepFrom = null;
    if (this.stepReturn) this.cover(this.stepReturn.linear, 1, -1);
    this.stepReturn = null;
  }

  private stopHere(stop: DebugStop): void {
    if (this.stop === null) this.stop = stop;
    this.endStep();
    this.cpu.requestStop();
  }

  // ---------------------------------------------------------------- what the processor tells

  /** The instruction budget of a run: one instruction while a step is pending. */
  budget(budget: number): number {
    return this.stepping && this.stepReturn === null ? Math.min(budget, 1) : budget;
  }

  /** A run has ended: a pending step is done, or waits for an interrupt handler's return. */
  ran(): void {
    if (!this.stepping || this.stepReturn !== null || this.stop !== null || this.cpu.instructionCount === this.stepStart) return;
    if (this.cpu.interruptsTaken !== this.stepInterrupts) {
      // An external interrupt came before the instruction: its handler runs to the return first.
      this.stepReturn = this.stepFrom;
      this.cover(this.stepReturn!.linear, 1, 1);
      return;
    }
    this.stopHere({ kind: 'step' });
  }

  /**
   * The instruction at linear `address` is about to start (its first byte is being
   * fetched from a marked page): throws DEBUG_BREAK when it must not run now.
   */
  beforeInstruction(address: number): void {
    const cpu = this.cpu;
    const back = this.stepReturn;
    if (back !== null && back.linear === address && back.esp === cpu.reg[ESP] && back.cr3 === cpu.cr3) {
      // The interrupted step's instruction again: the next run executes it alone.
      this.cover(back.linear, 1, -1);
      this.stepReturn = null;
      this.stepStart = cpu.instructionCount;
      this.stepInterrupts = cpu.interruptsTaken;
      cpu.requestStop();
      throw DEBUG_BREAK;
    }
    const breakpoint = this.breakpoints.get(address >>> 0);
    if (breakpoint === undefined) return;
    this.stopHere({ kind: 'breakpoint', address: address >>> 0, hardware: breakpoint.hardware });
    throw DEBUG_BREAK;
  }

  /** An access to [address, address + size) on a marked page has happened. */
  accessed(address: number, size: number, write: boolean): void {
    const from = address >>> 0, to = from + size;
    for (const w of this.watches) {
      if (w.kind === 'write' ? !write : w.kind === 'read' ? write : false) continue;
      if (from < w.address + w.length && w.address < to) {
        this.stopHere({ kind: 'watchpoint', watch: w.kind, address: Math.max(from, w.address) });
        return;
      }
    }
  }
}

/**
 * The guest-physical address behind linear `address` as the running page tables map it,
 * or null if they do not: read as a debugger reads, with no accessed or dirty bit set, no
 * hook run and no fault raised.
 */
export function debugTranslate(cpu: CPU, address: number): number | null {
  if (!(cpu.cr0 & CR0_PG)) return address >>> 0;
  const mem = cpu.mem;
  const pde = mem.peek32((cpu.cr3 & ~0xfff) + ((address >>> 22) << 2));
  if (!(pde & PTE_P)) return null;
  if (pde & PTE_PS && cpu.cr4 & CR4_PSE) return ((pde & 0xffc00000) | (address & 0x3fffff)) >>> 0;
  const pte = mem.peek32((pde & ~0xfff) + (((address >>> 12) & 0x3ff) << 2));
  if (!(pte & PTE_P)) return null;
  return ((pte & ~0xfff) | (address & 0xfff)) >>> 0;
}
