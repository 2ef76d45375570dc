/**
 * One experiment of a campaign, in this thread: the fault-free golden run of a mode, and
 * run `index` (its fault, its outcome class). Runs fork from a snapshot taken at the shell
 * prompt (restoring it makes a fresh copy of the machine), or boot; both give the same
 * run, instruction for instruction, so a record's `memvisor run` command (which boots)
 * replays it exactly.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MemvisorError } from '../errors.js';
import { INPUT, readInputText } from '../input-file.js';
import { parseInjectionSpec, type Outcome } from '../faults/index.js';
import { REPRODUCIBLE_EPOCH } from '../virtual-time.js';
import { consoleRegExp, type SessionResult } from '../machine/session.js';
import { SnapshotFile } from '../machine/snapshot.js';
import type { Leftovers } from '../machine/pc.js';
import { fileTreeDigest } from '../fs/index.js';
import { builtFile } from '../paths.js';
import { createMonitor, machineMemoryMiB, MEMV6, MEMV6_IMAGES, type GuestProfile, type Monitor, type MirrorMode, type MonitorOptions } from '../vmm/index.js';
import { armOf, runFault, runSeed, type CampaignPlan } from './plan.js';

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/** What the fault-free run of one mode printed and left on disk. */
export interface GoldenRun {
  campaign: string;
  mode: MirrorMode;
  /** The console after the first shell prompt, and up to it (the system starting). */
  output: string;
  startup: string;
  /** The files on the disk at the end (src/fs/tree.ts: paths, types, sizes and contents). */
  files: string;
  /** Where the snapshot was taken (the first prompt), and where the workload ended (virtual cycles). */
  snapshotCycles: number;
  endCycles: number;
  instructions: number;
  /** The guest that ran (runs on other machines must use the same build). */
  kernelSha256: string;
  imageSha256: string;
}

export type RunStatus = 'ok' | 'host-error' | 'host-timeout';

/** One line of a campaign's results (JSON Lines). */
export interface RunRecord {
  campaign: string;
  index: number;
  arm: number;
  mode: MirrorMode;
  fault: string;
  seed: number;
  status: RunStatus;
  /** The outcome class (null when the host failed to run it: see status and error). */
  outcome: Outcome | null;
  end: 'completed' | 'timeout' | 'machine-stopped' | null;
  injected: number;
  activated: number;
  overwritten: number;
  recoveredByMonitor: number;
  machineChecks: number;
  recoveredByGuest: number;
  killedByGuest: number;
  detectedUncorrectable: number;
  matchesGolden: boolean | null;
  instructions: number;
  virtualCycles: number;
  wallMs: number;
  /** Replays this run alone. */
  command: string;
  /** What differs from the fault-free run, when something does. */
  difference?: string;
  error?: string;
}

export function kernelPath(mode: MirrorMode): string {
  return builtFile(MEMV6_IMAGES.kernel(mode));
}

export function diskFor(mode: MirrorMode): string {
  return builtFile(MEMV6_IMAGES.disk(mode));
}

/** The console after the first match of the prompt: comparable between a booted run and one restored at the prompt. */
export function afterFirstPrompt(transcript: string, prompt: RegExp): string {
  const m = prompt.exec(transcript);
  return m ? transcript.slice(m.index + m[0].length) : transcript;
}

/**
 * Does a run's output agree with the golden run's? Kernel diagnostics are left out. When
 * the run was stopped or a process was killed (the error was detected), its output may be
 * shorter: it must print no line the golden run never printed. Otherwise the output and
 * the disk must be the golden run's exactly. Returns null when they agree, else what differs.
 */
export function differenceFromGolden(golden: Pick<GoldenRun, 'output' | 'startup' | 'files'>, output: string, disk: Uint8Array | null,
  detected: boolean, prompt: RegExp, profile: GuestProfile = MEMV6): string | null {
  const lines = (text: string) => text.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => !profile.diagnosticLine.test(l));
  const expected = lines(golden.output), seen = lines(output);
  if (detected) {
    // A killed shell is started again: the lines the system prints when it starts are its
    // own, and its new prompt may land in the middle of another process's line.
    const anyPrompt = new RegExp(prompt.source, `${prompt.flags.replace('g', '')}g`);
    const unprompted = (list: string[]) => list.map((l) => l.replace(anyPrompt, '')).filter((l) => l !== '');
    const known = new Set(unprompted([...expected, ...lines(golden.startup)]));
    const wanted = unprompted(expected);
    const wrong = unprompted(seen).find((line) => !known.has(line) && !wanted.some((e) => e.startsWith(line)));
    return wrong === undefined ? null : `printed a line the fault-free run never printed: ${JSON.stringify(wrong)}`;
  }
  const at = seen.findIndex((line, i) => line !== expected[i]);
  if (at >= 0 || seen.length !== expected.length) {
    const n = at >= 0 ? at : Math.min(seen.length, expected.length);
    return `output line ${n + 1}: ${JSON.stringify(seen[n] ?? '(none)')} where the fault-free run printed ${JSON.stringify(expected[n] ?? '(none)')}`;
  }
  if (disk === null) return 'no disk to compare';
  const files = fileTreeDigest(disk);
  if (files !== golden.files) return `the files on the disk differ from the fault-free run's${files.startsWith('unreadable') ? ` (${files})` : ''}`;
  return null;
}

/** Reads a golden file written by a campaign (for `run --golden`). */
export function readGolden(path: string): GoldenRun {
  const text = readInputText(path, INPUT.goldenRun, `--golden ${path}`);
  try {
    const g = JSON.parse(text) as GoldenRun;
    if (typeof g !== 'object' || g === null || typeof g.output !== 'string' || typeof g.startup !== 'string' || typeof g.files !== 'string') throw new Error('shape');
    return g;
  } catch {
    throw new MemvisorError(`--golden ${path}: not a campaign golden-run file`);
  }
}

/** The workload's runs in one thread: snapshots at the prompt are taken once per mode and forked for every run. */
export class ExperimentRunner {
  private snapshots = new Map<MirrorMode, { file: SnapshotFile; cycles: number }>();
  /**
   * What the last machine that finished left (its host memory and TLB arrays), for the
   * next restore to take over: filling a new 128 MiB for every run cost about 0.1 s, new
   * TLB arrays about 12 ms. Put here only after its machine is done, taken away when handed out.
   */
  private leftovers: Leftovers | undefined;

  constructor(private readonly plan: CampaignPlan) {}

  private boot(mode: MirrorMode) {
    const w = this.plan.workload;
    return { kernel: kernelPath(mode), hdb: diskFor(mode), memoryMiB: machineMemoryMiB(mode, w.memoryMiB), rtcStart: REPRODUCIBLE_EPOCH, cmdline: w.cmdline };
  }

  private get prompt(): RegExp {
    return consoleRegExp(this.plan.workload.prompt);
  }

  /** The machine of `mode` at its first shell prompt, saved in memory, and the virtual time there. */
  private async snapshot(mode: MirrorMode): Promise<{ file: SnapshotFile; cycles: number }> {
    const known = this.snapshots.get(mode);
    if (known) return known;
    const monitor = createMonitor({ machine: { boot: this.boot(mode) }, mirror: mode });
    let file: SnapshotFile | null = null;
    const session = monitor.session({ until: this.prompt, snapshotAt: this.prompt, saveSnapshot: (state) => { file = monitor.capture(state, `the ${mode} snapshot`); }, maxCycles: 2_000_000_000 });
    const result = await session.run();
    if (result.outcome !== 'matched' || !file) throw new MemvisorError(`campaign: MemV6 (${mode}) did not reach its shell prompt (${result.outcome})`);
    const taken = { file: file as SnapshotFile, cycles: monitor.pc.now() };
    this.snapshots.set(mode, taken);
    return taken;
  }

  /** Takes the snapshots of `modes` now (a thread with nothing to do yet gets ready for its runs). */
  async prepare(modes: MirrorMode[]): Promise<void> {
    if (this.plan.fork === 'snapshot') for (const mode of modes) await this.snapshot(mode);
  }

  private async monitor(mode: MirrorMode, extra: Omit<MonitorOptions, 'machine' | 'mirror'>): Promise<Monitor> {
    if (this.plan.fork === 'boot') return createMonitor({ machine: { boot: this.boot(mode) }, mirror: mode, ...extra });
    const { file } = await this.snapshot(mode);
    const reuse = this.leftovers;
    this.leftovers = undefined;
    return createMonitor({ machine: { restore: file, reuse }, ...extra });
  }

  /** A run's machine is done: its memory may serve the next restore. */
  private finished(monitor: Monitor): void {
    for (const d of monitor.pc.ide.drives) d?.close();
    this.leftovers = monitor.pc.leftovers();
  }

  /** Runs the workload on `monitor` until it is done, virtual time reaches `limitCycle`, or wall time `timeoutMs` has passed. */
  private async workload(monitor: Monitor, limitCycle: number, timeoutMs?: number): Promise<{ result: SessionResult; transcript: string }> {
    const w = this.plan.workload;
    const session = monitor.session({ send: w.send, prompt: this.prompt, until: consoleRegExp(w.until), maxCycles: limitCycle - monitor.pc.now(), timeoutMs });
    const result = await session.run();
    return { result, transcript: session.transcript };
  }

  /** The fault-free run of `mode`. */
  async golden(mode: MirrorMode): Promise<GoldenRun> {
    const snapshotCycles = (await this.snapshot(mode)).cycles;
    const monitor = await this.monitor(mode, {});
    const { result, transcript } = await this.workload(monitor, 40_000_000_000);
    if (result.outcome !== 'matched') throw new MemvisorError(`campaign: the fault-free ${mode} run did not finish (${result.outcome}):\n${result.output.slice(-800)}`);
    const run: GoldenRun = {
      campaign: this.plan.id, mode, output: afterFirstPrompt(transcript, this.prompt),
      startup: transcript.slice(0, transcript.length - afterFirstPrompt(transcript, this.prompt).length), files: fileTreeDigest(monitor.pc.ide.drives[1]!.data),
      snapshotCycles, endCycles: monitor.pc.now(), instructions: monitor.pc.cpu.instructionCount,
      kernelSha256: sha256(readFileSync(kernelPath(mode))), imageSha256: sha256(readFileSync(diskFor(mode))),
    };
    this.finished(monitor);
    return run;
  }

  /** Run `index` of the campaign. */
  async run(index: number, golden: GoldenRun, goldenPath: string): Promise<RunRecord> {
    const started = performance.now();
    const { arm, armIndex } = armOf(this.plan, index);
    const fault = runFault(this.plan, index, faultWindow(this.plan, golden));
    const limitCycle = hangCycle(this.plan, golden);
    const monitor = await this.monitor(arm.mode, { faults: [parseInjectionSpec(fault)], recovery: arm.recovery, scrubEvery: arm.scrubEvery });
    // The wall-clock limit counts from the start of the run, restoring the snapshot included.
    const { result, transcript } = await this.workload(monitor, limitCycle, Math.max(0, this.plan.wallLimitSeconds * 1000 - (performance.now() - started)));
    if (result.outcome === 'timeout') {
      const record: RunRecord = {
        ...hostFailure(this.plan, index, golden, goldenPath, 'host-timeout',
          `stopped at the wall-clock limit (${this.plan.wallLimitSeconds} s) at virtual cycle ${monitor.pc.now()}`, Math.round(performance.now() - started)),
        instructions: monitor.pc.cpu.instructionCount, virtualCycles: monitor.pc.now(),
      };
      this.finished(monitor);
      return record;
    }
    const errors = monitor.memoryErrors();
    const profile = monitor.settings.profile;
    const guest = profile.consoleReports(result.output);
    const end = endOf(result);
    const difference = differenceFromGolden(golden, afterFirstPrompt(transcript, this.prompt), monitor.pc.ide.drives[1]!.data,
      end !== 'completed' || guest.killed > 0, this.prompt, profile);
    const same = difference === null;
    const record: RunRecord = {
      campaign: this.plan.id, index, arm: armIndex, mode: arm.mode, fault, seed: runSeed(this.plan, index), status: 'ok',
      outcome: monitor.outcome(result, same), end,
      injected: errors.injected, activated: errors.activated, overwritten: errors.overwritten, recoveredByMonitor: errors.recoveredByMonitor,
      machineChecks: errors.machineChecks, recoveredByGuest: guest.recoveredFromMirror, killedByGuest: guest.killed,
      detectedUncorrectable: errors.detectedUncorrectable, matchesGolden: same,
      instructions: monitor.pc.cpu.instructionCount, virtualCycles: monitor.pc.now(), wallMs: Math.round(performance.now() - started),
      command: replayCommand(this.plan, index, fault, limitCycle, goldenPath),
      ...(difference === null ? {} : { difference }),
    };
    this.finished(monitor);
    return record;
  }
}

/** The record of a run the host could not finish: it threw, or it reached the wall-clock limit. */
export function hostFailure(plan: CampaignPlan, index: number, golden: GoldenRun, goldenPath: string, status: 'host-error' | 'host-timeout', error: string, wallMs: number): RunRecord {
  const { arm, armIndex } = armOf(plan, index);
  const fault = runFault(plan, index, faultWindow(plan, golden));
  return {
    campaign: plan.id, index, arm: armIndex, mode: arm.mode, fault, seed: runSeed(plan, index), status, outcome: null, end: null,
    injected: 0, activated: 0, overwritten: 0, recoveredByMonitor: 0, machineChecks: 0, recoveredByGuest: 0, killedByGuest: 0,
    detectedUncorrectable: 0, matchesGolden: null, instructions: 0, virtualCycles: 0, wallMs, error,
    command: replayCommand(plan, index, fault, hangCycle(plan, golden), goldenPath),
  };
}

/** The absolute window (virtual cycles) in which the campaign's faults strike. */
export function faultWindow(plan: CampaignPlan, golden: GoldenRun): [number, number] {
  return plan.window === 'workload' ? [golden.snapshotCycles, golden.endCycles] : plan.window;
}

/** The virtual cycle at which a run that has not finished is a hang. */
export function hangCycle(plan: CampaignPlan, golden: GoldenRun): number {
  return golden.snapshotCycles + Math.ceil((golden.endCycles - golden.snapshotCycles) * plan.hangFactor);
}

/** How a run ended, as the outcome classes see it. */
export function endOf(result: SessionResult): 'completed' | 'timeout' | 'machine-stopped' {
  if (result.outcome === 'matched') return 'completed';
  if (result.outcome === 'limit' || result.outcome === 'timeout') return 'timeout';
  return 'machine-stopped';
}

const quote = (text: string) => (/^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`);
/** Typed bytes as --send wants them: a newline is written \n, other control bytes and bytes from 0x80 as \xHH. */
const escapeSend = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')
  .replace(/[\x00-\x1f\x7f-\xff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** The `memvisor run` command line that replays run `index` alone (it boots; the run is the same). */
export function replayCommand(plan: CampaignPlan, index: number, fault: string, limitCycle: number, goldenPath: string): string {
  const { arm } = armOf(plan, index);
  const w = plan.workload;
  const args = ['npx', 'memvisor', 'run', '--mirror', arm.mode, '--mem', String(machineMemoryMiB(arm.mode, w.memoryMiB)), '--seed', '0'];
  if (w.cmdline) args.push('--cmdline', w.cmdline);
  if (arm.recovery !== 'monitor') args.push('--recovery', arm.recovery);
  if (arm.scrubEvery) args.push('--scrub-every', String(arm.scrubEvery));
  args.push('--inject', fault);
  for (const text of w.send) args.push('--send', escapeSend(text));
  args.push('--prompt', w.prompt, '--until', w.until, '--max-cycles', String(limitCycle), '--golden', goldenPath);
  return args.map(quote).join(' ');
}
