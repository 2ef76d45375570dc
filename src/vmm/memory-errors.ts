/**
 * Memory errors and what the monitor does about them.
 *
 * A poisoned frame has lost its data: the monitor fills it with a pattern and marks the
 * guest page so every access takes the slow path. A read of a byte the guest has not
 * rewritten since the poisoning consumes the poison (writes simply replace the lost
 * data, and a frame rewritten in full is healthy again, as when a kernel zeroes a page it
 * allocates). On consumption the monitor recovers transparently when it can: it finds the
 * page's twin through the guest page tables (va and va ± OFFSET in an address space the
 * guest has loaded), copies the twin into a spare host frame reserved at VM start,
 * switches the guest-physical → host map (P2M) and lets the access go on; the guest
 * executes nothing extra. Without a healthy twin it raises a machine check (#MC) with
 * the MCA registers a kernel reads (MCG_CAP, MCG_STATUS, MC0_STATUS/ADDR).
 */
import { CR4_MCE, PTE_U } from '../cpu/state.js';
import type { MsrHandler } from '../cpu/bus.js';
import { PAGE_HOOK, PAGE_WRITE_HOOK } from '../cpu/memory.js';
import { MemvisorError } from '../errors.js';
import type { Device, DeviceState } from '../machine/device.js';
import type { PC } from '../machine/pc.js';
import { SeededRandom } from '../faults/random.js';
import type { InjectionSpec } from '../faults/spec.js';
import { framesEqual, MIRROR_OFFSET, walkUserPages } from './mirror.js';
import type { HardwareMirror } from './hardware-mirror.js';

const PAGE = 4096;
const VEC_MC = 18;
/** MemV6's (and xv6's) system-call vector. */
const SYSCALL_VECTOR = 64;
const KERNEL_PDE = 0x80000000 >>> 22;
/** Retry an injection that found nothing to hit this much later (1 ms of guest time). */
const RETRY_CYCLES = 100_000;

export type RecoveryMode = 'monitor' | 'guest';

export interface MemoryErrorStats {
  injected: number;
  /** Poison consumed (a read of lost data). */
  activated: number;
  recoveredByMonitor: number;
  machineChecks: number;
  /** Poisoned frames the guest rewrote in full before reading them. */
  overwritten: number;
  /** Injections that found no frame of their target class. */
  noTarget: number;
  recoveryHostMs: number;
  /** Scrubber passes, page pairs compared, and pairs found different (neither copy can be trusted). */
  scrubs: number;
  scrubbedPages: number;
  detectedUncorrectable: number;
  log: string[];
}

/** MCA: one bank, as a kernel expects to read it through rdmsr. */
const MSR = { MCG_CAP: 0x179, MCG_STATUS: 0x17a, MC0_CTL: 0x400, MC0_STATUS: 0x401, MC0_ADDR: 0x402, MC0_MISC: 0x403 };
const MCG_STATUS_RIPV = 1, MCG_STATUS_MCIP = 4;
/** MCi_STATUS high half: VAL (63), UC (61), EN (60), ADDRV (58), PCC (57) is left clear (the context is intact). */
const MCI_STATUS_HIGH = (1 << 31) | (1 << 29) | (1 << 28) | (1 << 26);
/** MCA error code for a memory read error (generic memory hierarchy, data read). */
const MCI_STATUS_LOW = 0x0000009f;

/**
 * Faults in user pages land when the running process makes a system call. A translated
 * program's native store and the mirror store after it are not atomic: a fault arriving
 * between the two would be repaired from a copy one store behind. In real memory such a
 * coincidence (an error in the very bytes stored a few nanoseconds ago) is vanishingly
 * rare; a injector picking instants uniformly would make it common, and measure the
 * injector rather than the system. At a system call every sequence of the process is
 * complete.
 */
const USER_TARGETS = new Set(['user-native', 'user-mirror', 'both']);

interface Pending {
  at: number;
  spec: number;
  attempt: number;
}

export class MemoryErrors implements Device {
  readonly name = 'memory-errors';
  /** Poisoned guest frame → which of its bytes the guest has rewritten since, and how many are still lost. */
  private poisoned = new Map<number, { written: Uint8Array; lost: number; consumed: boolean }>();
  private pending: Pending[] = [];
  private atNextSyscall: Pending[] = [];
  /** match= injections waiting for their text on the console. */
  private consoleTriggers: Array<{ spec: number; text: string }> = [];
  /** Frames with stuck bits: [byte offset, bit mask, value] each, re-applied after every write. */
  private stuck = new Map<number, Array<[number, number, number]>>();
  private spareNext: number;
  private readonly spareEnd: number;
  /** Page directories the guest has loaded, most recent last. */
  private directories: number[] = [];
  private mcgStatus = 0;
  private mciStatus: [number, number] = [0, 0];
  private mciAddr = 0;
  private random: SeededRandom[];
  readonly stats: MemoryErrorStats = {
    injected: 0, activated: 0, recoveredByMonitor: 0, machineChecks: 0, overwritten: 0, noTarget: 0, recoveryHostMs: 0,
    scrubs: 0, scrubbedPages: 0, detectedUncorrectable: 0, log: [],
  };
  private nextScrub: number;
  /** Page pairs already reported by the scrubber (directory:va). */
  private reported = new Set<string>();

  /** `scrubEvery`: compare the running process's mirrored pages at its first system call after every this many cycles (0: never). */
  constructor(private readonly pc: PC, private readonly specs: InjectionSpec[], readonly recovery: RecoveryMode,
    private readonly kernelFrames: [number, number], private readonly scrubEvery = 0,
    private readonly hardware: HardwareMirror | null = null) {
    this.nextScrub = scrubEvery || Infinity;
    const mem = pc.mem;
    this.spareNext = mem.guestSize / PAGE;
    this.spareEnd = hardware ? hardware.base : mem.ram.length / PAGE;
    this.random = specs.map((s) => new SeededRandom(s.seed));
    for (const [i, spec] of specs.entries()) {
      if (spec.trigger.kind === 'console') {
        this.consoleTriggers.push({ spec: i, text: spec.trigger.text });
        continue;
      }
      for (let n = 0; n < spec.count; n++) {
        const t = spec.trigger;
        const at = t.kind === 'instruction' ? t.at : this.random[i]!.nextInRange(t.from, t.to);
        this.pending.push({ at, spec: i, attempt: 0 });
      }
    }
    this.pending.sort((a, b) => a.at - b.at || a.spec - b.spec);
    mem.accessHook = (p, size, write) => this.onAccess(p, size, write);
    const previousWriteHook = mem.writeHook;
    mem.writeHook = (p, size) => {
      previousWriteHook?.(p, size);
      const bits = this.stuck.get(p >>> 12);
      if (bits) this.applyStuck(p >>> 12, bits);
    };
    const cpu = pc.cpu, previous = cpu.softwareInterruptHook;
    cpu.softwareInterruptHook = (vector) => {
      if (vector === SYSCALL_VECTOR) this.onSyscall();
      return previous ? previous(vector) : false;
    };
    pc.cr3Listeners.push((cr3) => this.rememberDirectory(cr3));
    pc.extraMsrs = this.msrs();
  }

  reset(): void {}

  get spareFramesLeft(): number {
    return this.spareEnd - this.spareNext;
  }

  // ------------------------------------------------------------------ injection

  nextEvent(): number {
    return this.pending.length ? this.pending[0]!.at : Infinity;
  }

  onEvent(now: number): void {
    while (this.pending.length && this.pending[0]!.at <= now) {
      const item = this.pending.shift()!;
      if (USER_TARGETS.has(this.specs[item.spec]!.target)) {
        this.atNextSyscall.push(item);  // see USER_TARGETS
        continue;
      }
      this.injectNow(item, now);
    }
  }

  /** The console so far (at a slice boundary): match= injections whose text has appeared are due now. */
  consoleText(transcript: string): void {
    if (this.consoleTriggers.length === 0) return;
    const now = this.pc.now();
    this.consoleTriggers = this.consoleTriggers.filter(({ spec, text }) => {
      if (!transcript.includes(text)) return true;
      for (let n = 0; n < this.specs[spec]!.count; n++) this.pending.push({ at: now, spec, attempt: 0 });
      return false;
    });
    this.pending.sort((a, b) => a.at - b.at || a.spec - b.spec);
  }

  private applyStuck(frame: number, bits: Array<[number, number, number]>): void {
    const ram = this.pc.mem.ram, host = this.pc.mem.hostOffset(frame * PAGE);
    for (const [at, mask, value] of bits) ram[host + at] = (ram[host + at]! & ~mask) | value;
    this.pc.mem.noteHostWrite(host, PAGE);
  }

  /** A process made a system call: the user-page injections that are due land now. */
  private onSyscall(): void {
    const now = this.pc.now();
    if (now >= this.nextScrub) {
      this.nextScrub = now + this.scrubEvery;
      this.scrub(now);
    }
    const due = this.atNextSyscall;
    if (due.length === 0) return;
    this.atNextSyscall = [];
    for (const item of due) this.injectNow(item, now);
  }

  /**
   * The scrubber: at a system call every native/mirror pair of the running process must
   * hold the same bytes. A pair that differs (silent corruption, bits flipped) cannot be
   * resolved with two copies: it is reported as detected-uncorrectable, never hidden.
   */
  private scrub(now: number): void {
    const mem = this.pc.mem;
    const dir = this.pc.cpu.cr3 & ~0xfff;
    const { native, mirror } = this.userPages(dir);
    this.stats.scrubs++;
    for (const [va, frame] of native) {
      const twin = mirror.get(va + MIRROR_OFFSET);
      if (twin === undefined || this.poisoned.has(frame) || this.poisoned.has(twin)) continue;
      this.stats.scrubbedPages++;
      const key = `${dir}:${va}`;
      if (framesEqual(mem, frame * PAGE, twin * PAGE) || this.reported.has(key)) continue;
      this.reported.add(key);
      this.stats.detectedUncorrectable++;
      this.stats.log.push(`cycle ${now}: scrub: page 0x${va.toString(16)} differs from its mirror (frames 0x${(frame * PAGE).toString(16)} and ` +
        `0x${(twin * PAGE).toString(16)}): detected, uncorrectable`);
    }
  }

  private injectNow(item: Pending, now: number): void {
    const spec = this.specs[item.spec]!;
    const frames = this.chooseFrames(spec, this.random[item.spec]!);
    if (frames) {
      for (const frame of frames) this.inject(spec, frame, this.random[item.spec]!, now);
    } else if (item.attempt < 1000) {
      this.pending.push({ ...item, at: now + RETRY_CYCLES, attempt: item.attempt + 1 });
      this.pending.sort((a, b) => a.at - b.at || a.spec - b.spec);
      this.pc.rescheduled();
    } else {
      this.stats.noTarget++;
      this.stats.log.push(`cycle ${now}: ${spec.source} (seed ${spec.seed}): no ${spec.target} frame to hit`);
    }
  }

  /** The frames one injection hits, chosen in the current address space; null if there are none. */
  private chooseFrames(spec: InjectionSpec, random: SeededRandom): number[] | null {
    const mem = this.pc.mem;
    if (spec.target === 'address') return [spec.address! >>> 12];
    if (spec.target === 'kernel') return [random.nextInRange(this.kernelFrames[0], this.kernelFrames[1] - 1)];
    if (spec.target === 'any') return [random.nextInRange(0x100, mem.guestSize / PAGE - 1)];
    const cr3 = this.pc.cpu.cr3 >>> 0;
    const { native, mirror, tables } = this.userPages(cr3);
    const fresh = (f: number) => !this.poisoned.has(f);
    let candidates: number[][];
    switch (spec.target) {
      case 'user-native': {
        // In a mirrored process, its mirrored pages (not the translator's spill page,
        // which has no twin by design); in an unmirrored one, any of its pages.
        const pages = mirror.size ? [...native.entries()].filter(([va]) => mirror.has(va + MIRROR_OFFSET)).map(([, f]) => f) : [...native.values()];
        candidates = pages.filter(fresh).map((f) => [f]);
        break;
      }
      case 'user-mirror': candidates = [...mirror.values()].filter(fresh).map((f) => [f]); break;
      case 'both':
        candidates = [...native.entries()].filter(([va, f]) => mirror.has(va + MIRROR_OFFSET) && fresh(f))
          .map(([va, f]) => [f, mirror.get(va + MIRROR_OFFSET)!]);
        break;
      case 'page-table': candidates = tables.filter(fresh).map((f) => [f]); break;
      default: candidates = [];
    }
    if (candidates.length === 0) return null;
    return candidates[random.nextBelow(candidates.length)]!;
  }

  private inject(spec: InjectionSpec, frame: number, random: SeededRandom, now: number): void {
    const mem = this.pc.mem;
    const host = mem.hostOffset(frame * PAGE);
    this.stats.injected++;
    mem.noteHostWrite(host, PAGE);
    if (spec.kind === 'stuck') {
      // Permanent and silent: the bits keep their value whatever is written.
      const bits = this.stuck.get(frame) ?? [];
      for (let b = 0; b < spec.bits; b++) {
        const bit = random.nextBelow(PAGE * 8);
        bits.push([bit >>> 3, 1 << (bit & 7), random.nextBelow(2) << (bit & 7)]);
      }
      this.stuck.set(frame, bits);
      this.applyStuck(frame, bits);
      mem.pageFlags[frame] |= PAGE_WRITE_HOOK;
      this.pc.cpu.flushTlb();
      this.stats.log.push(`cycle ${now}: ${spec.source} (seed ${spec.seed}): ${spec.bits} bit(s) stuck in frame 0x${(frame * PAGE).toString(16)}`);
      return;
    }
    if (spec.kind === 'flip') {
      // Silent corruption: no machine check, the data is simply wrong.
      for (let b = 0; b < spec.bits; b++) {
        const bit = random.nextBelow(PAGE * 8);
        mem.ram[host + (bit >>> 3)]! ^= 1 << (bit & 7);
      }
      this.pc.cpu.flushTlb();
      this.stats.log.push(`cycle ${now}: ${spec.source} (seed ${spec.seed}): flipped ${spec.bits} bit(s) in frame 0x${(frame * PAGE).toString(16)}`);
      return;
    }
    // poison (the whole frame) or corrupt-line (one 64-byte line): the lost bytes are
    // those not yet marked as rewritten.
    const written = new Uint8Array(PAGE);
    if (spec.kind === 'corrupt-line') {
      written.fill(1);
      const line = random.nextBelow(PAGE / 64) * 64;
      written.fill(0, line, line + 64);
    }
    const previous = this.poisoned.get(frame);
    if (previous) for (let i = 0; i < PAGE; i++) written[i] = written[i]! & previous.written[i]!;
    let lost = 0;
    for (let i = 0; i < PAGE; i++) if (!written[i]) lost++;
    this.poisoned.set(frame, { written, lost, consumed: false });
    for (let i = 0; i < PAGE; i++) if (!written[i]) mem.ram[host + i] = 0xa5;  // the data is gone
    mem.pageFlags[frame] |= PAGE_HOOK;
    this.pc.cpu.flushTlb();
    this.stats.log.push(`cycle ${now}: ${spec.source} (seed ${spec.seed}): poisoned frame 0x${(frame * PAGE).toString(16)}${spec.kind === 'corrupt-line' ? ' (one line)' : ''}`);
  }

  // ------------------------------------------------------------------ consumption

  private onAccess(p: number, size: number, write: boolean): void {
    const frame = p >>> 12;
    const state = this.poisoned.get(frame);
    if (!state) return;
    const offset = p & 0xfff;
    const written = state.written;
    if (write) {
      for (let i = offset; i < offset + size; i++) {
        if (!written[i]) { written[i] = 1; state.lost--; }
      }
      if (state.lost === 0) {
        this.clear(frame);
        if (!state.consumed) this.stats.overwritten++;
      }
      return;
    }
    let lost = false;
    for (let i = offset; i < offset + size; i++) if (!written[i]) lost = true;
    if (!lost) return;
    state.consumed = true;
    this.stats.activated++;
    if (this.recovery === 'monitor' && this.recover(frame)) return;
    this.machineCheck(p);
  }

  private clear(frame: number): void {
    this.poisoned.delete(frame);
    this.pc.mem.pageFlags[frame] &= ~PAGE_HOOK;
  }

  private rememberDirectory(cr3: number): void {
    const dir = cr3 & ~0xfff;
    const at = this.directories.indexOf(dir);
    if (at >= 0) this.directories.splice(at, 1);
    this.directories.push(dir);
    if (this.directories.length > 64) this.directories.shift();
  }

  /** Native and mirror user pages (va → frame) and page-table frames of one page directory. */
  private userPages(cr3: number): { native: Map<number, number>; mirror: Map<number, number>; tables: number[] } {
    const { pages, tables } = walkUserPages(this.pc.mem, cr3, 0, KERNEL_PDE * 0x400000);
    const native = new Map<number, number>(), mirror = new Map<number, number>();
    for (const [va, pte] of pages) {
      if (pte & PTE_U) (va < MIRROR_OFFSET ? native : mirror).set(va, pte >>> 12);
    }
    return { native, mirror, tables };
  }

  /**
   * Transparent recovery: find the twin of `frame` in an address space the guest has
   * loaded and still uses (its kernel half matches the current one), copy it into a spare
   * frame, and point the P2M there. False when there is no healthy twin or no spare.
   */
  private recover(frame: number): boolean {
    const started = performance.now();
    const mem = this.pc.mem;
    if (this.hardware) {  // the monitor's own copy of every frame
      return this.replaceFrame(frame, this.hardware.mirrorFrame(frame) * PAGE, started, 'from the hardware mirror');
    }
    const kernelHalf = mem.peek32((this.pc.cpu.cr3 & ~0xfff) + KERNEL_PDE * 4);
    for (let i = this.directories.length - 1; i >= 0; i--) {
      const dir = this.directories[i]!;
      if (mem.peek32(dir + KERNEL_PDE * 4) !== kernelHalf) continue;  // not a live address space
      const { native, mirror } = this.userPages(dir);
      let twin = -1, va = -1;
      for (const [v, f] of native) if (f === frame) { va = v; twin = mirror.get(v + MIRROR_OFFSET) ?? -1; break; }
      if (va < 0) for (const [v, f] of mirror) if (f === frame) { va = v; twin = native.get(v - MIRROR_OFFSET) ?? -1; break; }
      if (va < 0) continue;
      if (twin < 0 || this.poisoned.has(twin)) return false;
      return this.replaceFrame(frame, mem.hostOffset(twin * PAGE), started,
        `(va 0x${va.toString(16)}) from its twin 0x${(twin * PAGE).toString(16)}`);
    }
    return false;
  }

  /** Guest frame `frame` gets a spare host frame holding the page at host offset `source`. */
  private replaceFrame(frame: number, source: number, started: number, what: string): boolean {
    if (this.spareNext >= this.spareEnd) return false;
    const mem = this.pc.mem;
    const spare = this.spareNext++;
    mem.ram.copyWithin(spare * PAGE, source, source + PAGE);
    mem.noteHostWrite(spare * PAGE, PAGE);
    mem.remap(frame, spare);
    this.clear(frame);
    this.pc.cpu.flushTlb();
    this.stats.recoveredByMonitor++;
    this.stats.recoveryHostMs += performance.now() - started;
    this.stats.log.push(`recovered guest frame 0x${(frame * PAGE).toString(16)} ${what}`);
    return true;
  }

  /** No healthy twin: a machine check for the guest (or shutdown if it cannot take one). */
  private machineCheck(p: number): never {
    const cpu = this.pc.cpu;
    this.stats.machineChecks++;
    this.stats.log.push(`machine check: lost data at guest-physical 0x${(p >>> 0).toString(16)}`);
    if (this.mcgStatus & MCG_STATUS_MCIP) cpu.enterShutdown('a machine check while the previous one was being handled');
    else if (!(cpu.cr4 & CR4_MCE)) cpu.enterShutdown('a machine check with CR4.MCE clear');
    this.mcgStatus = MCG_STATUS_RIPV | MCG_STATUS_MCIP;
    this.mciStatus = [MCI_STATUS_LOW, MCI_STATUS_HIGH];
    this.mciAddr = p >>> 0;
    return cpu.raise(VEC_MC);
  }

  private msrs(): MsrHandler {
    return {
      readMsr: (index) => {
        switch (index) {
          case MSR.MCG_CAP: return [1, 0];  // one bank
          case MSR.MCG_STATUS: return [this.mcgStatus, 0];
          case MSR.MC0_CTL: return [0xffffffff, 0xffffffff];
          case MSR.MC0_STATUS: return [this.mciStatus[0], this.mciStatus[1]];
          case MSR.MC0_ADDR: return [this.mciAddr, 0];
          case MSR.MC0_MISC: return [0, 0];
        }
        return null;
      },
      writeMsr: (index, low, high) => {
        switch (index) {
          case MSR.MCG_STATUS: this.mcgStatus = low & 7; return true;
          case MSR.MC0_CTL: return true;
          case MSR.MC0_STATUS: this.mciStatus = [low, high]; return true;
          case MSR.MC0_ADDR: this.mciAddr = low; return true;
          case MSR.MC0_MISC: return true;
        }
        return false;
      },
    };
  }

  save(): DeviceState {
    throw new MemvisorError('snapshots of a machine with --inject are not available yet');
  }

  restore(): void {
    throw new MemvisorError('snapshots of a machine with --inject are not available yet');
  }
}
