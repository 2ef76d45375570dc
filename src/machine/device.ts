/**
 * The shape every PC device has: state, reset, port and/or MMIO handlers, interrupt
 * lines, and save/restore of its state as plain JSON data (for snapshots).
 *
 * Time is virtual (../virtual-time.ts): one cycle per executed instruction, plus the
 * cycles a halted CPU skips. CYCLE_NS says how long a cycle lasts for devices that count
 * real time (timers, the RTC, disk and serial delays), so a guest sees a 100 MHz processor.
 */
import type { AccessSize } from '../cpu/bus.js';
import { CYCLES_PER_SECOND } from '../virtual-time.js';

export { CYCLE_NS, CYCLES_PER_SECOND } from '../virtual-time.js';

/** What a device sees of the machine's clock. */
export interface Clock {
  /** The current virtual time in cycles. */
  now(): number;
  /** A device's next event moved earlier: the run loop must re-plan before the next instruction. */
  rescheduled(): void;
}

/** Interrupt request lines (ISA IRQ numbers), wired to both the 8259 pair and the IOAPIC. */
export interface IrqLines {
  setIrq(irq: number, level: boolean): void;
}

export type DeviceState = Record<string, unknown>;

/**
 * A part of the machine's state with a name and a version, saved in snapshots as its own
 * section (QEMU's VMState idea): a part's version changes only when its saved state
 * changes shape, and a snapshot is refused naming the part whose version does not match.
 */
export interface SnapshotPart {
  readonly name: string;
  readonly version: number;
  save(): DeviceState;
  restore(state: DeviceState): void;
}

export interface Device extends SnapshotPart {
  reset(): void;
  /** Virtual cycle of this device's next timed event, or Infinity. */
  nextEvent?(): number;
  /** Called by the run loop once now() >= nextEvent(). */
  onEvent?(now: number): void;
}

export interface PortHandler {
  portRead(port: number, size: AccessSize): number;
  portWrite(port: number, size: AccessSize, value: number): void;
  /** Optional: IoSpace.writeString for this port (a wide port only). */
  portWriteString?(port: number, size: AccessSize, bytes: Uint8Array, offset: number, count: number): number;
  /** Optional: IoSpace.readString for this port (a wide port only). */
  portReadString?(port: number, size: AccessSize, bytes: Uint8Array, offset: number, count: number): number;
}

/** A number a snapshot gives for a field: a number (Infinity allowed: "never"), not NaN, not another type. */
export function stateNumber(from: DeviceState, field: string): number {
  const value = from[field];
  if (typeof value !== 'number' || Number.isNaN(value)) throw new Error(`snapshot field ${field} is ${JSON.stringify(value) ?? 'missing'}, not a number`);
  return value;
}

/**
 * Copies the listed fields of `from` onto `to`: the common body of restore(). Each value
 * must be of the kind the field holds (a number for a number, a list of as many numbers for
 * a typed array...): a damaged snapshot is refused here, not run with an object as a clock.
 */
export function assignState<T extends object>(to: T, from: DeviceState, fields: ReadonlyArray<keyof T & string>): void {
  for (const f of fields) {
    const value = from[f];
    if (value === undefined) throw new Error(`snapshot field ${f} is missing`);
    const current = to[f] as unknown;
    const wrong = () => new Error(`snapshot field ${f} is ${JSON.stringify(value).slice(0, 40)}, not what the field holds`);
    if (typeof current === 'number') stateNumber(from, f);
    else if (typeof current === 'boolean' || typeof current === 'string') { if (typeof value !== typeof current) throw wrong(); }
    else if (ArrayBuffer.isView(current)) {
      if (!Array.isArray(value) || value.length !== (current as unknown as Int32Array).length || !value.every((n) => typeof n === 'number')) throw wrong();
    } else if (Array.isArray(current) && !Array.isArray(value)) throw wrong();
    if (ArrayBuffer.isView(current) && Array.isArray(value)) (current as unknown as Int32Array).set(value as number[]);
    else if (Array.isArray(current) && Array.isArray(value)) (to as Record<string, unknown>)[f] = structuredClone(value);
    else (to as Record<string, unknown>)[f] = value;
  }
}

/** Reads the listed fields of `from` into plain JSON data: the common body of save(). */
export function pickState<T extends object>(from: T, fields: ReadonlyArray<keyof T & string>): DeviceState {
  const out: DeviceState = {};
  for (const f of fields) {
    const value = from[f] as unknown;
    out[f] = ArrayBuffer.isView(value) ? Array.from(value as unknown as ArrayLike<number>) : structuredClone(value);
  }
  return out;
}

/** Whole ticks of a `hz` clock in `cycles` virtual cycles, exactly (no floating-point drift). */
export function ticksIn(cycles: number, hz: number): number {
  const whole = Math.floor(cycles / CYCLES_PER_SECOND);
  const rest = cycles - whole * CYCLES_PER_SECOND;
  return whole * hz + Math.floor((rest * hz) / CYCLES_PER_SECOND);
}

/** The first cycle count at which `ticks` ticks of a `hz` clock have passed. */
export function cyclesFor(ticks: number, hz: number): number {
  const whole = Math.floor(ticks / hz);
  const rest = ticks - whole * hz;
  return whole * CYCLES_PER_SECOND + Math.ceil((rest * CYCLES_PER_SECOND) / hz);
}

/** BCD helpers for the RTC and friends. */
export const toBcd = (v: number): number => ((Math.floor(v / 10) << 4) | (v % 10)) & 0xff;
export const fromBcd = (v: number): number => (v >> 4) * 10 + (v & 0xf);
