/**
 * The monitor, composed in one place: a machine (booted, or restored from a snapshot), a
 * mirror mode, a guest profile, a fault plan and a recovery policy, each part listening
 * to the machine's events in the order of LISTENER_ORDER. `memvisor run`, the benchmarks
 * and the tests all build their monitor here, and nowhere else wires mirroring, faults
 * and recovery together.
 *
 *   workflow step 1  SparePool (and the hardware mirror's copy) reserved at VM start
 *   step 2           the guest maps twins (guest mode), or the memory controller copies
 *                    every write (hardware mode)
 *   steps 4-6        Recovery: spare frame, P2M switch, copy from the twin
 *
 * Everything a monitor owns is a snapshot part, so a run saved and restored (with new
 * faults, or none) continues exactly as an uninterrupted one.
 */
import { MemvisorError } from '../errors.js';
import { checkInjectionFitsMachine, classifyRun, FaultInjector, type InjectionSpec, type Outcome } from '../faults/index.js';
import { bootMachine, readKernel, type BootConfig } from '../machine/boot.js';
import { imageName } from '../machine/disk.js';
import { parseElf, readStorePairs, readTranslationNote, STORE_PAIRS_SECTION } from '../elf/index.js';
import { MIRROR_OFFSET } from '../layout.js';
import { CYCLE_NS, type DeviceState, type SnapshotPart } from '../machine/device.js';
import { LISTENER_ORDER } from '../machine/listener-order.js';
import type { Leftovers, PC } from '../machine/pc.js';
import { Session, type SessionDebugger, type SessionOptions, type SessionResult } from '../machine/session.js';
import { SnapshotFile, writeSnapshotFile, type ConsoleState } from '../machine/snapshot.js';
import { AddressSpaces } from './address-spaces.js';
import { FrameMapper, type FrameDetails, type FrameMap } from './frame-map.js';
import { MemoryEventLog } from './memory-events.js';
import { HardwareMirror } from './hardware-mirror.js';
import { inspectMirrors, MirrorStatistics, type AddressSpaceMirrors, type MirrorStats } from './mirror.js';
import { MEMV6, PROFILES, type GuestProfile } from './profile.js';
import { Recovery, type RecoveryMode, type TwinSource } from './recovery.js';
import { Scrubber } from './scrubber.js';
import { reservedMiB, SparePool } from './spare-pool.js';
import { GuestFaultTargets } from './targets.js';
import { describeSystemCheck, SystemMirror, type SystemCheck } from './system-mirror.js';
import { MIRROR_MODES, machineMemoryMiB, type MirrorMode } from './modes.js';

export { MIRROR_MODES, DEFAULT_MEMORY_MIB, machineMemoryMiB, type MirrorMode } from './modes.js';
export const DEFAULT_SPARE_MIB = 16;

export interface MonitorOptions {
  /**
   * Boot this machine (its host memory is reserved here), or continue the one saved in a
   * snapshot file (a path, or a file already read: restoring it again makes a fresh copy).
   */
  machine: { boot: Omit<BootConfig, 'spareMiB'> } | { restore: string | SnapshotFile; reuse?: Leftovers };
  /** Default `guest` at boot; a restored machine keeps its own (giving another is an error). */
  mirror?: MirrorMode;
  profile?: GuestProfile;
  /** Injections planned now (at boot, or added to a restored machine's plan). */
  faults?: InjectionSpec[];
  /** Default `monitor`; may differ from a restored machine's. */
  recovery?: RecoveryMode;
  /** Scrub every this many cycles (0: never); may differ from a restored machine's. */
  scrubEvery?: number;
  /** Host memory reserved for spare frames (MiB); a restored machine keeps its own. */
  spareMiB?: number;
  /** Count mirror pages at every address-space switch in any mode (always in guest and system mode). */
  countMirrorPages?: boolean;
  /** Run the CPU on its interpreter alone. */
  interpreter?: boolean;
  /** Compiled blocks as JavaScript functions only, not translated into WebAssembly (BlockCache.engine). */
  jsBlocks?: boolean;
  /**
   * System mode: hold faults aimed at kernel memory while a kernel store pair is open
   * (default true). Off only for the negative control that shows why the guard exists.
   */
  storePairGuard?: boolean;
}

/** What the monitor saw of memory errors (the `memoryErrors` object of --stats). */
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
  spareFramesLeft: number;
  log: string[];
}

interface Settings {
  mirror: MirrorMode;
  profile: GuestProfile;
  recovery: RecoveryMode;
  scrubEvery: number;
  spareMiB: number;
  countMirrorPages: boolean;
  storePairGuard: boolean;
}

/** How long systemCheck waits for the machine to go idle, in steps of SETTLE_STEP cycles. */
const SETTLE_CYCLES = 50_000_000;
const SETTLE_STEP = 10_000;
const CONFIG_PART = 'monitor';
const CONFIG_VERSION = 1;


export class Monitor {
  readonly spaces: AddressSpaces;
  readonly spare: SparePool;
  readonly hardware: HardwareMirror | null;
  readonly mirrorStatistics: MirrorStatistics | null;
  readonly recovery: Recovery;
  readonly scrubber: Scrubber;
  readonly injector: FaultInjector;
  /** System mode's platform part (docs/system-mode.md), or null in the other modes. */
  readonly system: SystemMirror | null;
  private systemChecked: SystemCheck | null = null;
  /** Every injection, recovery and scrubber finding, in order. */
  readonly log: string[] = [];
  /** The same as structured events (injections, activations and what followed), for views. */
  readonly events: MemoryEventLog;
  private readonly frames: FrameMapper;
  private readonly parts: SnapshotPart[];
  private removeObserver: (() => void) | null = null;

  /** `kernelPairs`: the system-mode kernel's store pairs (at boot; a restored machine has them in its snapshot). */
  constructor(readonly pc: PC, readonly settings: Readonly<Settings>, private readonly restoredFrom: SnapshotFile | null, kernelPairs: Array<[number, number]> = []) {
    const { profile, mirror } = settings;
    this.spaces = new AddressSpaces(pc.mem, pc.cpu, profile);
    this.system = mirror === 'system' ? new SystemMirror(pc, this.spaces, kernelPairs, profile.mirrorOffset, settings.storePairGuard) : null;
    if (this.system && !restoredFrom) this.system.start();
    this.spare = new SparePool(pc.mem, settings.spareMiB);
    this.hardware = mirror === 'hardware' ? new HardwareMirror(pc, this.spare.end) : null;
    if (this.hardware && !restoredFrom) this.hardware.start();
    this.mirrorStatistics = settings.countMirrorPages ? new MirrorStatistics(pc.mem, pc.cpu, profile.mirrorOffset) : null;
    this.recovery = new Recovery(pc, this.spare, this.hardware ?? this.system ?? this.twinsInPageTables(), this.log, settings.recovery === 'monitor');
    this.scrubber = new Scrubber(pc, this.spaces, profile.mirrorOffset, this.log);
    const system = this.system;
    this.injector = new FaultInjector(pc, new GuestFaultTargets(pc, this.spaces, profile.mirrorOffset, system ? () => system.landingHeld() : undefined), this.log);
    pc.addTimedPart(this.injector);
    this.events = new MemoryEventLog(pc, this.recovery, this.injector);
    this.frames = new FrameMapper(pc, this.spaces, this.spare, this.hardware, this.events, profile.mirrorOffset);
    const onSystemCall = (listener: (now: number) => void) => (vector: number) => {
      if (vector === profile.systemCallVector) listener(pc.now());
    };
    pc.cpu.softwareInterruptListeners.add(LISTENER_ORDER.softwareInterrupt.scrubber, 'scrubber', onSystemCall((now) => this.scrubber.systemCall(now)));
    pc.cpu.softwareInterruptListeners.add(LISTENER_ORDER.softwareInterrupt.faultLanding, 'fault landing', onSystemCall((now) => this.injector.systemCall(now)));
    const config: SnapshotPart = {
      name: CONFIG_PART, version: CONFIG_VERSION,
      save: () => ({
        mirror, profile: profile.name, spareMiB: settings.spareMiB, recovery: settings.recovery, scrubEvery: this.scrubber.every,
        countMirrorPages: settings.countMirrorPages, log: this.log,
      }),
      restore: (state) => { this.log.push(...(state.log as string[])); },
    };
    this.parts = [config, this.spaces, this.spare, this.recovery, this.scrubber, this.injector,
      ...(this.hardware ? [this.hardware] : []), ...(this.mirrorStatistics ? [this.mirrorStatistics] : []), ...(this.system ? [this.system] : [])];
  }

  /** The twin of a page is where the guest maps it (guest and off modes): found through its page tables. */
  private twinsInPageTables(): TwinSource {
    const { pc, spaces } = this;
    const profile = this.settings.profile;
    return {
      healthyTwin: (page) => {
        const twin = profile.findTwin(page, spaces);
        if (twin?.knownZero) return { hostFrame: null, description: twin.description };
        if (!twin || twin.frame === null) return null;
        return { hostFrame: pc.mem.p2m[twin.frame]!, description: twin.description };
      },
    };
  }

  /** Restores every part from the snapshot the machine came from (called once, by createMonitor). */
  restoreParts(file: SnapshotFile): void {
    for (const part of this.parts) file.restorePart(part);
    file.finish();
  }

  /** Observes the guest's system calls from outside (tests, tools): one observer at a time. */
  observeSystemCalls(listener: (monitor: Monitor) => void): void {
    this.removeObserver?.();
    this.removeObserver = this.pc.cpu.softwareInterruptListeners.add(LISTENER_ORDER.softwareInterrupt.observer, 'observer', (vector) => {
      if (vector === this.settings.profile.systemCallVector) listener(this);
    });
  }

  /** Adds injections to the fault plan (checked against this machine first). */
  inject(faults: InjectionSpec[]): void {
    for (const spec of faults) checkInjectionFitsMachine(spec, this.pc.mem.guestSize);
    this.injector.plan(faults);
  }

  /** The role of every host frame, and the live address spaces (a memory map). */
  frameMap(): FrameMap {
    return this.frames.map();
  }

  /** What the monitor knows about one host frame: role, owners, twin, history. */
  frameDetails(hostFrame: number): FrameDetails {
    return this.frames.details(hostFrame);
  }

  /** The debugger attached to this machine (gdb's stub): every session of it stands still when it holds the machine. */
  private debugging: SessionDebugger | null = null;

  /** Lets a debugger hold this machine's sessions between any two instructions (one debugger per machine). */
  attachDebugger(debug: SessionDebugger): void {
    this.debugging = debug;
  }

  /** The running address space's native and mirror pages, as the monitor sees them. */
  inspectRunningAddressSpace(compareBytes: boolean): AddressSpaceMirrors {
    return inspectMirrors(this.pc.mem, this.pc.cpu.cr3, compareBytes, this.settings.profile.mirrorOffset, this.settings.profile.knownZeroBit);
  }

  /** The whole machine and monitor as a snapshot file's bytes. */
  snapshot(consoleState: ConsoleState): Uint8Array {
    return this.capture(consoleState, 'the snapshot').encode();
  }

  /** The whole machine and monitor as a snapshot held in memory (`name` names it in messages), restored without a file's inflating. */
  capture(consoleState: ConsoleState, name: string): SnapshotFile {
    return SnapshotFile.capture(this.pc, this.parts, consoleState, name);
  }

  /**
   * A console session on this machine: the fault plan sees the console (match= triggers),
   * --snapshot-at saves the monitor too, and a restored machine's transcript carries over.
   */
  session(options: SessionOptions & { snapshotFile?: string }): Session {
    const { snapshotFile, ...rest } = options;
    const restored = this.restoredFrom?.console;
    return new Session(this.pc, {
      history: restored?.console, consumed: restored?.consumed, debugger: this.debugging ?? undefined,
      ...rest,
      onConsole: (transcript) => {
        this.injector.consoleText(transcript);
        rest.onConsole?.(transcript);
      },
      saveSnapshot: snapshotFile === undefined ? rest.saveSnapshot : (state) => writeSnapshotFile(snapshotFile, this.snapshot(state)),
    });
  }

  memoryErrors(): MemoryErrorStats {
    const { defects, mca } = this.pc;
    return {
      injected: this.injector.injected, activated: defects.consumed, recoveredByMonitor: this.recovery.recovered,
      machineChecks: mca.delivered, overwritten: defects.overwritten, noTarget: this.injector.noTarget,
      recoveryHostMs: this.recovery.hostMs, scrubs: this.scrubber.scrubs, scrubbedPages: this.scrubber.scrubbedPages,
      detectedUncorrectable: this.scrubber.detectedUncorrectable, spareFramesLeft: this.spare.left, log: this.log,
    };
  }

  /** Did anything happen to memory in this run (faults planned, or the scrubber on)? */
  get watchesMemory(): boolean {
    return this.injector.planned > 0 || this.settings.scrubEvery > 0;
  }

  /** The outcome class of a run (DESIGN "Faults"), from what the monitor observed and the guest reported. */
  outcome(result: SessionResult, matchesGolden?: boolean): Outcome {
    const e = this.memoryErrors(), guest = this.settings.profile.consoleReports(result.output);
    return classifyRun({
      end: result.outcome === 'timeout' || result.outcome === 'limit' ? 'timeout' : result.outcome === 'stopped' && result.stop?.kind !== 'debug-exit' && result.stop?.kind !== 'reset' ? 'machine-stopped' : 'completed',
      machineChecks: e.machineChecks, activated: e.activated, overwritten: e.overwritten, recoveredByMonitor: e.recoveredByMonitor,
      recoveredByGuest: guest.recoveredFromMirror, killedByGuest: guest.killed, detectedUncorrectable: e.detectedUncorrectable, matchesGolden,
    });
  }

  /** Everything `--stats` reports about a run (`matchesGolden`: its output against a fault-free run's, when known). */
  report(result: SessionResult, matchesGolden?: boolean): Record<string, unknown> {
    const pc = this.pc;
    const instructions = pc.cpu.instructionCount;
    const cycles = pc.now();
    return {
      outcome: result.outcome,
      stop: result.stop,
      instructions,
      virtualCycles: cycles,
      virtualSeconds: (cycles * CYCLE_NS) / 1e9,
      haltedCycles: pc.exits.haltedCycles,
      wallSeconds: Number(result.wallSeconds.toFixed(3)),
      mips: Number((instructions / Math.max(result.wallSeconds, 1e-9) / 1e6).toFixed(2)),
      cpu: { blocksCompiled: pc.cpu.blocks.stats.compiled, blocksFromDisk: pc.cpu.blocks.stats.fromDisk, blocksDropped: pc.cpu.blocks.stats.invalidated },
      exits: {
        ioRead: pc.exits.ioRead, ioWrite: pc.exits.ioWrite, mmioRead: pc.exits.mmioRead, mmioWrite: pc.exits.mmioWrite,
        interrupts: pc.exits.interrupts, halts: pc.exits.halts,
      },
      devices: {
        diskSectorsRead: pc.ide.sectorsRead, diskSectorsWritten: pc.ide.sectorsWritten, diskCommands: pc.ide.commands,
        consoleBytes: pc.uart.transmitted, pitInterrupts: pc.pit.irqs,
      },
      monitor: {
        mirror: this.settings.mirror, profile: this.settings.profile.name, recovery: this.settings.recovery,
        hardwareMirrorWrites: this.hardware?.writes ?? null,
        system: this.system ? { ...this.systemCheck(), platformWrites: this.system.platformWrites, heldInstructions: this.system.heldInstructions } : null,
      },
      mirroring: this.mirrorStatistics?.stats ?? null,
      memoryErrors: this.watchesMemory ? this.memoryErrors() : null,
      faultOutcome: this.watchesMemory ? this.outcome(result, matchesGolden) : null,
      matchesGolden: matchesGolden ?? null,
      // What the guest said about it on its console.
      guest: this.settings.profile.consoleReports(result.output),
    };
  }

  /** The lines `memvisor run` prints at the end. */
  summary(result: SessionResult, matchesGolden?: boolean): string[] {
    const lines: string[] = [];
    if (this.watchesMemory) {
      const e = this.memoryErrors();
      lines.push(`memory errors: ${e.injected} injected, ${e.activated} consumed, ` +
        `${e.recoveredByMonitor} recovered by the monitor, ${e.machineChecks} machine checks for the guest, ${e.overwritten} overwritten before use` +
        `${e.noTarget ? `, ${e.noTarget} found nothing to hit` : ''}` +
        `${e.scrubs ? `; scrubber: ${e.scrubs} passes, ${e.scrubbedPages} page pairs compared, ${e.detectedUncorrectable} detected-uncorrectable` : ''}`);
    }
    if (this.mirrorStatistics) lines.push(this.mirrorStatistics.summary());
    if (this.system) lines.push(describeSystemCheck(this.systemCheck(), this.system.platformWrites));
    if (this.watchesMemory) {
      const golden = matchesGolden === undefined ? '' : matchesGolden ? ' (output as the fault-free run)' : ' (output differs from the fault-free run)';
      lines.push(`outcome: ${this.outcome(result, matchesGolden)}${golden}`);
    }
    return lines;
  }

  /**
   * System mode's end-of-run comparison of every native frame with its twin, made once,
   * where no store pair is open: the machine runs on (at most SETTLE_CYCLES) until the
   * processor is idle, every process asleep in the kernel after a system call.
   */
  systemCheck(): SystemCheck {
    if (!this.system) throw new Error('internal error: systemCheck outside system mode');
    if (this.systemChecked) return this.systemChecked;
    const { pc } = this;
    let settled = false;
    for (let run = 0; run < SETTLE_CYCLES && !pc.stopReason; run += SETTLE_STEP) {
      if (pc.cpu.halted) { settled = true; break; }
      pc.run(SETTLE_STEP);
    }
    this.systemChecked = this.system.compare(settled || pc.cpu.halted);
    return this.systemChecked;
  }

  /** The mirror statistics (guest mode). */
  get mirroring(): MirrorStats | null {
    return this.mirrorStatistics?.stats ?? null;
  }
}

function checkMode(mirror: string): MirrorMode {
  if (!(MIRROR_MODES as readonly string[]).includes(mirror)) throw new MemvisorError(`--mirror ${mirror}: expected off, guest, system or hardware`);
  return mirror as MirrorMode;
}

/** Memory sizes system mode accepts: two halves of whole 4 MiB pages, each enough for MemV6, below its mirror map's limit. */
const SYSTEM_MEMORY_MIB = { step: 8, min: 32, max: 1984 };

/**
 * System mode boots a kernel translated for the mirror offset (its mirror map then lies at
 * KERNBASE + offset) with its store pairs; the memory must split into two usable halves.
 */
function systemKernelPairs(boot: Omit<BootConfig, 'spareMiB'>): Array<[number, number]> {
  const { step, min, max } = SYSTEM_MEMORY_MIB;
  if (boot.memoryMiB % step !== 0 || boot.memoryMiB < min || boot.memoryMiB > max) {
    throw new MemvisorError(`--mirror system: --mem ${boot.memoryMiB} cannot be split into two halves (a multiple of ${step} MiB from ${min} to ${max})`);
  }
  if (!boot.kernel) throw new MemvisorError('--mirror system needs a --kernel (a translated multiboot kernel)');
  const name = imageName(boot.kernel);
  const elf = parseElf(readKernel(boot.kernel), `--kernel ${name}`);
  const note = readTranslationNote(elf);
  if (!note) throw new MemvisorError(`--mirror system: --kernel ${name} is not translated (memvisor translate --scratch stack)`);
  if (note.offset !== MIRROR_OFFSET) throw new MemvisorError(`--mirror system: --kernel ${name} was translated for offset 0x${note.offset.toString(16)}, not 0x${MIRROR_OFFSET.toString(16)}`);
  const pairs = readStorePairs(elf);
  if (!pairs) throw new MemvisorError(`--mirror system: --kernel ${name} has no ${STORE_PAIRS_SECTION} section (translated by an older memvisor?)`);
  return pairs;
}

/** The one place a monitor is built: boots or restores the machine and attaches every part. */
export function createMonitor(options: MonitorOptions): Monitor {
  let pc: PC;
  let settings: Settings;
  let file: SnapshotFile | null = null;
  let kernelPairs: Array<[number, number]> = [];
  if ('boot' in options.machine) {
    settings = {
      mirror: checkMode(options.mirror ?? 'guest'),
      profile: options.profile ?? MEMV6,
      recovery: options.recovery ?? 'monitor',
      scrubEvery: options.scrubEvery ?? 0,
      spareMiB: options.spareMiB ?? DEFAULT_SPARE_MIB,
      countMirrorPages: options.mirror === undefined || options.mirror === 'guest' || options.mirror === 'system' || options.countMirrorPages === true,
      storePairGuard: options.storePairGuard ?? true,
    };
    const boot = options.machine.boot;
    const system = settings.mirror === 'system';
    if (system) kernelPairs = systemKernelPairs(boot);
    pc = bootMachine({ ...boot, mirrorReserve: system, spareMiB: reservedMiB(boot.memoryMiB, settings.spareMiB, settings.mirror === 'hardware') });
  } else {
    const restore = options.machine.restore;
    file = typeof restore === 'string' ? SnapshotFile.read(restore) : restore;
    const saved = file.partState(CONFIG_PART, CONFIG_VERSION) as DeviceState & {
      mirror: MirrorMode; profile: string; spareMiB: number; recovery: RecoveryMode; scrubEvery: number; countMirrorPages: boolean;
    };
    const profile = PROFILES.get(saved.profile);
    if (!profile) throw new MemvisorError(`--restore ${file.path}: the snapshot was taken with guest profile '${saved.profile}', which this memvisor does not know`);
    const differs = (what: string, given: unknown, kept: unknown) => {
      if (given !== undefined && given !== kept) throw new MemvisorError(`--restore ${file!.path}: the snapshot was taken with ${what} ${String(kept)}; it cannot continue with ${String(given)}`);
    };
    differs('--mirror', options.mirror, saved.mirror);
    differs('--spare', options.spareMiB, saved.spareMiB);
    differs('guest profile', options.profile?.name, saved.profile);
    settings = {
      mirror: checkMode(saved.mirror), profile, spareMiB: saved.spareMiB,
      recovery: options.recovery ?? saved.recovery,
      scrubEvery: options.scrubEvery ?? saved.scrubEvery,
      countMirrorPages: saved.countMirrorPages,
      storePairGuard: options.storePairGuard ?? true,
    };
    pc = file.restoreMachine(options.machine.reuse);
  }
  if (options.interpreter) pc.cpu.blocks.threshold = 0;
  if (options.jsBlocks) pc.cpu.blocks.engine = 'js';
  const monitor = new Monitor(pc, settings, file, kernelPairs);
  if (file) monitor.restoreParts(file);
  if (monitor.scrubber.every !== settings.scrubEvery) monitor.scrubber.setInterval(settings.scrubEvery);
  monitor.inject(options.faults ?? []);
  return monitor;
}
