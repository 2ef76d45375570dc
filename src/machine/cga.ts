/**
 * CGA/VGA text mode: 80x25 characters in memory at 0xB8000 (ordinary RAM, so it is in
 * every snapshot), the CRT controller's index/data ports (0x3D4/0x3D5: cursor shape,
 * start address, cursor position) and the input status port 0x3DA, whose retrace bits
 * toggle on each read so polling loops finish.
 */
import type { AccessSize } from '../cpu/bus.js';
import type { PhysicalMemory } from '../cpu/memory.js';
import { assignState, pickState, type Device, type DeviceState, type PortHandler } from './device.js';

export const CGA_TEXT = 0xb8000;
export const CGA_COLUMNS = 80;
export const CGA_ROWS = 25;

const FIELDS = ['index', 'crtc', 'status'] as const;

export class CgaText implements Device, PortHandler {
  readonly name = 'cga';
  readonly version = 1;
  index = 0;
  readonly crtc = new Uint8Array(32);
  status = 0;

  constructor(private readonly mem: PhysicalMemory) {
    this.reset();
  }

  reset(): void {
    this.index = 0;
    this.crtc.fill(0);
    this.crtc[0x0a] = 0x0d;  // cursor scan lines 13-14
    this.crtc[0x0b] = 0x0e;
    this.status = 0;
  }

  /** Cursor position as a character index (row * 80 + column). */
  get cursor(): number {
    return (this.crtc[0x0e]! << 8) | this.crtc[0x0f]!;
  }

  /** The screen as text, one line per row, trailing blanks removed. */
  screenText(): string {
    const start = ((this.crtc[0x0c]! << 8) | this.crtc[0x0d]!) * 2;
    const rows: string[] = [];
    for (let r = 0; r < CGA_ROWS; r++) {
      let line = '';
      for (let c = 0; c < CGA_COLUMNS; c++) {
        const ch = this.mem.read8(CGA_TEXT + ((start + (r * CGA_COLUMNS + c) * 2) & 0x7fff));
        line += ch >= 0x20 && ch < 0x7f ? String.fromCharCode(ch) : ' ';
      }
      rows.push(line.trimEnd());
    }
    return rows.join('\n');
  }

  portRead(port: number, _size: AccessSize): number {
    if (port === 0x3d4) return this.index;
    if (port === 0x3d5) return this.index < 0x20 ? this.crtc[this.index]! : 0xff;
    if (port === 0x3da) {
      this.status ^= 0x09;  // display enable and vertical retrace
      return this.status;
    }
    return 0xff;
  }

  portWrite(port: number, _size: AccessSize, value: number): void {
    if (port === 0x3d4) this.index = value & 0xff;
    else if (port === 0x3d5 && this.index < 0x20) this.crtc[this.index] = value & 0xff;
  }

  save(): DeviceState {
    return pickState(this, FIELDS);
  }

  restore(state: DeviceState): void {
    assignState(this, state, FIELDS);
  }
}
