/**
 * The MC146818 CMOS real-time clock (ports 0x70/0x71): date and time in BCD or binary,
 * 12/24-hour, the update-in-progress bit, periodic and update-ended interrupts on ISA
 * IRQ 8 (register C says which, and reading it acknowledges), the SET bit for setting the
 * clock, and the CMOS bytes firmware leaves for kernels: memory sizes and the shutdown
 * status byte. Alarm interrupts (AIE) are stored but never fire. The clock runs on virtual time from a start date chosen at boot.
 */
import type { AccessSize } from '../cpu/bus.js';
import { assignState, cyclesFor, CYCLES_PER_SECOND, fromBcd, pickState, ticksIn, toBcd, type Clock, type Device, type DeviceState, type IrqLines, type PortHandler } from './device.js';

const REG_A = 0x0a, REG_B = 0x0b, REG_C = 0x0c, REG_D = 0x0d;
const B_SET = 0x80, B_PIE = 0x40, B_UIE = 0x10, B_BINARY = 0x04, B_24H = 0x02;
const C_IRQF = 0x80, C_PF = 0x40, C_UF = 0x10;
const OSC_HZ = 32768;
/** Update-in-progress is visible for the last 244 microseconds before each second. */
const UIP_CYCLES = Math.round(244e-6 * CYCLES_PER_SECOND);

const FIELDS = ['cmos', 'index', 'nmiMasked', 'baseSeconds', 'lastUpdate', 'lastPeriodic'] as const;

export class CmosRtc implements Device, PortHandler {
  readonly name = 'rtc';
  readonly version = 1;
  readonly cmos = new Uint8Array(128);
  index = 0;
  nmiMasked = false;
  /** Seconds since 1970 (UTC) at virtual time 0. */
  baseSeconds: number;
  /** The last second boundary and periodic tick already accounted for in register C. */
  lastUpdate = 0;
  lastPeriodic = 0;

  constructor(private readonly clock: Clock, private readonly lines: IrqLines,
    private readonly memoryBytes: number, startSeconds: number) {
    this.baseSeconds = startSeconds;
    this.reset();
  }

  reset(): void {
    this.cmos.fill(0);
    this.cmos[REG_A] = 0x26;
    this.cmos[REG_B] = B_24H;
    this.cmos[REG_D] = 0x80;
    const kib = (bytes: number) => Math.min(0xffff, Math.max(0, Math.floor(bytes / 1024)));
    const put16 = (at: number, v: number) => { this.cmos[at] = v & 0xff; this.cmos[at + 1] = v >> 8; };
    put16(0x15, 640);
    put16(0x17, kib(this.memoryBytes - 0x100000));
    put16(0x30, kib(this.memoryBytes - 0x100000));
    put16(0x34, this.memoryBytes > 16 << 20 ? Math.min(0xffff, Math.floor((this.memoryBytes - (16 << 20)) / 65536)) : 0);
    this.index = 0;
    this.nmiMasked = false;
    this.lastUpdate = this.lastPeriodic = 0;
  }

  private seconds(now: number): number {
    return this.baseSeconds + Math.floor(now / CYCLES_PER_SECOND);
  }

  private encode(v: number): number {
    return this.cmos[REG_B]! & B_BINARY ? v : toBcd(v);
  }

  private decode(v: number): number {
    return this.cmos[REG_B]! & B_BINARY ? v : fromBcd(v);
  }

  /** Brings the time registers up to date (unless the guest is setting the clock). */
  private latchTime(now: number): void {
    if (this.cmos[REG_B]! & B_SET) return;
    const d = new Date(this.seconds(now) * 1000);
    let hour = d.getUTCHours();
    const h24 = (this.cmos[REG_B]! & B_24H) !== 0;
    let hourByte: number;
    if (h24) hourByte = this.encode(hour);
    else {
      const pm = hour >= 12;
      hour = hour % 12 || 12;
      hourByte = this.encode(hour) | (pm ? 0x80 : 0);
    }
    this.cmos[0] = this.encode(d.getUTCSeconds());
    this.cmos[2] = this.encode(d.getUTCMinutes());
    this.cmos[4] = hourByte;
    this.cmos[6] = this.encode(d.getUTCDay() + 1);
    this.cmos[7] = this.encode(d.getUTCDate());
    this.cmos[8] = this.encode(d.getUTCMonth() + 1);
    this.cmos[9] = this.encode(d.getUTCFullYear() % 100);
    this.cmos[0x32] = this.encode(Math.floor(d.getUTCFullYear() / 100));
  }

  /** The guest finished setting the clock: restart it from the registers. */
  private setFromRegisters(now: number): void {
    let hour = this.decode(this.cmos[4]! & 0x7f);
    if (!(this.cmos[REG_B]! & B_24H)) hour = (hour % 12) + (this.cmos[4]! & 0x80 ? 12 : 0);
    const year = this.decode(this.cmos[0x32]!) * 100 + this.decode(this.cmos[9]!);
    const t = Date.UTC(year, this.decode(this.cmos[8]!) - 1, this.decode(this.cmos[7]!), hour,
      this.decode(this.cmos[2]!), this.decode(this.cmos[0]!)) / 1000;
    if (Number.isFinite(t)) this.baseSeconds = t - Math.floor(now / CYCLES_PER_SECOND);
  }

  private periodTicks(): number {
    let rate = this.cmos[REG_A]! & 0xf;
    if (rate === 0) return 0;
    if (rate <= 2) rate += 7;
    return 1 << (rate - 1);
  }

  /** Sets register C's flags for everything that happened up to `now`; raises IRQ 8 if enabled. */
  private catchUp(now: number): void {
    const second = Math.floor(now / CYCLES_PER_SECOND);
    if (second > this.lastUpdate) {
      this.lastUpdate = second;
      this.cmos[REG_C]! |= C_UF;
    }
    const period = this.periodTicks();
    if (period) {
      const tick = Math.floor(ticksIn(now, OSC_HZ) / period);
      if (tick > this.lastPeriodic) {
        this.lastPeriodic = tick;
        this.cmos[REG_C]! |= C_PF;
      }
    }
    const b = this.cmos[REG_B]!;
    const c = this.cmos[REG_C]!;
    if ((c & C_PF && b & B_PIE) || (c & C_UF && b & B_UIE)) {
      if (!(c & C_IRQF)) {
        this.cmos[REG_C] = c | C_IRQF;
        this.lines.setIrq(8, true);
      }
    }
  }

  nextEvent(): number {
    const b = this.cmos[REG_B]!;
    let next = Infinity;
    if (b & B_UIE) next = (this.lastUpdate + 1) * CYCLES_PER_SECOND;
    const period = this.periodTicks();
    if (b & B_PIE && period) next = Math.min(next, cyclesFor((this.lastPeriodic + 1) * period, OSC_HZ));
    return next;
  }

  onEvent(now: number): void {
    this.catchUp(now);
  }

  portRead(port: number, _size: AccessSize): number {
    if (port === 0x70) return 0xff;
    const now = this.clock.now();
    const r = this.index;
    if (r < 10 || r === 0x32) {
      this.latchTime(now);
      return this.cmos[r]!;
    }
    if (r === REG_A) {
      const uip = now % CYCLES_PER_SECOND >= CYCLES_PER_SECOND - UIP_CYCLES && !(this.cmos[REG_B]! & B_SET);
      return (this.cmos[REG_A]! & 0x7f) | (uip ? 0x80 : 0);
    }
    if (r === REG_C) {
      this.catchUp(now);
      const c = this.cmos[REG_C]!;
      this.cmos[REG_C] = 0;
      this.lines.setIrq(8, false);
      this.clock.rescheduled();
      return c;
    }
    return this.cmos[r]!;
  }

  portWrite(port: number, _size: AccessSize, value: number): void {
    value &= 0xff;
    if (port === 0x70) {
      this.index = value & 0x7f;
      this.nmiMasked = (value & 0x80) !== 0;
      return;
    }
    const now = this.clock.now();
    const r = this.index;
    if (r === REG_C || r === REG_D) return;  // read-only
    if (r === REG_B) {
      const was = this.cmos[REG_B]!;
      if (!(was & B_SET) && value & B_SET) this.latchTime(now);
      this.cmos[REG_B] = value & ~0x08;
      if (was & B_SET && !(value & B_SET)) this.setFromRegisters(now);
      this.catchUp(now);
      this.clock.rescheduled();
      return;
    }
    if (r === REG_A) {
      this.cmos[REG_A] = value & 0x7f;
      this.lastPeriodic = this.periodTicks() ? Math.floor(ticksIn(now, OSC_HZ) / this.periodTicks()) : 0;
      this.clock.rescheduled();
      return;
    }
    if ((r < 10 || r === 0x32) && !(this.cmos[REG_B]! & B_SET)) {
      // Writing one field while the clock runs: take the whole time from the registers.
      this.latchTime(now);
      this.cmos[r] = value;
      this.setFromRegisters(now);
      return;
    }
    this.cmos[r] = value;
  }

  save(): DeviceState {
    return pickState(this, FIELDS);
  }

  restore(state: DeviceState): void {
    assignState(this, state, FIELDS);
  }
}
