/**
 * A GDB remote stub for the emulated PC, in the memvisor process: the packets of the
 * GDB remote serial protocol mapped onto the processor's debug traps (src/cpu/debug.ts),
 * its registers (registers.ts) and guest memory read through the running page tables,
 * plus `monitor` commands that see what only the monitor sees (monitor-commands.ts).
 *
 * It is the debugger of the monitor's sessions (src/machine/session.ts, attached with
 * Monitor.attachDebugger): a session asks whether it holds the machine between any two
 * runs, and waits for it to let go. QEMU's stub is the
 * model for what the packets mean: the machine stops when gdb connects, Ctrl-C stops it
 * at the next slice boundary (SIGINT), breakpoints and steps report SIGTRAP, hardware
 * breakpoints are breakpoints that change no memory, watchpoints report the address.
 * Unlike QEMU, a breakpoint or a step changes nothing in the run: it goes on exactly as
 * without the debugger.
 */
import type { Socket } from 'node:net';
import { debugTranslate, PAGE_MMIO, type DebugTraps, type WatchKind } from '../cpu/index.js';
import type { SessionDebugger } from '../machine/session.js';
import type { Monitor } from '../vmm/index.js';
import { monitorCommand } from './monitor-commands.js';
import { PacketConnection } from './protocol.js';
import { readRegister, readRegisters, targetDescription, writeRegister, writeRegisters } from './registers.js';

const SIGINT = 2;
const SIGTRAP = 5;
/** The one thread of the one process gdb sees (the processor), in multiprocess syntax as QEMU gives it. */
const THREAD = 'p01.01';
const PACKET_SIZE = 0x4000;
const WATCH_KINDS: Record<string, WatchKind> = { 2: 'write', 3: 'read', 4: 'access' };
const WATCH_REPLY: Record<WatchKind, string> = { write: 'watch', read: 'rwatch', access: 'awatch' };

const toHex = (text: string) => Buffer.from(text, 'latin1').toString('hex');

export interface StubOptions {
  /** The run's --seed (the default seed of `monitor inject`). */
  seed: number;
  /** -S: the machine does not start until a debugger lets it. */
  waitForDebugger: boolean;
  /** One line for the user (connections, detaching). */
  log: (line: string) => void;
}

export class GdbStub implements SessionDebugger {
  private connection: PacketConnection | null = null;
  private traps: DebugTraps | null = null;
  /** -S, before any debugger let the machine start. */
  private waiting: boolean;
  /** gdb resumed the machine and waits for a stop reply. */
  private running = false;
  /** The signal a stop the debugger asked for reports (SIGTRAP when it connected, SIGINT for Ctrl-C). */
  private interruptSignal = SIGTRAP;
  private letGo: ((answer: 'run' | 'quit') => void) | null = null;
  private readonly xml = targetDescription();

  /** Attaches to the monitor: every session of its machine then stands still while the stub holds it. */
  constructor(private readonly monitor: Monitor, private readonly options: StubOptions) {
    this.waiting = options.waitForDebugger;
    monitor.attachDebugger(this);
  }

  get holding(): boolean {
    return this.waiting || (this.traps !== null && this.traps.stop !== null);
  }

  release(): Promise<'run' | 'quit'> {
    if (this.running) {
      this.running = false;
      this.connection?.send(this.stopReply());
    }
    return new Promise((resolve) => { this.letGo = resolve; });
  }

  /** A debugger connected: the machine stops (as QEMU's does) unless another debugger is attached. */
  attach(socket: Socket): void {
    if (this.connection?.isOpen) {
      this.options.log('a second debugger tried to connect; only one at a time');
      socket.destroy();
      return;
    }
    const connection = new PacketConnection(socket, {
      packet: (body) => this.packet(body),
      interrupt: () => this.interrupt(),
      closed: () => { if (this.connection === connection) this.detach('the debugger detached'); },
    });
    this.connection = connection;
    this.traps = this.monitor.pc.cpu.attachDebugger();
    this.traps.stop ??= { kind: 'interrupted' };
    this.interruptSignal = SIGTRAP;
    this.running = false;
    this.options.log(`debugger connected from ${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`);
  }

  /** The run is over (the guest stopped, --until matched, a timeout): gdb hears that the program exited. */
  finish(exitCode: number): void {
    this.connection?.send(`W${(exitCode & 0xff).toString(16).padStart(2, '0')}`);
    this.connection?.close();
    this.connection = null;
  }

  private go(answer: 'run' | 'quit'): void {
    const letGo = this.letGo;
    this.letGo = null;
    letGo?.(answer);
  }

  /** Breakpoints and watchpoints gone, the connection closed, the machine free to run at full speed (`why`: say so). */
  private detach(why: string | null): void {
    const connection = this.connection;
    this.connection = null;
    connection?.close();
    if (this.traps) this.monitor.pc.cpu.detachDebugger();
    this.traps = null;
    this.waiting = false;
    this.running = false;
    if (why !== null) this.options.log(`${why}; the machine runs on`);
    this.go('run');
  }

  private interrupt(): void {
    if (!this.traps || !this.running || this.traps.stop !== null) return;
    this.interruptSignal = SIGINT;
    this.traps.stop = { kind: 'interrupted' };
  }

  private stopReply(): string {
    const stop = this.traps?.stop ?? { kind: 'interrupted' as const };
    const thread = `thread:${THREAD};`;
    switch (stop.kind) {
      case 'breakpoint': return `T05${stop.hardware ? 'hwbreak' : 'swbreak'}:;${thread}`;
      case 'watchpoint': return `T05${WATCH_REPLY[stop.watch]}:${stop.address.toString(16)};${thread}`;
      case 'step': return `T05${thread}`;
      case 'interrupted': return `T${this.interruptSignal.toString(16).padStart(2, '0')}${thread}`;
    }
  }

  /** `c`/`s` (optionally at a new address): the machine goes on; the stop reply comes when it stops again. */
  private resume(step: boolean, address: string): void {
    const cpu = this.monitor.pc.cpu;
    if (address !== '') cpu.eip = parseInt(address, 16) | 0;
    if (step) this.traps!.step();
    this.traps!.resume();
    this.waiting = false;
    this.running = true;
    this.go('run');
  }

  private packet(body: string): void {
    const reply = this.answer(body);
    if (reply !== null) this.connection?.send(reply);
  }

  /** The reply to one packet; null when there is none now (resuming: the stop reply comes later). */
  private answer(body: string): string | null {
    const cpu = this.monitor.pc.cpu;
    const traps = this.traps!;
    const [command, rest] = [body[0] ?? '', body.slice(1)];
    switch (command) {
      case '?': return this.stopReply();
      case 'g': return readRegisters(cpu);
      case 'G': return writeRegisters(cpu, rest) === null ? 'OK' : 'E01';
      case 'p': return readRegister(cpu, parseInt(rest, 16)) ?? 'E01';
      case 'P': {
        const [n, value] = rest.split('=');
        return writeRegister(cpu, parseInt(n!, 16), value ?? '') === null ? 'OK' : 'E01';
      }
      case 'm': {
        const [address, length] = rest.split(',').map((t) => parseInt(t, 16));
        return this.readMemory(address!, Math.min(length!, PACKET_SIZE / 2 - 8)) ?? 'E14';
      }
      case 'M': {
        const [where, data] = rest.split(':');
        const [address, length] = where!.split(',').map((t) => parseInt(t, 16));
        return data !== undefined && data.length === 2 * length! && this.writeMemory(address!, data) ? 'OK' : 'E14';
      }
      case 'Z':
      case 'z': {
        const [type, addressText, lengthText] = rest.split(',');
        const address = parseInt(addressText!, 16), length = parseInt(lengthText!, 16);
        if (!Number.isSafeInteger(address) || !Number.isSafeInteger(length)) return 'E01';
        if (type === '0' || type === '1') {
          if (command === 'Z') traps.addBreakpoint(address, type === '1');
          else if (!traps.removeBreakpoint(address)) return 'E01';
          return 'OK';
        }
        const kind = WATCH_KINDS[type!];
        if (!kind || length < 1) return '';
        if (command === 'Z') traps.addWatchpoint(address, length, kind);
        else if (!traps.removeWatchpoint(address, length, kind)) return 'E01';
        return 'OK';
      }
      case 'c': this.resume(false, rest); return null;
      case 's': this.resume(true, rest); return null;
      case 'C': this.resume(false, rest.split(';')[1] ?? ''); return null;
      case 'S': this.resume(true, rest.split(';')[1] ?? ''); return null;
      case 'D':
        this.connection?.send('OK');
        this.connection?.close();
        return null;
      case 'k': this.kill(); return null;
      case 'H': return 'OK';
      case 'T': return 'OK';
      case 'q': return this.query(body);
      case 'Q':
        if (body === 'QStartNoAckMode') {
          this.connection?.send('OK');
          this.connection?.stopAcknowledging();
          return null;
        }
        return '';
      case 'v':
        if (body.startsWith('vKill')) {
          this.connection?.send('OK');
          this.kill();
          return null;
        }
        return '';
      default: return '';
    }
  }

  private query(body: string): string {
    if (body.startsWith('qSupported')) return `PacketSize=${PACKET_SIZE.toString(16)};qXfer:features:read+;swbreak+;hwbreak+;multiprocess+;QStartNoAckMode+`;
    if (body === 'qC') return `QC${THREAD}`;
    if (body === 'qfThreadInfo') return `m${THREAD}`;
    if (body === 'qsThreadInfo') return 'l';
    if (body.startsWith('qAttached')) return '1';
    const xfer = /^qXfer:features:read:target\.xml:([0-9a-f]+),([0-9a-f]+)$/i.exec(body);
    if (xfer) {
      const offset = parseInt(xfer[1]!, 16), length = parseInt(xfer[2]!, 16);
      const chunk = this.xml.slice(offset, offset + length);
      return (offset + length >= this.xml.length ? 'l' : 'm') + chunk;
    }
    if (body.startsWith('qXfer:features:read:')) return 'E00';
    if (body.startsWith('qRcmd,')) {
      const command = Buffer.from(body.slice(6), 'hex').toString('latin1');
      for (const line of monitorCommand(this.monitor, command, this.options.seed)) this.connection?.send(`O${toHex(`${line}\n`)}`);
      return 'OK';
    }
    return '';
  }

  private kill(): void {
    this.options.log('the debugger ended the run');
    this.go('quit');
    this.detach(null);
  }

  /** The guest-physical address of linear `address`, if it is guest RAM (not a device, not unmapped). */
  private ram(address: number): number | null {
    const { mem, cpu } = this.monitor.pc;
    const phys = debugTranslate(cpu, address);
    if (phys === null || phys >= mem.guestSize || mem.pageFlags[phys >>> 12]! & PAGE_MMIO) return null;
    return phys;
  }

  /** Up to `length` bytes at linear `address` as hex (fewer when a page is not readable); null if none is. */
  private readMemory(address: number, length: number): string | null {
    const mem = this.monitor.pc.mem;
    let out = '';
    for (let i = 0; i < length; i++) {
      const phys = this.ram((address + i) >>> 0);
      if (phys === null) break;
      out += mem.ram[mem.hostOffset(phys)]!.toString(16).padStart(2, '0');
    }
    return out === '' && length > 0 ? null : out;
  }

  /**
   * Writes bytes at linear `address` as a device writing memory would: through the
   * memory's hooks (code compiled from them is dropped, a mirror in hardware mode
   * follows). All or nothing.
   */
  private writeMemory(address: number, hex: string): boolean {
    const targets: number[] = [];
    for (let i = 0; i < hex.length / 2; i++) {
      const phys = this.ram((address + i) >>> 0);
      if (phys === null) return false;
      targets.push(phys);
    }
    targets.forEach((phys, i) => this.monitor.pc.mem.write8(phys, parseInt(hex.slice(2 * i, 2 * i + 2), 16)));
    return true;
  }
}
