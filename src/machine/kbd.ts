/**
 * The 8042 keyboard controller (ports 0x60/0x64, ISA IRQ 1) with a PS/2 keyboard behind
 * it: the controller's command byte, self tests, output port (A20 gate and CPU reset),
 * keyboard commands (reset, identify, LEDs, scan-code set, enable/disable), and typing:
 * host characters become scan codes of set 1 (what the controller delivers when
 * translation is on). Also the "fast A20" port 0x92.
 */
import type { AccessSize } from '../cpu/bus.js';
import { assignState, pickState, type Device, type DeviceState, type IrqLines, type PortHandler } from './device.js';

/** How many answers to the guest's own commands wait at port 0x60 at most. */
const GUEST_ANSWERS_LIMIT = 16;

const STATUS_OBF = 0x01, STATUS_SYS = 0x04, STATUS_CMD = 0x08, STATUS_UNLOCKED = 0x10;
const MODE_KBD_INT = 0x01, MODE_SYS = 0x04, MODE_DISABLE_KBD = 0x10, MODE_TRANSLATE = 0x40;

/** Set-1 make codes for the unshifted and shifted characters of a US keyboard. */
const ROWS: Array<[number, string, string]> = [
  [0x02, '1234567890-=', '!@#$%^&*()_+'],
  [0x10, 'qwertyuiop[]', 'QWERTYUIOP{}'],
  [0x1e, "asdfghjkl;'`", 'ASDFGHJKL:"~'],
  [0x2b, '\\zxcvbnm,./', '|ZXCVBNM<>?'],
];
const SPECIAL: Record<string, number> = { '\x1b': 0x01, '\b': 0x0e, '\x7f': 0x0e, '\t': 0x0f, '\n': 0x1c, '\r': 0x1c, ' ': 0x39 };
const LSHIFT = 0x2a, LCTRL = 0x1d;

/** The scan codes (make and break) that type `ch`, or null if the keyboard has no such key. */
export function scancodesFor(ch: string): number[] | null {
  const code = ch.charCodeAt(0);
  if (code >= 1 && code <= 26 && !(ch in SPECIAL)) {  // Ctrl-A .. Ctrl-Z
    const key = scancodesFor(String.fromCharCode(code + 96));
    return key && [LCTRL, ...key, LCTRL | 0x80];
  }
  if (ch in SPECIAL) return [SPECIAL[ch]!, SPECIAL[ch]! | 0x80];
  for (const [first, plain, shifted] of ROWS) {
    let i = plain.indexOf(ch);
    if (i >= 0) return [first + i, (first + i) | 0x80];
    i = shifted.indexOf(ch);
    if (i >= 0) return [LSHIFT, first + i, (first + i) | 0x80, LSHIFT | 0x80];
  }
  return null;
}

const FIELDS = ['status', 'mode', 'output', 'pendingCommand', 'outputPort', 'kbdCommand', 'kbdEnabled', 'leds', 'scanSet', 'irqLevel'] as const;

export class Keyboard8042 implements Device, PortHandler {
  readonly name = 'kbd';
  readonly version = 1;
  status = STATUS_CMD | STATUS_UNLOCKED;
  mode = MODE_KBD_INT | MODE_SYS | MODE_TRANSLATE;
  /** Bytes waiting for the guest to read at port 0x60. */
  output: number[] = [];
  /** A controller command waiting for its argument byte at port 0x60, or 0. */
  pendingCommand = 0;
  /** Bit 0: CPU not in reset; bit 1: A20 enabled. */
  outputPort = 0x03;
  /** A keyboard command waiting for its argument byte, or 0. */
  kbdCommand = 0;
  kbdEnabled = true;
  leds = 0;
  scanSet = 2;
  irqLevel = false;
  /** Called when the guest resets the machine through the controller or port 0x92. */
  onReset: () => void = () => {};

  constructor(private readonly lines: IrqLines) {
    this.reset();
  }

  reset(): void {
    this.status = STATUS_CMD | STATUS_UNLOCKED;
    this.mode = MODE_KBD_INT | MODE_SYS | MODE_TRANSLATE;
    this.output = [];
    this.pendingCommand = this.kbdCommand = 0;
    this.outputPort = 0x03;
    this.kbdEnabled = true;
    this.leds = 0;
    this.scanSet = 2;
    this.update();
  }

  get a20(): boolean {
    return (this.outputPort & 2) !== 0;
  }

  /** Types host text as key presses; characters without a key are skipped. Returns how many were typed. */
  type(text: string): number {
    let typed = 0;
    for (const ch of text) {
      const codes = scancodesFor(ch);
      if (!codes) continue;
      typed++;
      for (const c of codes) this.keyboardSends(c);
    }
    return typed;
  }

  private keyboardSends(byte: number): void {
    if (!this.kbdEnabled) return;
    this.output.push(byte);
    this.update();
  }

  /**
   * A byte the controller or the keyboard answers the guest with. What the guest makes the
   * device say is bounded as a real one is (the 8042 holds one byte, a PS/2 keyboard 16):
   * a guest that writes commands without reading the answers loses them, and can neither
   * grow host memory nor make each read of port 0x60 slower (found by the devices fuzzer:
   * `rep outsb` of 0x20000 commands, then `rep insw`). Keys the host types are not bounded.
   */
  private controllerSends(byte: number): void {
    if (this.output.length >= GUEST_ANSWERS_LIMIT) return;
    this.output.push(byte);
    this.update();
  }

  private update(): void {
    const full = this.output.length > 0;
    this.status = (this.status & ~STATUS_OBF) | (full ? STATUS_OBF : 0);
    const level = full && (this.mode & MODE_KBD_INT) !== 0 && !(this.mode & MODE_DISABLE_KBD);
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.lines.setIrq(1, level);
    }
  }

  private writeOutputPort(value: number): void {
    this.outputPort = value | 0x01;
    if (!(value & 1)) this.onReset();
  }

  private controllerCommand(cmd: number): void {
    switch (cmd) {
      case 0x20: this.controllerSends(this.mode); break;
      case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4: this.pendingCommand = cmd; break;
      case 0xa7: case 0xa8: break;                 // auxiliary port off/on: there is no mouse
      case 0xa9: this.controllerSends(0x00); break; // auxiliary interface test: OK
      case 0xaa:                                   // self test
        this.status |= STATUS_SYS;
        this.controllerSends(0x55);
        break;
      case 0xab: this.controllerSends(0x00); break; // keyboard interface test: OK
      case 0xad: this.mode |= MODE_DISABLE_KBD; break;
      case 0xae: this.mode &= ~MODE_DISABLE_KBD; break;
      case 0xc0: this.controllerSends(0x80); break; // input port: keyboard not inhibited
      case 0xd0: this.controllerSends(this.outputPort); break;
      case 0xdd: this.outputPort &= ~0x02; break;
      case 0xdf: this.outputPort |= 0x02; break;
      default:
        if (cmd >= 0xf0 && !(cmd & 1)) this.onReset();  // pulse output line 0: reset
        break;
    }
    this.update();
  }

  private keyboardCommand(byte: number): void {
    if (this.kbdCommand) {
      const cmd = this.kbdCommand;
      this.kbdCommand = 0;
      if (cmd === 0xed) this.leds = byte & 7;
      else if (cmd === 0xf0) {
        if (byte === 0) { this.controllerSends(0xfa); this.controllerSends(this.scanSet); return; }
        this.scanSet = byte;
      }
      this.controllerSends(0xfa);
      return;
    }
    switch (byte) {
      case 0xed: case 0xf0: case 0xf3: this.kbdCommand = byte; this.controllerSends(0xfa); break;
      case 0xee: this.controllerSends(0xee); break;
      case 0xf2: this.controllerSends(0xfa); this.controllerSends(0xab); this.controllerSends(this.mode & MODE_TRANSLATE ? 0x41 : 0x83); break;
      case 0xf4: this.kbdEnabled = true; this.controllerSends(0xfa); break;
      case 0xf5: this.kbdEnabled = false; this.controllerSends(0xfa); break;
      case 0xf6: this.controllerSends(0xfa); break;
      case 0xff: this.kbdEnabled = true; this.controllerSends(0xfa); this.controllerSends(0xaa); break;
      default: this.controllerSends(0xfe); break;  // resend: unknown command
    }
  }

  portRead(port: number, _size: AccessSize): number {
    if (port === 0x64) return this.status;
    if (port === 0x92) return this.a20 ? 0x02 : 0x00;
    const value = this.output.length ? this.output.shift()! : 0;
    this.update();
    return value;
  }

  portWrite(port: number, _size: AccessSize, value: number): void {
    value &= 0xff;
    if (port === 0x92) {
      this.outputPort = (this.outputPort & ~0x02) | (value & 0x02);
      if (value & 1) this.onReset();
      return;
    }
    if (port === 0x64) {
      this.status |= STATUS_CMD;
      this.controllerCommand(value);
      return;
    }
    this.status &= ~STATUS_CMD;
    const cmd = this.pendingCommand;
    this.pendingCommand = 0;
    switch (cmd) {
      case 0x60:
        this.mode = value;
        if (value & MODE_SYS) this.status |= STATUS_SYS; else this.status &= ~STATUS_SYS;
        this.update();
        break;
      case 0xd1: this.writeOutputPort(value); break;
      case 0xd2: this.controllerSends(value); break;
      case 0xd3: case 0xd4: break;  // auxiliary device: not present
      default: this.keyboardCommand(value); break;
    }
  }

  save(): DeviceState {
    return pickState(this, FIELDS);
  }

  restore(state: DeviceState): void {
    assignState(this, state, FIELDS);
  }
}
