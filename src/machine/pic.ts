/**
 * The 8259A programmable interrupt controller pair (master at 0x20, slave at 0xA0,
 * cascaded on the master's IRQ 2), with the initialization sequence (ICW1-4), masks,
 * in-service tracking, specific and non-specific EOI, rotation, auto-EOI, reading IRR/ISR
 * (OCW3), poll mode, special mask, and the ELCR edge/level registers (0x4D0/0x4D1).
 */
import type { AccessSize } from '../cpu/bus.js';
import { assignState, pickState, type Device, type DeviceState, type PortHandler } from './device.js';

const CHIP_FIELDS = ['irr', 'isr', 'imr', 'lastLevel', 'base', 'initStep', 'needIcw4', 'single', 'autoEoi',
  'rotateOnAutoEoi', 'priorityAdd', 'readIsr', 'poll', 'specialMask', 'fullyNested', 'elcr'] as const;

class Chip {
  irr = 0; isr = 0; imr = 0; lastLevel = 0; base = 0;
  initStep = 0; needIcw4 = false; single = false; autoEoi = false; rotateOnAutoEoi = false;
  priorityAdd = 0; readIsr = false; poll = false; specialMask = false; fullyNested = false;
  elcr = 0;

  constructor(readonly master: boolean) {}

  reset(): void {
    this.irr = this.isr = this.imr = this.lastLevel = this.base = 0;
    this.initStep = 0;
    this.needIcw4 = this.single = this.autoEoi = this.rotateOnAutoEoi = false;
    this.priorityAdd = 0;
    this.readIsr = this.poll = this.specialMask = this.fullyNested = false;
  }

  setLevel(line: number, level: boolean): void {
    const bit = 1 << line;
    if (this.elcr & bit) {
      if (level) { this.irr |= bit; this.lastLevel |= bit; } else { this.irr &= ~bit; this.lastLevel &= ~bit; }
    } else if (level) {
      if (!(this.lastLevel & bit)) this.irr |= bit;
      this.lastLevel |= bit;
    } else {
      this.lastLevel &= ~bit;
    }
  }

  /** Priority (0 = highest) of the best line in `mask`, 8 if none. */
  private priority(mask: number): number {
    if (mask === 0) return 8;
    let p = 0;
    while ((mask & (1 << ((p + this.priorityAdd) & 7))) === 0) p++;
    return p;
  }

  /** The line that would interrupt now, or -1. */
  pending(): number {
    const p = this.priority(this.irr & ~this.imr);
    if (p === 8) return -1;
    let inService = this.isr;
    if (this.specialMask) inService &= ~this.imr;
    if (this.fullyNested && this.master) inService &= ~(1 << 2);
    return p < this.priority(inService) ? (p + this.priorityAdd) & 7 : -1;
  }

  /** The INTA cycle for `line`. */
  acknowledge(line: number): void {
    const bit = 1 << line;
    if (this.autoEoi) {
      if (this.rotateOnAutoEoi) this.priorityAdd = (line + 1) & 7;
    } else {
      this.isr |= bit;
    }
    if (!(this.elcr & bit)) this.irr &= ~bit;
  }

  write(command: boolean, value: number): void {
    if (command) {
      if (value & 0x10) {                    // ICW1
        this.reset();
        this.initStep = 1;
        this.needIcw4 = (value & 1) !== 0;
        this.single = (value & 2) !== 0;
      } else if (value & 0x08) {             // OCW3
        if (value & 0x04) this.poll = true;
        if (value & 0x02) this.readIsr = (value & 1) !== 0;
        if (value & 0x40) this.specialMask = (value & 0x20) !== 0;
      } else {                               // OCW2
        const op = value >> 5;
        if (op === 0 || op === 4) this.rotateOnAutoEoi = op === 4;
        else if (op === 1 || op === 5) {     // non-specific EOI (and rotate)
          const p = this.priority(this.isr);
          if (p !== 8) {
            const line = (p + this.priorityAdd) & 7;
            this.isr &= ~(1 << line);
            if (op === 5) this.priorityAdd = (line + 1) & 7;
          }
        } else if (op === 3 || op === 7) {   // specific EOI (and rotate)
          this.isr &= ~(1 << (value & 7));
          if (op === 7) this.priorityAdd = ((value & 7) + 1) & 7;
        } else if (op === 6) {
          this.priorityAdd = ((value & 7) + 1) & 7;
        }
      }
      return;
    }
    switch (this.initStep) {
      case 0: this.imr = value; break;
      case 1:
        this.base = value & 0xf8;
        this.initStep = this.single ? (this.needIcw4 ? 3 : 0) : 2;
        break;
      case 2: this.initStep = this.needIcw4 ? 3 : 0; break;
      case 3:
        this.fullyNested = (value & 0x10) !== 0;
        this.autoEoi = (value & 0x02) !== 0;
        this.initStep = 0;
        break;
    }
  }
}

export class Pic8259 implements Device, PortHandler {
  readonly name = 'pic';
  readonly version = 1;
  private readonly master = new Chip(true);
  private readonly slave = new Chip(false);
  acknowledged = 0;

  /** `changed` tells the CPU to look at its interrupt input again. */
  constructor(private readonly changed: () => void) {
    this.reset();
  }

  reset(): void {
    this.master.reset();
    this.slave.reset();
    this.master.elcr = this.slave.elcr = 0;
  }

  setIrq(irq: number, level: boolean): void {
    if (irq >= 8) this.slave.setLevel(irq - 8, level);
    else this.master.setLevel(irq, level);
    this.update();
  }

  /** The master's INT output. */
  hasInterrupt(): boolean {
    return this.master.pending() >= 0;
  }

  /** The INTA cycle: the vector (a spurious IRQ 7 or 15 if the request went away). */
  acknowledge(): number {
    this.acknowledged++;
    const line = this.master.pending();
    let vector: number;
    if (line < 0) {
      vector = this.master.base + 7;
    } else if (line === 2) {
      const slaveLine = this.slave.pending();
      if (slaveLine >= 0) {
        this.slave.acknowledge(slaveLine);
        vector = this.slave.base + slaveLine;
      } else {
        vector = this.slave.base + 7;
      }
      this.master.acknowledge(2);
    } else {
      this.master.acknowledge(line);
      vector = this.master.base + line;
    }
    this.update();
    return vector;
  }

  /**
   * After any change: the cascade line, and a word to the CPU when a request is pending (a
   * request gone, or one still masked, makes nothing deliverable: the CPU need not stop
   * to look, as it would after every lowered line of a masked chip).
   */
  private update(): void {
    this.master.setLevel(2, this.slave.pending() >= 0);
    if (this.master.pending() >= 0) this.changed();
  }

  private chip(port: number): Chip {
    return (port & 0x80) ? this.slave : this.master;
  }

  portRead(port: number, _size: AccessSize): number {
    if (port === 0x4d0 || port === 0x4d1) return port === 0x4d0 ? this.master.elcr : this.slave.elcr;
    const chip = this.chip(port);
    if (chip.poll) {
      chip.poll = false;
      const line = chip.pending();
      if (line < 0) return 0;
      chip.acknowledge(line);
      this.update();
      return 0x80 | line;
    }
    if (port & 1) return chip.imr;
    return chip.readIsr ? chip.isr : chip.irr;
  }

  portWrite(port: number, _size: AccessSize, value: number): void {
    if (port === 0x4d0) this.master.elcr = value & 0xf8;
    else if (port === 0x4d1) this.slave.elcr = value & 0xde;
    else this.chip(port).write((port & 1) === 0, value & 0xff);
    this.update();
  }

  save(): DeviceState {
    return { master: pickState(this.master, CHIP_FIELDS), slave: pickState(this.slave, CHIP_FIELDS), acknowledged: this.acknowledged };
  }

  restore(state: DeviceState): void {
    assignState(this.master, state.master as DeviceState, CHIP_FIELDS);
    assignState(this.slave, state.slave as DeviceState, CHIP_FIELDS);
    this.acknowledged = state.acknowledged as number;
  }
}
