/**
 * The 8254 programmable interval timer (ports 0x40-0x43) and port 0x61 (channel 2's
 * gate, the speaker, and the output and refresh bits that firmware and kernels poll to
 * calibrate). Channel 0's output is ISA IRQ 0. It counts at 1.193182 MHz of virtual time.
 *
 * Modes 0 (interrupt on terminal count), 2 (rate generator), 3 (square wave) and 4
 * (software strobe) are modelled exactly; 1 and 5 (hardware-triggered) behave like 0 and 4
 * when the gate rises. BCD counting is accepted and counted in binary.
 */
import type { AccessSize } from '../cpu/bus.js';
import { assignState, cyclesFor, pickState, stateNumber, ticksIn, type Clock, type Device, type DeviceState, type IrqLines, type PortHandler } from './device.js';

export const PIT_HZ = 1193182;

const CHANNEL_FIELDS = ['reload', 'mode', 'access', 'loadTime', 'gate', 'latched', 'latchState', 'readHigh',
  'writeHigh', 'writeLow', 'statusLatched', 'status', 'armed', 'bcd'] as const;

const ticksBetween = (from: number, to: number): number => ticksIn(to - from, PIT_HZ);
const cycleAfterTicks = (from: number, ticks: number): number => from + cyclesFor(ticks, PIT_HZ);

class Channel {
  reload = 0x10000; mode = 0; access = 3; loadTime = 0; gate = true;
  latched = -1; latchState = 0; readHigh = false; writeHigh = false; writeLow = 0;
  statusLatched = false; status = 0;
  /** A count has been loaded and the channel is counting. */
  armed = false;
  bcd = false;

  reset(gate: boolean): void {
    this.reload = 0x10000; this.mode = 0; this.access = 3; this.loadTime = 0; this.gate = gate;
    this.latched = -1; this.latchState = 0; this.readHigh = this.writeHigh = false; this.writeLow = 0;
    this.statusLatched = false; this.status = 0; this.armed = false; this.bcd = false;
  }

  /** Ticks since the count was loaded. */
  elapsed(now: number): number {
    return this.armed && this.gate ? ticksBetween(this.loadTime, now) : 0;
  }

  count(now: number): number {
    const d = this.elapsed(now), n = this.reload;
    if (!this.armed) return n & 0xffff;
    switch (this.mode) {
      case 2: return n - (d % n);
      case 3: return n - ((2 * d) % n);
      default: return (n - d) & 0xffff;
    }
  }

  output(now: number): boolean {
    const d = this.elapsed(now), n = this.reload;
    if (!this.armed) return this.mode !== 0;
    switch (this.mode) {
      case 0: case 1: return d >= n;
      case 2: return d % n !== n - 1;
      case 3: return d % n < ((n + 1) >> 1);
      default: return d !== n;  // modes 4 and 5: one low tick at terminal count
    }
  }

  /** The cycle of the next rising edge of the output (when IRQ 0 fires), or Infinity. */
  nextEdge(now: number): number {
    if (!this.armed || !this.gate) return Infinity;
    const d = ticksBetween(this.loadTime, now), n = this.reload;
    let edge: number;
    switch (this.mode) {
      case 0: case 1: if (d >= n) return Infinity; edge = n; break;
      case 2: case 3: edge = (Math.floor(d / n) + 1) * n; if (this.mode === 3 && d < n) edge = n; break;
      default: if (d > n) return Infinity; edge = n + 1; break;
    }
    return cycleAfterTicks(this.loadTime, edge);
  }
}

export class Pit8254 implements Device, PortHandler {
  readonly name = 'pit';
  readonly version = 1;
  private readonly channels = [new Channel(), new Channel(), new Channel()];
  speaker = 0;
  /** Cycle at which IRQ 0 fires next (cached; recomputed whenever channel 0 changes). */
  private irqAt = Infinity;
  irqs = 0;

  constructor(private readonly clock: Clock, private readonly lines: IrqLines) {
    this.reset();
  }

  reset(): void {
    this.channels[0]!.reset(true);
    this.channels[1]!.reset(true);
    this.channels[2]!.reset(false);
    this.speaker = 0;
    this.irqAt = Infinity;
  }

  private replan(): void {
    this.irqAt = this.channels[0]!.nextEdge(this.clock.now());
    this.clock.rescheduled();
  }

  nextEvent(): number {
    return this.irqAt;
  }

  onEvent(now: number): void {
    this.irqs++;
    this.lines.setIrq(0, true);
    this.lines.setIrq(0, false);
    this.irqAt = this.channels[0]!.nextEdge(now + 1);
    if (this.irqAt <= now) this.irqAt = now + 1;
  }

  portRead(port: number, _size: AccessSize): number {
    const now = this.clock.now();
    if (port === 0x61) {
      const ch2 = this.channels[2]!;
      const refresh = Math.floor(now / 1500) & 1;  // toggles every 15 microseconds
      return (this.speaker & 3) | (refresh << 4) | ((ch2.output(now) ? 1 : 0) << 5);
    }
    if (port === 0x43) return 0xff;
    const ch = this.channels[port & 3]!;
    if (ch.statusLatched) {
      ch.statusLatched = false;
      return ch.status;
    }
    let value: number;
    if (ch.latched >= 0) {
      value = ch.latchState === 1 || (ch.latchState === 3 && !ch.readHigh) ? ch.latched & 0xff : (ch.latched >> 8) & 0xff;
      if (ch.latchState === 3 && !ch.readHigh) ch.readHigh = true;
      else { ch.latched = -1; ch.readHigh = false; }
      return value;
    }
    const count = ch.count(now);
    if (ch.access === 1) return count & 0xff;
    if (ch.access === 2) return (count >> 8) & 0xff;
    value = ch.readHigh ? (count >> 8) & 0xff : count & 0xff;
    ch.readHigh = !ch.readHigh;
    return value;
  }

  portWrite(port: number, _size: AccessSize, value: number): void {
    const now = this.clock.now();
    value &= 0xff;
    if (port === 0x61) {
      const ch2 = this.channels[2]!;
      const gate = (value & 1) !== 0;
      if (gate && !ch2.gate && ch2.armed) ch2.loadTime = now;  // a rising gate restarts the count
      ch2.gate = gate;
      this.speaker = value & 3;
      return;
    }
    if (port === 0x43) {
      const select = value >> 6;
      if (select === 3) {  // read-back
        for (let i = 0; i < 3; i++) {
          if (!(value & (2 << i))) continue;
          const ch = this.channels[i]!;
          if (!(value & 0x20) && ch.latched < 0) { ch.latched = ch.count(now); ch.latchState = ch.access; ch.readHigh = false; }
          if (!(value & 0x10) && !ch.statusLatched) {
            ch.statusLatched = true;
            ch.status = ((ch.output(now) ? 1 : 0) << 7) | (ch.access << 4) | (ch.mode << 1) | (ch.bcd ? 1 : 0);
          }
        }
        return;
      }
      const ch = this.channels[select]!;
      const access = (value >> 4) & 3;
      if (access === 0) {  // counter latch
        if (ch.latched < 0) { ch.latched = ch.count(now); ch.latchState = ch.access; ch.readHigh = false; }
        return;
      }
      ch.access = access;
      ch.mode = (value >> 1) & 7;
      if (ch.mode > 5) ch.mode -= 4;
      ch.bcd = (value & 1) !== 0;
      ch.armed = false;
      ch.readHigh = ch.writeHigh = false;
      if (select === 0) this.replan();
      return;
    }
    const ch = this.channels[port & 3]!;
    let reload: number;
    if (ch.access === 1) reload = value;
    else if (ch.access === 2) reload = value << 8;
    else if (!ch.writeHigh) { ch.writeLow = value; ch.writeHigh = true; return; }
    else { reload = ch.writeLow | (value << 8); ch.writeHigh = false; }
    ch.reload = reload === 0 ? 0x10000 : reload;
    ch.loadTime = now;
    ch.armed = true;
    if ((port & 3) === 0) this.replan();
  }

  save(): DeviceState {
    return { channels: this.channels.map((c) => pickState(c, CHANNEL_FIELDS)), speaker: this.speaker, irqAt: this.irqAt, irqs: this.irqs };
  }

  restore(state: DeviceState): void {
    const channels = state.channels as DeviceState[];
    if (!Array.isArray(channels) || channels.length !== this.channels.length) throw new Error('channels is not a list of 3');
    channels.forEach((s, i) => assignState(this.channels[i]!, s, CHANNEL_FIELDS));
    this.speaker = stateNumber(state, 'speaker');
    this.irqAt = stateNumber(state, 'irqAt');
    this.irqs = stateNumber(state, 'irqs');
  }
}
