/**
 * The IDE (ATA) controller's primary channel: task-file registers at 0x1F0-0x1F7, the
 * device-control/alternate-status register at 0x3F6, master and slave drives, PIO
 * READ/WRITE SECTORS and READ/WRITE MULTIPLE in LBA28 or CHS addressing, IDENTIFY, SET
 * MULTIPLE, the usual no-data commands, software reset, and ISA IRQ 14. Sectors become
 * ready, and writes complete, after a short delay of virtual time, so a guest sees the
 * busy/DRQ/interrupt sequence of a real disk. Errors follow QEMU: an unknown command
 * aborts (ERR, error register ABRT), and so does a transfer when it reaches a block that
 * is not on the disk: the blocks before it are transferred (a read checks each block
 * before reading it, a write after the guest has given its data), and the task file is
 * left at the first missing sector.
 */
import type { AccessSize } from '../cpu/bus.js';
import { assignState, pickState, type Clock, type Device, type DeviceState, type IrqLines, type PortHandler } from './device.js';
import { SECTOR, type DiskImage } from './disk.js';

export const IDE_IRQ = 14;
const ST_ERR = 0x01, ST_DRQ = 0x08, ST_DSC = 0x10, ST_DRDY = 0x40, ST_BSY = 0x80;
const ERR_ABRT = 0x04;
const CTL_NIEN = 0x02, CTL_SRST = 0x04;
const MAX_MULTIPLE = 16;
/** Virtual time for a sector (or block) to become ready, and for a write to land: 20 us. */
const SECTOR_CYCLES = 2000;

const HEADS = 16, SPT = 63;

type Transfer = 'none' | 'read' | 'write' | 'identify';

const FIELDS = ['feature', 'error', 'count', 'lbaLow', 'lbaMid', 'lbaHigh', 'select', 'status', 'control', 'intrq',
  'irqLevel', 'multiple', 'transfer', 'lba', 'remaining', 'blockSectors', 'bufPos', 'bufEnd', 'buffer', 'eventAt',
  'sectorsRead', 'sectorsWritten', 'commands', 'transferUnit'] as const;

function ataString(words: Uint16Array, first: number, count: number, text: string): void {
  const padded = text.padEnd(count * 2, ' ');
  for (let i = 0; i < count; i++) words[first + i] = (padded.charCodeAt(2 * i) << 8) | padded.charCodeAt(2 * i + 1);
}

export class IdeController implements Device, PortHandler {
  readonly name = 'ide';
  readonly version = 2;
  feature = 0; error = 1; count = 1; lbaLow = 1; lbaMid = 0; lbaHigh = 0; select = 0xa0;
  status = ST_DRDY | ST_DSC;
  control = 0;
  intrq = false;
  irqLevel = false;
  /** READ/WRITE MULTIPLE block size per drive (0 = not set). */
  multiple = [0, 0];
  transfer: Transfer = 'none';
  /** The drive the transfer in progress belongs to (the guest may select the other meanwhile). */
  transferUnit = 0;
  lba = 0;
  remaining = 0;
  blockSectors = 1;
  bufPos = 0;
  bufEnd = 0;
  buffer = new Uint8Array(SECTOR * MAX_MULTIPLE);
  eventAt = Infinity;
  sectorsRead = 0;
  sectorsWritten = 0;
  commands = 0;

  constructor(private readonly clock: Clock, private readonly lines: IrqLines,
    readonly drives: [DiskImage | null, DiskImage | null]) {
    this.reset();
  }

  reset(): void {
    this.softReset();
    this.control = 0;
    this.multiple = [0, 0];
    this.select = 0xa0;
    this.setInterrupt(false);
  }

  private softReset(): void {
    // The ATA signature of a disk: count 1, sector 1, cylinder 0.
    this.feature = 0; this.error = 1; this.count = 1; this.lbaLow = 1; this.lbaMid = 0; this.lbaHigh = 0;
    this.status = ST_DRDY | ST_DSC;
    this.transfer = 'none';
    this.remaining = 0;
    this.bufPos = this.bufEnd = 0;
    this.eventAt = Infinity;
  }

  private get unit(): number {
    return (this.select >> 4) & 1;
  }

  private get drive(): DiskImage | null {
    return this.drives[this.unit]!;
  }

  private setInterrupt(pending: boolean): void {
    this.intrq = pending;
    const level = pending && !(this.control & CTL_NIEN);
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.lines.setIrq(IDE_IRQ, level);
    }
  }

  // ------------------------------------------------------------------ commands

  private sectorAddress(): number {
    if (this.select & 0x40) return ((this.select & 0x0f) << 24) | (this.lbaHigh << 16) | (this.lbaMid << 8) | this.lbaLow;
    const cylinder = (this.lbaHigh << 8) | this.lbaMid;
    return (cylinder * HEADS + (this.select & 0x0f)) * SPT + this.lbaLow - 1;
  }

  /** Writes the address of the next sector back to the task file, as the drive does. */
  private storeAddress(lba: number): void {
    if (this.select & 0x40) {
      this.lbaLow = lba & 0xff;
      this.lbaMid = (lba >> 8) & 0xff;
      this.lbaHigh = (lba >> 16) & 0xff;
      this.select = (this.select & 0xf0) | ((lba >> 24) & 0x0f);
    } else {
      const cylinder = Math.floor(lba / (HEADS * SPT));
      const rest = lba % (HEADS * SPT);
      this.lbaMid = cylinder & 0xff;
      this.lbaHigh = (cylinder >> 8) & 0xff;
      this.select = (this.select & 0xf0) | Math.floor(rest / SPT);
      this.lbaLow = (rest % SPT) + 1;
    }
  }

  private abort(): void {
    this.error = ERR_ABRT;
    this.status = ST_DRDY | ST_ERR;
    this.transfer = 'none';
    this.setInterrupt(true);
  }

  private complete(): void {
    this.error = 0;
    this.status = ST_DRDY | ST_DSC;
    this.setInterrupt(true);
  }

  private later(): void {
    this.eventAt = this.clock.now() + SECTOR_CYCLES;
    this.clock.rescheduled();
  }

  private command(cmd: number): void {
    const disk = this.drive;
    if (!disk || this.status & ST_BSY) return;  // commands to an absent drive are ignored
    this.commands++;
    this.error = 0;
    this.transferUnit = this.unit;
    const sectors = this.count === 0 ? 256 : this.count;
    switch (cmd) {
      case 0x20: case 0x21: case 0xc4: case 0x30: case 0x31: case 0xc5: {
        const multipleCmd = cmd === 0xc4 || cmd === 0xc5;
        if (multipleCmd && this.multiple[this.unit] === 0) return this.abort();
        this.lba = this.sectorAddress();
        this.remaining = sectors;
        this.blockSectors = multipleCmd ? this.multiple[this.unit]! : 1;
        if (cmd === 0x30 || cmd === 0x31 || cmd === 0xc5) {
          this.transfer = 'write';
          this.startBlock();
          this.status = ST_DRDY | ST_DSC | ST_DRQ;
        } else {
          this.transfer = 'read';
          this.nextReadBlock(disk);
        }
        return;
      }
      case 0xec:
        this.transfer = 'identify';
        this.status = ST_DRDY | ST_DSC | ST_BSY;
        this.later();
        return;
      case 0xc6:
        if (this.count > MAX_MULTIPLE || (this.count & (this.count - 1)) !== 0) return this.abort();
        this.multiple[this.unit] = this.count;
        return this.complete();
      case 0x40: case 0x41: {
        const lba = this.sectorAddress();
        if (lba < 0 || lba + sectors > disk.sectors) return this.abort();
        return this.complete();
      }
      case 0xe5: this.count = 0xff; return this.complete();  // check power mode: active
      case 0xf8: this.storeAddress(Math.min(disk.sectors, 0x10000000) - 1); return this.complete();
      case 0x90:                                             // execute device diagnostic
        this.softReset();
        this.error = 0x01;
        this.setInterrupt(true);
        return;
      case 0x91: case 0xef: case 0xe7: case 0xea: case 0xe0: case 0xe1: case 0xe2: case 0xe3: case 0x70:
        return this.complete();
      default:
        if (cmd >= 0x10 && cmd <= 0x1f) return this.complete();  // recalibrate
        return this.abort();
    }
  }

  /** Whether the next block of the transfer (at this.lba) lies on the disk. */
  private blockOnDisk(disk: DiskImage): boolean {
    return this.lba >= 0 && this.lba + Math.min(this.blockSectors, this.remaining) <= disk.sectors;
  }

  /** The next block of a read: BSY until it is read, or an abort if it is not on the disk. */
  private nextReadBlock(disk: DiskImage): void {
    if (!this.blockOnDisk(disk)) return this.abort();
    this.status = ST_DRDY | ST_DSC | ST_BSY;
    this.later();
  }

  /** Prepares the buffer for the next block of a transfer. */
  private startBlock(): void {
    const n = Math.min(this.blockSectors, this.remaining);
    this.bufPos = 0;
    this.bufEnd = n * SECTOR;
  }

  private identify(disk: DiskImage): void {
    const w = new Uint16Array(256);
    const total = Math.min(disk.sectors, 0x0fffffff);
    const cylinders = Math.min(16383, Math.max(1, Math.floor(total / (HEADS * SPT))));
    w[0] = 0x0040;
    w[1] = cylinders; w[3] = HEADS; w[6] = SPT;
    ataString(w, 10, 10, `MV${String(this.transferUnit).padStart(4, '0')}`);
    ataString(w, 23, 4, '0.1.0');
    ataString(w, 27, 20, 'MEMVISOR HARDDISK');
    w[47] = 0x8000 | MAX_MULTIPLE;
    w[49] = 0x0200;  // LBA
    w[51] = 0x0200;
    w[53] = 0x0003;
    w[54] = cylinders; w[55] = HEADS; w[56] = SPT;
    const chs = cylinders * HEADS * SPT;
    w[57] = chs & 0xffff; w[58] = chs >>> 16;
    w[59] = this.multiple[this.transferUnit] ? 0x100 | this.multiple[this.transferUnit]! : 0;
    w[60] = total & 0xffff; w[61] = total >>> 16;
    w[64] = 0x0003;
    w[80] = 0x00f0;
    w[82] = 0x4000; w[83] = 0x4000; w[84] = 0x4000; w[85] = 0x4000; w[87] = 0x4000;
    this.buffer.set(new Uint8Array(w.buffer), 0);
    this.bufPos = 0;
    this.bufEnd = SECTOR;
  }

  nextEvent(): number {
    return this.eventAt;
  }

  onEvent(_now: number): void {
    this.eventAt = Infinity;
    const disk = this.drives[this.transferUnit];
    if (!disk) return;
    if (this.transfer === 'identify') {
      this.identify(disk);
      this.status = ST_DRDY | ST_DSC | ST_DRQ;
      this.setInterrupt(true);
    } else if (this.transfer === 'read') {
      this.startBlock();
      for (let i = 0; i * SECTOR < this.bufEnd; i++) disk.read(this.lba + i, this.buffer, i * SECTOR);
      this.sectorsRead += this.bufEnd / SECTOR;
      this.status = ST_DRDY | ST_DSC | ST_DRQ;
      this.setInterrupt(true);
    } else if (this.transfer === 'write') {
      const n = this.bufEnd / SECTOR;
      for (let i = 0; i < n; i++) disk.write(this.lba + i, this.buffer, i * SECTOR);
      this.sectorsWritten += n;
      this.lba += n;
      this.remaining -= n;
      this.count = (this.count - n) & 0xff;
      this.storeAddress(this.lba);
      if (this.remaining > 0) {
        this.startBlock();
        this.status = ST_DRDY | ST_DSC | ST_DRQ;
      } else {
        this.transfer = 'none';
        this.status = ST_DRDY | ST_DSC;
      }
      this.setInterrupt(true);
    }
  }

  /** The guest emptied (read) or filled (write) the buffer. */
  private bufferDone(): void {
    const disk = this.drives[this.transferUnit]!;
    if (this.transfer === 'identify') {
      this.transfer = 'none';
      this.status = ST_DRDY | ST_DSC;
    } else if (this.transfer === 'read') {
      const n = this.bufEnd / SECTOR;
      this.lba += n;
      this.remaining -= n;
      this.count = (this.count - n) & 0xff;
      this.storeAddress(this.lba);
      if (this.remaining > 0) {
        this.nextReadBlock(disk);
      } else {
        this.transfer = 'none';
        this.status = ST_DRDY | ST_DSC;
      }
    } else if (this.transfer === 'write') {
      if (!this.blockOnDisk(disk)) return this.abort();
      this.status = ST_DRDY | ST_DSC | ST_BSY;
      this.later();
    }
  }

  private dataRead(bytes: number): number {
    if (!(this.status & ST_DRQ) || this.transfer === 'write' || this.unit !== this.transferUnit) return 0;
    let value = 0;
    for (let i = 0; i < bytes && this.bufPos < this.bufEnd; i++) value |= this.buffer[this.bufPos++]! << (8 * i);
    if (this.bufPos >= this.bufEnd) this.bufferDone();
    return value >>> 0;
  }

  private dataWrite(bytes: number, value: number): void {
    if (!(this.status & ST_DRQ) || this.transfer !== 'write' || this.unit !== this.transferUnit) return;
    for (let i = 0; i < bytes && this.bufPos < this.bufEnd; i++) this.buffer[this.bufPos++] = (value >>> (8 * i)) & 0xff;
    if (this.bufPos >= this.bufEnd) this.bufferDone();
  }

  // ------------------------------------------------------------------ ports

  /**
   * REP OUTS to the data port in bulk: the elements that fit in what is left of the
   * buffer, as dataWrite would store them one by one; the one that fills it ends the
   * bulk write (bufferDone may raise the interrupt). 0 when the port would ignore them.
   */
  portWriteString(port: number, size: AccessSize, bytes: Uint8Array, offset: number, count: number): number {
    if (port !== 0x1f0 || !this.answers() || !this.drive) return 0;
    if (!(this.status & ST_DRQ) || this.transfer !== 'write' || this.unit !== this.transferUnit) return 0;
    const n = Math.min(count, Math.floor((this.bufEnd - this.bufPos) / size));
    if (n === 0) return 0;
    this.buffer.set(bytes.subarray(offset, offset + n * size), this.bufPos);
    this.bufPos += n * size;
    if (this.bufPos >= this.bufEnd) this.bufferDone();
    return n;
  }

  /**
   * REP INS from the data port in bulk: the elements left in the buffer, as dataRead would
   * give them one by one; the one that empties it ends the bulk read (bufferDone loads the
   * next block or ends the command, and may raise the interrupt). 0 when the port would
   * read as nothing.
   */
  portReadString(port: number, size: AccessSize, bytes: Uint8Array, offset: number, count: number): number {
    if (port !== 0x1f0 || !this.answers() || !this.drive) return 0;
    if (!(this.status & ST_DRQ) || this.transfer === 'write' || this.unit !== this.transferUnit) return 0;
    const n = Math.min(count, Math.floor((this.bufEnd - this.bufPos) / size));
    if (n === 0) return 0;
    bytes.set(this.buffer.subarray(this.bufPos, this.bufPos + n * size), offset);
    this.bufPos += n * size;
    if (this.bufPos >= this.bufEnd) this.bufferDone();
    return n;
  }

  /**
   * Whether the registers answer, as on QEMU: not when the channel has no drives, nor when
   * an absent slave is selected; an absent master behind a present slave still answers.
   */
  private answers(): boolean {
    const [master, slave] = this.drives;
    if (!master && !slave) return false;
    return this.unit === 0 || slave !== null;
  }

  portRead(port: number, size: AccessSize): number {
    const present = this.answers();
    if (port === 0x3f6) return present ? this.status : 0;
    const reg = port & 7;
    if (reg === 0) return present && this.drive ? this.dataRead(size) : 0;
    if (!present && reg !== 6) return 0;
    switch (reg) {
      case 1: return this.error;
      case 2: return this.count;
      case 3: return this.lbaLow;
      case 4: return this.lbaMid;
      case 5: return this.lbaHigh;
      case 6: return this.select | 0xa0;
      default:
        this.setInterrupt(false);
        return this.status;
    }
  }

  portWrite(port: number, size: AccessSize, value: number): void {
    if (port === 0x3f6) {
      const was = this.control;
      this.control = value & 0x06;
      if (value & CTL_SRST) {
        this.status = ST_BSY | ST_DSC;
        this.eventAt = Infinity;
      } else if (was & CTL_SRST) {
        this.softReset();
        this.select &= 0xef;  // reset selects the master
      }
      this.setInterrupt(this.intrq);
      return;
    }
    value &= 0xffffffff;
    switch (port & 7) {
      case 0: this.dataWrite(size, value); return;
      case 1: this.feature = value & 0xff; return;
      case 2: this.count = value & 0xff; return;
      case 3: this.lbaLow = value & 0xff; return;
      case 4: this.lbaMid = value & 0xff; return;
      case 5: this.lbaHigh = value & 0xff; return;
      case 6: this.select = value & 0xff; return;
      default: this.command(value & 0xff); return;
    }
  }

  save(): DeviceState {
    return pickState(this, FIELDS);
  }

  restore(state: DeviceState): void {
    assignState(this, state, FIELDS);
  }
}
