/**
 * The PC: an i386 CPU, guest-physical memory, and the devices QEMU's `-machine pc`
 * presents (8259 pair, IOAPIC, local APIC, 8254, CMOS RTC, 16550 on COM1, 8042, CGA text,
 * IDE primary channel), wired as on that machine, with firmware tables in low memory.
 *
 * Time is virtual and deterministic: cycles = instructions executed + cycles skipped
 * while the CPU is halted. The run loop executes exactly up to the next device event,
 * fires it, and repeats; a halted CPU jumps straight to the next event. The same inputs
 * at the same virtual times therefore give the same run, instruction for instruction.
 */
import type { AccessSize, InterruptSource, IoSpace, MmioDevice, MsrHandler } from '../cpu/bus.js';
import { CPU, MiB, PhysicalMemory, type HostMemory } from '../cpu/index.js';
import type { TlbArrays } from '../cpu/cpu.js';
import { IF } from '../cpu/flags.js';
import { IoApic, IOAPIC_BASE, LAPIC_BASE, LocalApic } from './apic.js';
import { CgaText } from './cga.js';
import type { Clock, Device, PortHandler } from './device.js';
import type { DiskBytes, DiskImage } from './disk.js';
import { installFirmwareTables, ioapicPin, IOAPIC_ID } from './firmware.js';
import { IdeController } from './ide.js';
import { Keyboard8042 } from './kbd.js';
import { MachineCheckBank } from './mca.js';
import { MemoryDefects } from './memory-defects.js';
import { Pic8259 } from './pic.js';
import { Pit8254 } from './pit.js';
import { CmosRtc } from './rtc.js';
import { COM1_BASE, Uart16550 } from './uart.js';

export interface PcOptions {
  memoryMiB: number;
  hda?: DiskImage | null;
  hdb?: DiskImage | null;
  /** Seconds since 1970 that the RTC shows at power-on. */
  rtcStart: number;
  /** QEMU's isa-debug-exit device at port 0xF4 (for test kernels). */
  debugExit?: boolean;
  /** Host memory reserved beyond the guest's, for the hypervisor's spare frames. */
  spareMiB?: number;
  /** What a finished machine leaves for this one to take over (only for a caller that overwrites all of its memory). */
  reuse?: Leftovers;
}

/**
 * What a finished machine leaves behind for the next to take over (a campaign's runs, each
 * a new machine restored from one snapshot): its host memory (see PhysicalMemory), its
 * CPU's emptied TLB arrays (CPU.releaseTlb) and its restored disks' bytes (see DiskBytes).
 * Take them with `PC.leftovers` once the machine is done.
 */
export interface Leftovers {
  memory?: HostMemory;
  tlb?: TlbArrays;
  /** By IDE unit: the bytes of a disk restored from a snapshot. */
  disks?: Array<DiskBytes | null>;
}

/** Something outside the PC's devices with events in virtual time (the fault injector). */
export interface TimedPart {
  /** Virtual cycle of the next event, or Infinity. */
  nextEvent(): number;
  /** Called by the run loop once now() >= nextEvent(). */
  onEvent(now: number): void;
}

export type StopReason =
  | { kind: 'shutdown'; message: string }      // triple fault
  | { kind: 'halted'; message: string }        // HLT with interrupts disabled: nothing can wake it
  | { kind: 'reset'; message: string }         // the guest asked for a reset (we do not reboot)
  | { kind: 'debug-exit'; code: number; message: string };

export interface ExitCounts {
  ioRead: number; ioWrite: number; mmioRead: number; mmioWrite: number;
  interrupts: number; halts: number; haltedCycles: number;
}

/** Port I/O space: per-port handlers; wider accesses to byte registers are split into bytes. */
class PortBus implements IoSpace {
  private readonly handlers: Array<PortHandler | undefined> = new Array(0x10000);
  private readonly wide = new Uint8Array(0x10000);
  constructor(private readonly exits: ExitCounts) {}

  register(ports: Iterable<number>, handler: PortHandler, wide = false): void {
    for (const p of ports) {
      this.handlers[p] = handler;
      this.wide[p] = wide ? 1 : 0;
    }
  }

  read(port: number, size: AccessSize): number {
    this.exits.ioRead++;
    const h = this.handlers[port];
    if (h && (size === 1 || this.wide[port])) return h.portRead(port, size);
    let value = 0;
    for (let i = 0; i < size; i++) {
      const hi = this.handlers[(port + i) & 0xffff];
      value |= (hi ? hi.portRead((port + i) & 0xffff, 1) & 0xff : 0xff) << (8 * i);
    }
    return value >>> 0;
  }

  readString(port: number, size: AccessSize, bytes: Uint8Array, offset: number, count: number): number {
    const h = this.handlers[port];
    if (!h?.portReadString || !this.wide[port]) return 0;
    const n = h.portReadString(port, size, bytes, offset, count);
    this.exits.ioRead += n;
    return n;
  }

  writeString(port: number, size: AccessSize, bytes: Uint8Array, offset: number, count: number): number {
    const h = this.handlers[port];
    if (!h?.portWriteString || !this.wide[port]) return 0;
    const n = h.portWriteString(port, size, bytes, offset, count);
    this.exits.ioWrite += n;
    return n;
  }

  write(port: number, size: AccessSize, value: number): void {
    this.exits.ioWrite++;
    const h = this.handlers[port];
    if (h && (size === 1 || this.wide[port])) return h.portWrite(port, size, value);
    for (let i = 0; i < size; i++) this.handlers[(port + i) & 0xffff]?.portWrite((port + i) & 0xffff, 1, (value >>> (8 * i)) & 0xff);
  }
}

const range = (first: number, count: number) => Array.from({ length: count }, (_, i) => first + i);

export class PC implements Clock {
  readonly mem: PhysicalMemory;
  readonly cpu: CPU;
  readonly pic: Pic8259;
  readonly lapic: LocalApic;
  readonly ioapic: IoApic;
  readonly pit: Pit8254;
  readonly rtc: CmosRtc;
  readonly uart: Uart16550;
  readonly kbd: Keyboard8042;
  readonly cga: CgaText;
  readonly ide: IdeController;
  /** The processor's machine-check bank, and the defects of its memory (faults injected into it). */
  readonly mca: MachineCheckBank;
  readonly defects: MemoryDefects;
  /** In save/restore and event order. */
  readonly devices: Device[];
  /** Timed parts of the hypervisor layer, after the devices in event order. */
  private readonly timedParts: TimedPart[] = [];
  readonly exits: ExitCounts = { ioRead: 0, ioWrite: 0, mmioRead: 0, mmioWrite: 0, interrupts: 0, halts: 0, haltedCycles: 0 };
  /** Guest frames [first, end) of the multiboot kernel's image, when one was loaded. */
  kernelFrames: [number, number] | null = null;
  /** Cycles skipped while the CPU was halted. */
  idleCycles = 0;
  stopReason: StopReason | null = null;
  /** Bytes the guest writes to COM1. */
  onConsole: (byte: number) => void = () => {};
  private readonly ports: PortBus;
  private imcr = 0;

  /** This machine is done: what the next one can take over (it must not run again). */
  leftovers(): Leftovers {
    return { memory: this.mem.hostMemory(), tlb: this.cpu.releaseTlb(), disks: this.ide.drives.map((d) => d?.leftover() ?? null) };
  }

  constructor(readonly options: PcOptions) {
    this.mem = new PhysicalMemory(options.memoryMiB * MiB, (options.memoryMiB + (options.spareMiB ?? 0)) * MiB, options.reuse?.memory);
    this.ports = new PortBus(this.exits);
    this.cpu = new CPU(this.mem, this.ports, options.reuse?.tlb);
    const notify = () => this.cpu.notifyInterrupt();
    const lines = { setIrq: (irq: number, level: boolean) => this.setIrq(irq, level) };
    this.pic = new Pic8259(notify);
    this.lapic = new LocalApic(this, notify);
    this.ioapic = new IoApic(this.lapic);
    this.ioapic.id = IOAPIC_ID;
    this.lapic.eoiBroadcast = (v) => this.ioapic.eoi(v);
    this.pit = new Pit8254(this, lines);
    this.rtc = new CmosRtc(this, lines, this.mem.guestSize, options.rtcStart);
    this.uart = new Uart16550(this, lines);
    this.uart.onTransmit = (b) => this.onConsole(b);
    this.kbd = new Keyboard8042(lines);
    this.kbd.onReset = () => this.stop({ kind: 'reset', message: 'the guest reset the machine' });
    this.cga = new CgaText(this.mem);
    this.ide = new IdeController(this, lines, [options.hda ?? null, options.hdb ?? null]);
    this.mca = new MachineCheckBank(this.cpu);
    this.defects = new MemoryDefects(this.mem, this.cpu, this.mca);
    this.devices = [this.pic, this.lapic, this.ioapic, this.pit, this.rtc, this.uart, this.kbd, this.cga, this.ide, this.mca, this.defects];
    this.bindEvents();

    const p = this.ports;
    p.register([0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1], this.pic);
    p.register(range(0x40, 4), this.pit);
    p.register([0x61], this.pit);
    p.register([0x70, 0x71], this.rtc);
    p.register(range(COM1_BASE, 8), this.uart);
    p.register([0x60, 0x64, 0x92], this.kbd);
    p.register([0x3d4, 0x3d5, 0x3da], this.cga);
    p.register([0x1f0], this.ide, true);
    p.register(range(0x1f1, 7), this.ide);
    p.register([0x3f6], this.ide);
    const ignored: PortHandler = { portRead: () => 0xff, portWrite: () => {} };
    p.register([0x80, 0xed], ignored);  // POST codes and the I/O delay port
    p.register([0x22, 0x23], {  // IMCR: which interrupt mode the MP spec's PIC/APIC switch selects
      portRead: (port) => (port === 0x23 ? this.imcr : 0xff),
      portWrite: (port, _size, value) => { if (port === 0x23) this.imcr = value & 0xff; },
    });
    p.register([0xcf9], {  // the PIIX reset control register
      portRead: () => 0,
      portWrite: (_port, _size, value) => { if (value & 4) this.stop({ kind: 'reset', message: 'the guest reset the machine (port 0xCF9)' }); },
    });
    if (options.debugExit) {
      p.register(range(0xf4, 4), {
        portRead: () => 0xff,
        portWrite: (_port, _size, value) => {
          const code = ((value & 0xff) << 1) | 1;
          this.stop({ kind: 'debug-exit', code, message: `the guest wrote ${value & 0xff} to the debug-exit port (exit status ${code})` });
        },
      });
    }
    this.mem.mapMmio(LAPIC_BASE, 0x1000, this.counted(this.lapic));
    this.mem.mapMmio(IOAPIC_BASE, 0x1000, this.counted(this.ioapic));

    const source: InterruptSource = {
      hasInterrupt: () => this.lapic.hasInterrupt() || (this.lapic.acceptsPic() && this.pic.hasInterrupt()),
      acknowledge: () => {
        this.exits.interrupts++;
        return this.lapic.hasInterrupt() ? this.lapic.acknowledge() : this.pic.acknowledge();
      },
    };
    this.cpu.interruptSource = source;
    this.cpu.msrHandler = this.msrs();
    installFirmwareTables(this.mem);
  }

  private counted(device: MmioDevice): MmioDevice {
    return {
      mmioRead: (offset, size) => { this.exits.mmioRead++; return device.mmioRead(offset, size); },
      mmioWrite: (offset, size, value) => { this.exits.mmioWrite++; device.mmioWrite(offset, size, value); },
    };
  }

  private msrs(): MsrHandler {
    return {
      readMsr: (index) => {
        if (index === 0x1b) return [this.lapic.apicBase >>> 0, 0];
        return this.mca.readMsr(index);
      },
      writeMsr: (index, low, high) => {
        if (index === 0x1b) {
          this.lapic.apicBase = (this.lapic.apicBase & ~0x800) | (low & 0x800);
          this.cpu.notifyInterrupt();
          return true;
        }
        return this.mca.writeMsr(index, low, high);
      },
    };
  }

  /**
   * A part of the hypervisor layer with timed events joins the machine's event loop
   * (after the PC's own devices; the monitor saves and restores it).
   */
  addTimedPart(part: TimedPart): void {
    this.timedParts.push(part);
    this.bindEvents();
  }

  /** An ISA interrupt line changed: it reaches both the 8259 pair and the IOAPIC. */
  setIrq(irq: number, level: boolean): void {
    this.pic.setIrq(irq, level);
    this.ioapic.setIrq(ioapicPin(irq), level);
  }

  // ------------------------------------------------------------------ Clock

  now(): number {
    return this.cpu.instructionCount + this.idleCycles;
  }

  rescheduled(): void {
    this.cpu.requestStop();
  }

  stop(reason: StopReason): void {
    if (!this.stopReason) this.stopReason = reason;
    this.cpu.requestStop();
  }

  // ------------------------------------------------------------------ running

  /**
   * The timed events' methods, bound once, in the order the run loop asks them (the
   * devices' in `devices` order, then the timed parts'); a handler is null for a device
   * with a time and no handler. The loop asks every one twice an iteration (125,000
   * iterations in a usertests run): through the devices themselves, five classes and
   * eleven shapes, each `d.nextEvent` was a megamorphic property load (V8's stub cache:
   * 1.8% of a warm usertests run's `perf` samples, from pc.run and session.step).
   */
  private eventTimes: Array<() => number> = [];
  private eventHandlers: Array<((now: number) => void) | null> = [];

  private bindEvents(): void {
    const timed: Array<Device | TimedPart> = [...this.devices.filter((d) => d.nextEvent !== undefined), ...this.timedParts];
    this.eventTimes = timed.map((d) => d.nextEvent!.bind(d));
    this.eventHandlers = timed.map((d) => d.onEvent?.bind(d) ?? null);
  }

  private nextEvent(): number {
    let next = Infinity;
    for (const time of this.eventTimes) {
      const t = time();
      if (t < next) next = t;
    }
    return next;
  }

  private fireEvents(now: number): void {
    const times = this.eventTimes, handlers = this.eventHandlers;
    for (let i = 0; i < times.length; i++) {
      const handler = handlers[i]!;
      if (handler !== null && times[i]!() <= now) handler(now);
    }
  }

  /**
   * Runs for up to `cycles` cycles of virtual time; returns early when the machine stops,
   * when a debugger stops the processor, or with `cpu.yielded` set when the CPU yielded to
   * the host (past its hostDeadline): run again for the rest, and it is the same run. Where
   * it returns otherwise depends only on the guest and on `cycles`, never on the host.
   */
  run(cycles: number): void {
    const limit = this.now() + cycles;
    const cpu = this.cpu;
    while (!this.stopReason) {
      let now = this.now();
      this.fireEvents(now);
      if (this.stopReason || now >= limit) break;
      const until = Math.min(this.nextEvent(), limit);
      if (until <= now) continue;
      cpu.run(until - now);
      if (cpu.debug !== null && cpu.debug.stop !== null) break;  // a debugger holds the machine here
      if (cpu.yielded) break;
      if (cpu.shutdown) {
        this.stop({ kind: 'shutdown', message: `the processor shut down: ${cpu.shutdownReason}` });
        break;
      }
      if (cpu.halted && !this.stopReason) {
        if (!(cpu.flags & IF)) {
          const mc = this.mca.inProgress();  // its handler stopped, as MemV6's does on a second error
          this.stop({ kind: 'halted', message: mc ? `the guest halted with interrupts disabled with ${mc}` : 'the guest halted with interrupts disabled (a kernel panic?)' });
          break;
        }
        if (cpu.interruptSource!.hasInterrupt()) continue;
        now = this.now();
        const wake = Math.min(this.nextEvent(), limit);
        if (wake > now) {
          this.exits.halts++;
          this.exits.haltedCycles += wake - now;
          this.idleCycles += wake - now;
          cpu.tscOffset += wake - now;
        }
      }
    }
  }

  /** Sets the CPU to run a boot sector already at 0x7C00, as a BIOS would leave it (DL = first disk). */
  bootSector(): void {
    this.cpu.reset();
    this.cpu.startRealMode(0, 0x7c00);
    this.cpu.reg[2] = 0x80;    // DL: boot drive
    this.cpu.reg[4] = 0x7c00;  // SP just below the boot sector
  }
}
