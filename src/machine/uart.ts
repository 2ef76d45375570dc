/**
 * A 16550A UART on COM1 (ports 0x3F8-0x3FF, ISA IRQ 4): divisor latch, FIFOs, the
 * interrupt identification priorities (line status, received data, transmitter empty,
 * modem status), loopback, and the scratch register. Transmitted bytes go to the host
 * at once; host input enters the receive FIFO one byte per RX_CYCLES of virtual time,
 * never faster than the guest reads it (no host byte is ever lost to an overrun).
 */
import type { AccessSize } from '../cpu/bus.js';
import { assignState, pickState, type Clock, type Device, type DeviceState, type IrqLines, type PortHandler } from './device.js';

export const COM1_BASE = 0x3f8;
export const COM1_IRQ = 4;
/** 100 microseconds per received byte (about 100 kbit/s). */
const RX_CYCLES = 10_000;
const FIFO_SIZE = 16;

const IER_RDA = 1, IER_THRE = 2, IER_RLS = 4, IER_MSR = 8;
const LSR_DR = 0x01, LSR_OE = 0x02, LSR_THRE = 0x20, LSR_TEMT = 0x40;
const IIR_NONE = 0x01;

const FIELDS = ['rx', 'input', 'nextRxAt', 'ier', 'lcr', 'mcr', 'scr', 'dll', 'dlm', 'fifoEnabled', 'thrEmptyPending',
  'overrun', 'msrDelta', 'irqLevel', 'transmitted'] as const;

export class Uart16550 implements Device, PortHandler {
  readonly name = 'uart';
  readonly version = 1;
  rx: number[] = [];
  /** Host bytes waiting to enter the receive FIFO. */
  input: number[] = [];
  nextRxAt = Infinity;
  ier = 0; lcr = 0; mcr = 0; scr = 0; dll = 12; dlm = 0;
  fifoEnabled = false;
  thrEmptyPending = false;
  overrun = false;
  msrDelta = 0;
  irqLevel = false;
  transmitted = 0;
  /** Where transmitted bytes go (the console). */
  onTransmit: (byte: number) => void = () => {};

  constructor(private readonly clock: Clock, private readonly lines: IrqLines, private readonly irq = COM1_IRQ) {
    this.reset();
  }

  reset(): void {
    this.rx = [];
    this.ier = this.lcr = this.mcr = this.scr = 0;
    this.dll = 12; this.dlm = 0;
    this.fifoEnabled = false;
    this.thrEmptyPending = false;
    this.overrun = false;
    this.msrDelta = 0;
    this.nextRxAt = this.input.length ? this.clock.now() + RX_CYCLES : Infinity;
    this.setIrqLevel(false);
  }

  /** Host input (keyboard or --send): queued, then received in virtual time. */
  receive(bytes: Iterable<number>): void {
    for (const b of bytes) this.input.push(b & 0xff);
    if (this.input.length && this.nextRxAt === Infinity) {
      this.nextRxAt = this.clock.now() + RX_CYCLES;
      this.clock.rescheduled();
    }
  }

  /** Bytes the guest has not read yet (host queue and FIFO). */
  get unread(): number {
    return this.input.length + this.rx.length;
  }

  private capacity(): number {
    return this.fifoEnabled ? FIFO_SIZE : 1;
  }

  nextEvent(): number {
    return this.nextRxAt;
  }

  onEvent(now: number): void {
    if (this.input.length && this.rx.length < this.capacity()) this.rx.push(this.input.shift()!);
    // With the FIFO full, wait for the guest to read (rescheduled from the RBR read).
    this.nextRxAt = this.input.length && this.rx.length < this.capacity() ? now + RX_CYCLES : Infinity;
    this.update();
  }

  private iir(): number {
    const fifo = this.fifoEnabled ? 0xc0 : 0;
    if (this.ier & IER_RLS && this.overrun) return fifo | 0x06;
    if (this.ier & IER_RDA && this.rx.length) return fifo | 0x04;
    if (this.ier & IER_THRE && this.thrEmptyPending) return fifo | 0x02;
    if (this.ier & IER_MSR && this.msrDelta) return fifo | 0x00;
    return fifo | IIR_NONE;
  }

  private setIrqLevel(level: boolean): void {
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    this.lines.setIrq(this.irq, level);
  }

  private update(): void {
    this.setIrqLevel((this.iir() & IIR_NONE) === 0);
  }

  private msr(): number {
    if (this.mcr & 0x10) return ((this.mcr & 0x0f) << 4) | this.msrDelta;
    return 0xb0 | this.msrDelta;  // carrier, data set ready, clear to send
  }

  portRead(port: number, _size: AccessSize): number {
    const dlab = (this.lcr & 0x80) !== 0;
    let value: number;
    switch (port & 7) {
      case 0:
        if (dlab) return this.dll;
        value = this.rx.length ? this.rx.shift()! : 0;
        if (this.input.length && this.nextRxAt === Infinity) {
          this.nextRxAt = this.clock.now() + RX_CYCLES;
          this.clock.rescheduled();
        }
        break;
      case 1: return dlab ? this.dlm : this.ier;
      case 2:
        value = this.iir();
        if ((value & 0x0f) === 0x02) this.thrEmptyPending = false;
        break;
      case 3: return this.lcr;
      case 4: return this.mcr;
      case 5:
        value = (this.rx.length ? LSR_DR : 0) | (this.overrun ? LSR_OE : 0) | LSR_THRE | LSR_TEMT;
        this.overrun = false;
        break;
      case 6:
        value = this.msr();
        this.msrDelta = 0;
        break;
      default: return this.scr;
    }
    this.update();
    return value;
  }

  portWrite(port: number, _size: AccessSize, value: number): void {
    value &= 0xff;
    const dlab = (this.lcr & 0x80) !== 0;
    switch (port & 7) {
      case 0:
        if (dlab) { this.dll = value; return; }
        if (this.mcr & 0x10) {  // loopback: straight back into the receiver
          if (this.rx.length < this.capacity()) this.rx.push(value); else this.overrun = true;
        } else {
          this.transmitted++;
          this.onTransmit(value);
        }
        this.thrEmptyPending = true;
        break;
      case 1:
        if (dlab) { this.dlm = value; return; }
        if (value & IER_THRE && !(this.ier & IER_THRE)) this.thrEmptyPending = true;
        this.ier = value & 0x0f;
        break;
      case 2:
        this.fifoEnabled = (value & 1) !== 0;
        if (value & 2 || !this.fifoEnabled) this.rx = [];
        break;
      case 3: this.lcr = value; return;
      case 4:
        if (((this.mcr ^ value) & 0x0f) && (value & 0x10)) this.msrDelta |= 0x01;
        this.mcr = value & 0x1f;
        break;
      case 5: case 6: return;
      default: this.scr = value; return;
    }
    this.update();
  }

  save(): DeviceState {
    return pickState(this, FIELDS);
  }

  restore(state: DeviceState): void {
    assignState(this, state, FIELDS);
  }
}
