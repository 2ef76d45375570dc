/**
 * The local APIC (MMIO at 0xFEE00000) with its timer, and the I/O APIC (MMIO at
 * 0xFEC00000, 24 pins) that routes device lines to it. Interrupts reach the CPU through
 * the local APIC, or from the 8259 pair through LINT0 in ExtINT mode (as on QEMU's BSP).
 *
 * The APIC timer runs at QEMU's APIC bus frequency, 1 GHz (so a guest that sets the
 * count for QEMU gets the same period here), divided by the divide-configuration register.
 */
import type { AccessSize, MmioDevice } from '../cpu/bus.js';
import { assignState, CYCLE_NS, pickState, type Clock, type Device, type DeviceState } from './device.js';

export const LAPIC_BASE = 0xfee00000;
export const IOAPIC_BASE = 0xfec00000;
export const LAPIC_VERSION = 0x00050014;
export const IOAPIC_VERSION = 0x00170020;
export const IOAPIC_PINS = 24;

const LVT_TIMER = 0, LVT_LINT0 = 3, LVT_LINT1 = 4, LVT_ERROR = 5;
const LVT_MASKED = 0x10000;
const SVR_ENABLE = 0x100;
const APICBASE_ENABLE = 0x800;
/** APIC bus ticks per nanosecond (1 GHz). */
const BUS_TICKS_PER_CYCLE = CYCLE_NS;

/** Index of the highest set bit of a 256-bit vector set, or -1. */
function highest(bits: Uint32Array): number {
  for (let w = 7; w >= 0; w--) if (bits[w]) return w * 32 + 31 - Math.clz32(bits[w]!);
  return -1;
}
const setBit = (bits: Uint32Array, v: number) => { bits[v >>> 5]! |= 1 << (v & 31); };
const clearBit = (bits: Uint32Array, v: number) => { bits[v >>> 5]! &= ~(1 << (v & 31)); };
const testBit = (bits: Uint32Array, v: number) => (bits[v >>> 5]! & (1 << (v & 31))) !== 0;

const LAPIC_FIELDS = ['apicBase', 'id', 'tpr', 'svr', 'ldr', 'dfr', 'irr', 'isr', 'tmr', 'esr', 'icrLow', 'icrHigh',
  'lvt', 'timerInitial', 'timerDivide', 'timerStart', 'timerActive'] as const;

export class LocalApic implements Device, MmioDevice {
  readonly name = 'lapic';
  readonly version = 1;
  apicBase = LAPIC_BASE | 0x900;
  id = 0;
  tpr = 0; svr = 0xff; ldr = 0; dfr = -1; esr = 0; icrLow = 0; icrHigh = 0;
  readonly irr = new Uint32Array(8);
  readonly isr = new Uint32Array(8);
  readonly tmr = new Uint32Array(8);
  readonly lvt = new Int32Array(6);
  timerInitial = 0;
  timerDivide = 0;
  /** Bus tick at which the current timer period started. */
  timerStart = 0;
  timerActive = false;
  /** Set by the machine: end-of-interrupt for level-triggered vectors goes to the IOAPIC. */
  eoiBroadcast: (vector: number) => void = () => {};
  delivered = 0;

  constructor(private readonly clock: Clock, private readonly changed: () => void) {
    this.reset();
  }

  reset(): void {
    this.apicBase = LAPIC_BASE | 0x900;
    this.tpr = this.ldr = this.esr = this.icrLow = this.icrHigh = 0;
    this.svr = 0xff;
    this.dfr = -1;
    this.irr.fill(0); this.isr.fill(0); this.tmr.fill(0);
    this.lvt.fill(LVT_MASKED);
    this.lvt[LVT_LINT0] = 0x700;  // ExtINT: the 8259 pair reaches the BSP (QEMU does this too)
    this.lvt[LVT_LINT1] = 0x400;  // NMI
    this.timerInitial = this.timerDivide = this.timerStart = 0;
    this.timerActive = false;
  }

  private get enabled(): boolean {
    return (this.apicBase & APICBASE_ENABLE) !== 0 && (this.svr & SVR_ENABLE) !== 0;
  }

  /** An interrupt arrives (from the IOAPIC, the timer, or an IPI). */
  accept(vector: number, level: boolean): void {
    if (vector < 16) {
      this.esr |= 0x40;  // received illegal vector
      return;
    }
    setBit(this.irr, vector);
    if (level) setBit(this.tmr, vector); else clearBit(this.tmr, vector);
    this.changed();
  }

  private ppr(): number {
    const isrv = highest(this.isr);
    const isrClass = isrv < 0 ? 0 : isrv & 0xf0;
    return (this.tpr & 0xf0) >= isrClass ? this.tpr & 0xff : isrClass;
  }

  hasInterrupt(): boolean {
    if (!this.enabled) return false;
    const v = highest(this.irr);
    return v >= 0 && (v & 0xf0) > (this.ppr() & 0xf0);
  }

  acknowledge(): number {
    const v = highest(this.irr);
    if (v < 0 || (v & 0xf0) <= (this.ppr() & 0xf0)) return this.svr & 0xff;  // spurious
    clearBit(this.irr, v);
    setBit(this.isr, v);
    this.delivered++;
    return v;
  }

  /** The 8259's INTR is passed on when the APIC is off or LINT0 is an unmasked ExtINT. */
  acceptsPic(): boolean {
    const lint0 = this.lvt[LVT_LINT0]!;
    return (this.apicBase & APICBASE_ENABLE) === 0 || ((lint0 & LVT_MASKED) === 0 && ((lint0 >> 8) & 7) === 7);
  }

  private eoi(): void {
    const v = highest(this.isr);
    if (v < 0) return;
    clearBit(this.isr, v);
    if (testBit(this.tmr, v)) this.eoiBroadcast(v);
    // An EOI makes deliverable what the vector it ends held back, if anything is waiting;
    // else the CPU need not stop to look (MemV6 sends one for every interrupt).
    if (this.hasInterrupt()) this.changed();
  }

  // ------------------------------------------------------------------ timer

  private divisor(): number {
    const d = this.timerDivide;
    const v = (d & 3) | ((d >> 1) & 4);
    return v === 7 ? 1 : 2 << v;
  }

  private period(): number {
    return this.timerInitial * this.divisor();
  }

  private currentCount(): number {
    if (!this.timerActive || this.timerInitial === 0) return 0;
    const elapsed = this.clock.now() * BUS_TICKS_PER_CYCLE - this.timerStart;
    const period = this.period();
    if (elapsed >= period) return 0;  // a periodic timer has already been re-armed by onEvent
    return this.timerInitial - Math.floor(elapsed / this.divisor());
  }

  nextEvent(): number {
    if (!this.timerActive) return Infinity;
    return Math.ceil((this.timerStart + this.period()) / BUS_TICKS_PER_CYCLE);
  }

  onEvent(now: number): void {
    const nowTicks = now * BUS_TICKS_PER_CYCLE;
    const periodic = ((this.lvt[LVT_TIMER]! >> 17) & 3) === 1;
    while (this.timerActive && this.timerStart + this.period() <= nowTicks) {
      if (!(this.lvt[LVT_TIMER]! & LVT_MASKED)) this.accept(this.lvt[LVT_TIMER]! & 0xff, false);
      if (periodic) this.timerStart += this.period();
      else this.timerActive = false;
    }
  }

  // ------------------------------------------------------------------ registers

  private readRegister(index: number): number {
    switch (index) {
      case 0x02: return this.id << 24;
      case 0x03: return LAPIC_VERSION;
      case 0x08: return this.tpr;
      case 0x09: return 0;
      case 0x0a: return this.ppr();
      case 0x0d: return this.ldr;
      case 0x0e: return this.dfr;
      case 0x0f: return this.svr;
      case 0x28: return this.esr;
      case 0x30: return this.icrLow & ~0x1000;
      case 0x31: return this.icrHigh;
      case 0x38: return this.timerInitial;
      case 0x39: return this.currentCount();
      case 0x3e: return this.timerDivide;
    }
    if (index >= 0x10 && index < 0x18) return this.isr[index - 0x10]!;
    if (index >= 0x18 && index < 0x20) return this.tmr[index - 0x18]!;
    if (index >= 0x20 && index < 0x28) return this.irr[index - 0x20]!;
    if (index >= 0x32 && index < 0x38) return this.lvt[index - 0x32]!;
    return 0;
  }

  private writeRegister(index: number, value: number): void {
    switch (index) {
      case 0x08: this.tpr = value & 0xff; this.changed(); return;
      case 0x0b: this.eoi(); return;
      case 0x0d: this.ldr = value & 0xff000000; return;
      case 0x0e: this.dfr = value | 0x0fffffff; return;
      case 0x0f:
        this.svr = value & 0x3ff;
        if (!(this.svr & SVR_ENABLE)) for (let i = 0; i < 6; i++) this.lvt[i] = this.lvt[i]! | LVT_MASKED;
        this.changed();
        return;
      case 0x28: this.esr = 0; return;
      case 0x30: this.icrLow = value; this.sendIpi(); return;
      case 0x31: this.icrHigh = value & 0xff000000; return;
      case 0x38:
        this.timerInitial = value >>> 0;
        this.timerStart = this.clock.now() * BUS_TICKS_PER_CYCLE;
        this.timerActive = this.timerInitial !== 0;
        this.clock.rescheduled();
        return;
      case 0x3e: this.timerDivide = value & 0xb; return;
    }
    if (index >= 0x32 && index < 0x38) {
      const masks = [0x700ff, 0x107ff, 0x107ff, 0x1f7ff, 0x1f7ff, 0x100ff];
      let v = value & masks[index - 0x32]!;
      if (!(this.svr & SVR_ENABLE)) v |= LVT_MASKED;
      this.lvt[index - 0x32] = v;
      this.changed();
      this.clock.rescheduled();
    }
  }

  /** Inter-processor interrupts: with one CPU only fixed interrupts to ourselves do anything. */
  private sendIpi(): void {
    const shorthand = (this.icrLow >> 18) & 3;
    const mode = (this.icrLow >> 8) & 7;
    if (mode > 1) return;  // INIT, STARTUP, NMI, SMI: no other processors to start
    const dest = this.icrHigh >>> 24;
    const logical = (this.icrLow & 0x800) !== 0;
    const toSelf = shorthand === 1 || shorthand === 2 ||
      (shorthand === 0 && (logical ? (dest & (this.ldr >>> 24)) !== 0 : dest === this.id || dest === 0xff));
    if (toSelf) this.accept(this.icrLow & 0xff, (this.icrLow & 0x8000) !== 0);
  }

  mmioRead(offset: number, size: AccessSize): number {
    const value = this.readRegister(offset >>> 4) >>> 0;
    const shift = (offset & 3) * 8;
    return size === 4 ? value : (value >>> shift) & (size === 1 ? 0xff : 0xffff);
  }

  mmioWrite(offset: number, _size: AccessSize, value: number): void {
    if ((offset & 0xf) !== 0) return;  // only aligned 32-bit writes reach a register
    this.writeRegister(offset >>> 4, value | 0);
  }

  save(): DeviceState {
    return { ...pickState(this, LAPIC_FIELDS), delivered: this.delivered };
  }

  restore(state: DeviceState): void {
    assignState(this, state, LAPIC_FIELDS);
    this.delivered = state.delivered as number;
  }
}

const IOAPIC_FIELDS = ['id', 'select', 'low', 'high', 'irr', 'lineLevel'] as const;

export class IoApic implements Device, MmioDevice {
  readonly name = 'ioapic';
  readonly version = 1;
  id = 0;
  select = 0;
  readonly low = new Int32Array(IOAPIC_PINS);
  readonly high = new Int32Array(IOAPIC_PINS);
  /** Pins with a request waiting to be delivered. */
  irr = 0;
  lineLevel = 0;

  constructor(private readonly lapic: LocalApic) {
    this.reset();
  }

  reset(): void {
    this.id = 0;
    this.select = 0;
    this.low.fill(LVT_MASKED);
    this.high.fill(0);
    this.irr = this.lineLevel = 0;
  }

  setIrq(pin: number, level: boolean): void {
    const bit = 1 << pin;
    const wasHigh = (this.lineLevel & bit) !== 0;
    if (level) this.lineLevel |= bit; else this.lineLevel &= ~bit;
    if (this.low[pin]! & 0x8000) {  // level-triggered
      if (level) this.irr |= bit; else this.irr &= ~bit;
    } else if (level && !wasHigh) {
      this.irr |= bit;
    }
    this.service();
  }

  private service(): void {
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      const bit = 1 << pin;
      if (!(this.irr & bit)) continue;
      const entry = this.low[pin]!;
      if (entry & LVT_MASKED) continue;
      const level = (entry & 0x8000) !== 0;
      if (level) {
        if (entry & 0x4000) continue;  // remote IRR: waiting for EOI
        this.low[pin] = entry | 0x4000;
      } else {
        this.irr &= ~bit;
      }
      this.deliver(pin, level);
    }
  }

  private deliver(pin: number, level: boolean): void {
    const entry = this.low[pin]!;
    const mode = (entry >> 8) & 7;
    if (mode > 1) return;  // only fixed and lowest-priority delivery reach a processor
    const dest = this.high[pin]! >>> 24;
    const logical = (entry & 0x800) !== 0;
    const match = logical ? (dest & (this.lapic.ldr >>> 24)) !== 0 : dest === this.lapic.id || dest === 0xff;
    if (match) this.lapic.accept(entry & 0xff, level);
  }

  /** End of interrupt for a level-triggered vector: re-arm the pins that use it. */
  eoi(vector: number): void {
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      const entry = this.low[pin]!;
      if ((entry & 0xff) === vector && (entry & 0x4000)) this.low[pin] = entry & ~0x4000;
    }
    this.service();
  }

  private readRegister(): number {
    const r = this.select;
    if (r === 0x00) return this.id << 24;
    if (r === 0x01) return IOAPIC_VERSION;
    if (r === 0x02) return this.id << 24;
    if (r >= 0x10 && r < 0x10 + 2 * IOAPIC_PINS) {
      const pin = (r - 0x10) >> 1;
      return (r & 1) ? this.high[pin]! : this.low[pin]!;
    }
    return 0;
  }

  private writeRegister(value: number): void {
    const r = this.select;
    if (r === 0x00) { this.id = (value >>> 24) & 0xf; return; }
    if (r >= 0x10 && r < 0x10 + 2 * IOAPIC_PINS) {
      const pin = (r - 0x10) >> 1;
      if (r & 1) this.high[pin] = value & 0xff000000;
      else {
        this.low[pin] = (value & ~0x5000) | (this.low[pin]! & 0x4000);
        if (!(value & 0x8000)) this.low[pin] = this.low[pin]! & ~0x4000;
        if ((value & 0x8000) && (this.lineLevel & (1 << pin))) this.irr |= 1 << pin;
      }
      this.service();
    }
  }

  mmioRead(offset: number, _size: AccessSize): number {
    if (offset === 0x00) return this.select;
    if (offset === 0x10) return this.readRegister() >>> 0;
    return 0;
  }

  mmioWrite(offset: number, _size: AccessSize, value: number): void {
    if (offset === 0x00) this.select = value & 0xff;
    else if (offset === 0x10) this.writeRegister(value | 0);
    else if (offset === 0x40) this.eoi(value & 0xff);
  }

  save(): DeviceState {
    return pickState(this, IOAPIC_FIELDS);
  }

  restore(state: DeviceState): void {
    assignState(this, state, IOAPIC_FIELDS);
  }
}
