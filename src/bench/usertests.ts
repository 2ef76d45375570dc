/**
 * `memvisor bench usertests`: what mirroring costs, per usertests sub-test. MemV6 runs
 * usertests untranslated with mirroring off (fs.img) and translated with guest
 * mirroring (fs-mirrored.img); each sub-test's cost is measured between its `NAME ok`
 * line and the previous one, in guest instructions (exact and deterministic: counted
 * when the UART sends the line) and in wall time. The same translated programs also run
 * on the translated kernel with system mirroring (every kernel store mirrored too), and
 * untranslated with the monitor copying every write (hardware). With `qemu`, the same two
 * disks are also timed on qemu-system-i386, a second, independent engine.
 *
 * Each of memvisor's modes runs in a process of its own (usertests-mode.ts), started for
 * its first run and kept for the later rounds: every mode's first run is a new process's,
 * starting from the blocks earlier processes left in the block cache on disk as `memvisor
 * run` does (src/block-cache.ts; none with `cold`, as on a new machine), and its later runs
 * reuse only the blocks its own runs compiled, as a campaign worker or the web page running
 * one mode does. (All four modes ran in the bench's
 * own process until 2026-12-06: the guest mode's "first" run came after the off run's
 * compiles, and every off run after the first followed a hardware run whose write listener
 * the optimised blocks had inlined, re-optimising some 220 of them.)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MemvisorError } from '../errors.js';
import { runQemuSystem, qemuSystemAvailable } from '../oracle/qemu.js';
import { createMonitor, machineMemoryMiB, type MirrorStats } from '../vmm/index.js';
import { median } from './mips.js';
import { hostDescription } from './host.js';

/** The published system (kMemvisor on xv6's usertests). */
export const PUBLISHED = { average: 43, maximum: 60 };
/** Our targets for guest instructions. */
export const TARGETS = { average: 20, maximum: 35 };
/** Our target for wall time: memvisor's whole run with mirroring off, as a fraction of qemu-system-i386's. */
export const WALL_TARGET = 0.3;

export interface LineEvent {
  text: string;
  /** Guest instructions executed when the line's newline was sent (memvisor only). */
  instructions: number;
  /** Wall milliseconds when the line arrived. */
  ms: number;
}

export interface Subtest {
  name: string;
  instructions: number;
  ms: number;
}

/**
 * Sub-test costs from the console lines of one usertests run: each `NAME ok` line
 * closes the sub-test that began at the previous one (the first at `usertests
 * starting`). Other lines (kernel messages about killed processes) are ignored.
 */
export function subtestsFromLines(lines: LineEvent[]): Subtest[] {
  const out: Subtest[] = [];
  let start: LineEvent | null = null;
  for (const line of lines) {
    const text = line.text.replace(/\r$/, '');
    if (text === 'usertests starting') {
      start = line;
      continue;
    }
    const m = /^([a-z0-9]+) ok$/.exec(text);
    if (!m || !start) continue;
    out.push({ name: m[1]!, instructions: line.instructions - start.instructions, ms: line.ms - start.ms });
    start = line;
  }
  return out;
}

/** Splits console text into lines stamped with the counters at their newline. */
export class LineRecorder {
  readonly lines: LineEvent[] = [];
  private current = '';
  /** `onLine` sees each line as it ends. */
  constructor(private readonly instructions: () => number, private readonly onLine?: (text: string) => void) {}
  byte(b: number): void {
    if (b === 0x0a) {
      this.lines.push({ text: this.current, instructions: this.instructions(), ms: performance.now() });
      this.onLine?.(this.current);
      this.current = '';
    } else {
      this.current += String.fromCharCode(b);
    }
  }
  text(chunk: string): void {
    for (let i = 0; i < chunk.length; i++) this.byte(chunk.charCodeAt(i));
  }
}

export interface OverheadRow {
  name: string;
  base: number;
  mirrored: number;
  /** (mirrored - base) / base, in percent. */
  percent: number;
}

export interface OverheadSummary {
  rows: OverheadRow[];
  average: number;
  maximum: number;
  maximumName: string;
}

/** Sub-tests shorter than this (wall ms) are left out of wall-time overheads: timer noise. */
export const MIN_WALL_MS = 20;

/**
 * Per sub-test overhead of `mirrored` over `base` for one measure; sub-tests in both runs
 * only, and only those whose base is at least `minimum`.
 */
export function overheads(base: Subtest[], mirrored: Subtest[], measure: 'instructions' | 'ms', minimum = 1): OverheadSummary {
  const byName = new Map(mirrored.map((s) => [s.name, s]));
  const rows: OverheadRow[] = [];
  for (const b of base) {
    const m = byName.get(b.name);
    if (!m || b[measure] < minimum) continue;
    rows.push({ name: b.name, base: b[measure], mirrored: m[measure], percent: ((m[measure] - b[measure]) / b[measure]) * 100 });
  }
  if (rows.length === 0) return { rows, average: 0, maximum: 0, maximumName: '' };
  const average = rows.reduce((sum, r) => sum + r.percent, 0) / rows.length;
  const top = rows.reduce((a, r) => (r.percent > a.percent ? r : a));
  return { rows, average, maximum: top.percent, maximumName: top.name };
}

type Mode = 'off' | 'guest' | 'system' | 'hardware';

export interface ModeRun {
  mode: Mode;
  disk: string;
  subtests: Subtest[];
  instructions: number;
  /** Cycles the CPU spent halted (skipped), of the whole run's virtual time. */
  haltedCycles: number;
  /** The whole run's wall time: the first run's (a new process's, with what the block cache on disk held: blocksFromDisk). */
  wallSeconds: number;
  /**
   * The median over every run (later runs in the same process reuse the blocks the first
   * compiled, as a long-lived process such as a campaign worker or the web page does).
   */
  medianWallSeconds?: number;
  /** Every run's wall time, in the order run (the first is wallSeconds). */
  runWallSeconds?: number[];
  /** Blocks the run compiled, and of those, blocks an earlier process wrote (read from the block cache on disk). */
  blocksCompiled: number;
  blocksFromDisk: number;
  /** The process the run was in (one per mode, for all its rounds). */
  pid: number;
  /** Every run's process, in the order run. */
  runPids?: number[];
  /** Mirror pages, counted in guest and system mode (as `memvisor run` counts them); null in off and hardware mode. */
  mirroring: MirrorStats | null;
}

export interface UsertestsBenchOptions {
  kernel: string;
  /** The translated kernel, for the system column (build/guest/kernel-system). */
  systemKernel: string;
  /** The kernel's command line, on both engines (e.g. MemV6's idle=spin). */
  cmdline?: string;
  plainDisk: string;
  mirroredDisk: string;
  /** The untranslated usertests program: translated here to say which rewriting classes it has. */
  usertestsProgram?: string;
  /** Only these sub-tests (default: all). */
  tests?: string[];
  runs: number;
  qemu: boolean;
  /** memvisor's processes start without the block cache on disk (MEMVISOR_BLOCK_CACHE=off): a new machine's cold start. */
  cold?: boolean;
  timeoutMs?: number;
  /** Called with the name of each sub-test as it finishes, for a progress bar. */
  progress?: (mode: string, name: string) => void;
  log?: (line: string) => void;
}

const DONE = /ALL TESTS PASSED|TESTS FAILED|FAILED|panic|no test named/;

function command(tests: string[] | undefined): string {
  return `usertests${tests?.length ? ` ${tests.join(' ')}` : ''}\n`;
}

function tail(text: string): string {
  return text.split('\n').slice(-15).join('\n');
}

const MEMORY_MIB = 128;

/** The engines' runs in one round, in the order run: memvisor's four modes, then QEMU's two disks. */
const MODES = ['off', 'guest', 'system', 'hardware'] as const;
const QEMU_DISKS = 2;

/** Sub-tests a bench of `runs` rounds of `tests` sub-tests reports to its progress callback. */
export function progressSteps(runs: number, tests: number, qemu: boolean): number {
  return runs * tests * (MODES.length + (qemu && qemuSystemAvailable() ? QEMU_DISKS : 0));
}

/** A line watcher that reports each sub-test's "name ok" to the progress callback, under `label`. */
function progressOf(label: string, progress: UsertestsBenchOptions['progress']): (text: string) => void {
  return (text) => {
    const m = /^([a-z0-9]+) ok\r?$/.exec(text);
    if (m) progress?.(label, m[1]!);
  };
}

/** What a mode's process needs to run usertests once (the serialisable part of the bench's options). */
export type ModeJob = Pick<UsertestsBenchOptions, 'kernel' | 'systemKernel' | 'cmdline' | 'tests' | 'timeoutMs'> & { mode: Mode; disk: string };

/** Runs usertests once in this process; `progress` hears of each sub-test as it finishes. */
export async function runOnMemvisor(job: ModeJob, progress?: UsertestsBenchOptions['progress']): Promise<ModeRun> {
  const { mode, disk, ...options } = job;
  // Each mode runs as `memvisor run --mirror <mode>` runs it: guest and system count mirror
  // pages at every CR3 load (about 131,000 in usertests), off and hardware do not. (Counting
  // in off mode too, as the bench did until 2026-12-05, made its first run 0.09 s slower.)
  const monitor = createMonitor({
    machine: { boot: { kernel: mode === 'system' ? options.systemKernel : options.kernel, cmdline: options.cmdline, hdb: disk, memoryMiB: machineMemoryMiB(mode, MEMORY_MIB), rtcStart: 0 } },
    mirror: mode, spareMiB: 0,
  });
  const pc = monitor.pc;
  const session = monitor.session({ send: [command(options.tests)], prompt: /\$ $/, until: DONE, timeoutMs: options.timeoutMs ?? 1_800_000 });
  const recorder = new LineRecorder(() => pc.cpu.instructionCount, progressOf(`--mirror ${mode}`, progress));
  const console = pc.onConsole;
  pc.onConsole = (b) => {
    console(b);
    recorder.byte(b);
  };
  const result = await session.run();
  for (const d of pc.ide.drives) d?.close();
  if (!/ALL TESTS PASSED/.test(result.output)) {
    throw new MemvisorError(`usertests did not pass on memvisor with ${disk} (${result.outcome}):\n${tail(result.output)}`);
  }
  return {
    mode, disk, subtests: subtestsFromLines(recorder.lines), instructions: pc.cpu.instructionCount,
    haltedCycles: pc.idleCycles, wallSeconds: result.wallSeconds, mirroring: monitor.mirroring, pid: process.pid,
    blocksCompiled: pc.cpu.blocks.stats.compiled, blocksFromDisk: pc.cpu.blocks.stats.fromDisk,
  };
}

/** What a mode's process sends back: a finished sub-test, the run, or why it failed. */
export type ModeMessage = { progress: string; name: string } | { run: ModeRun } | { error: string; user: boolean };

/** A process of its own for one mode's runs (see the file comment), started at its first. */
class ModeProcess {
  private readonly child: ChildProcess;
  private pending: { resolve: (run: ModeRun) => void; reject: (e: Error) => void } | null = null;
  private ended: string | null = null;

  constructor(private readonly mode: Mode, progress: UsertestsBenchOptions['progress'], cold: boolean) {
    // The bench's own V8 options (its helper threads and interrupt budget) go to the child too.
    this.child = fork(fileURLToPath(new URL('./usertests-mode.js', import.meta.url)), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: cold ? { ...process.env, MEMVISOR_BLOCK_CACHE: 'off' } : process.env,
    });
    this.child.on('message', (m: ModeMessage) => {
      if ('progress' in m) progress?.(m.progress, m.name);
      else if ('run' in m) this.settle((p) => p.resolve(m.run));
      else this.settle((p) => p.reject(m.user ? new MemvisorError(m.error) : new Error(m.error)));
    });
    // Ended from outside (killed, out of memory): one line, as for any run that fails.
    const gone = (why: string) => {
      this.ended = why;
      this.settle((p) => p.reject(this.endedError()));
    };
    this.child.on('error', (e) => gone(`could not run (${e.message})`));
    this.child.on('exit', (code, signal) => gone(signal ? `was ended by ${signal}` : `ended with exit code ${code}`));
  }

  private endedError(): MemvisorError {
    return new MemvisorError(`the process running usertests with --mirror ${this.mode} ${this.ended}`);
  }

  private settle(action: (p: NonNullable<ModeProcess['pending']>) => void): void {
    const p = this.pending;
    this.pending = null;
    if (p) action(p);
  }

  run(job: ModeJob): Promise<ModeRun> {
    if (this.ended !== null) return Promise.reject(this.endedError());
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.child.send(job);
    });
  }

  /**
   * Ends the process: between runs by closing its channel, so that it ends as a process
   * does (and leaves the blocks it wrote in the block cache on disk, src/block-cache.ts);
   * in the middle of a run (another mode failed) at once.
   */
  close(): void {
    if (this.ended !== null) return;
    if (this.pending !== null || !this.child.connected) this.child.kill();
    else this.child.disconnect();
  }
}

interface QemuRun {
  subtests: Subtest[];
  /** Wall time from starting QEMU to ALL TESTS PASSED. */
  seconds: number;
}

async function runOnQemu(disk: string, label: string, options: UsertestsBenchOptions): Promise<QemuRun> {
  const recorder = new LineRecorder(() => 0, progressOf(label, options.progress));
  const q = await runQemuSystem({
    kernel: options.kernel, cmdline: options.cmdline, hdb: disk, memMiB: 128, send: [command(options.tests)], prompt: /\$ /, until: DONE,
    timeoutMs: options.timeoutMs ?? 1_800_000, onOutput: (text) => recorder.text(text),
  });
  if (!/ALL TESTS PASSED/.test(q.output)) throw new MemvisorError(`usertests did not pass on qemu-system-i386 with ${disk}:\n${tail(q.output)}`);
  return { subtests: subtestsFromLines(recorder.lines), seconds: q.seconds };
}

/** Median wall time per sub-test over several runs (instructions are the same every run). */
function medianRuns(runs: Subtest[][]): Subtest[] {
  return runs[0]!.map((s, i) => {
    const times = runs.map((r) => r[i]?.ms ?? s.ms).sort((a, b) => a - b);
    return { ...s, ms: times[Math.floor(times.length / 2)]! };
  });
}

export interface UsertestsReport {
  /** The host the figures are of (processor, cores, system, Node: hostDescription). */
  machine: string;
  date: string;
  cmdline: string;
  off: ModeRun;
  guest: ModeRun;
  instructions: OverheadSummary;
  wall: OverheadSummary;
  qemu: {
    off: Subtest[]; guest: Subtest[]; wall: OverheadSummary; offSeconds: number; guestSeconds: number;
    /** Every run's wall time, in the order run: QEMU's run i follows memvisor's run i. */
    offRuns: number[]; guestRuns: number[];
  } | null;
  qemuMissing?: string;
  /** Untranslated, with the monitor duplicating every write (--mirror hardware). */
  hardware: ModeRun;
  hardwareWall: OverheadSummary;
  /** Translated programs on the translated kernel (--mirror system), against off. */
  system: ModeRun;
  systemInstructions: OverheadSummary;
  systemWall: OverheadSummary;
  /** Static count of memory writers by rewriting class in the translated usertests. */
  writerClasses: Record<string, number> | null;
  published: typeof PUBLISHED;
  targets: typeof TARGETS;
}

export async function benchUsertests(options: UsertestsBenchOptions): Promise<UsertestsReport> {
  const log = options.log ?? (() => {});
  const modeRuns: Record<Mode, ModeRun[]> = { off: [], guest: [], system: [], hardware: [] };
  const qemuMissing = options.qemu && !qemuSystemAvailable() ? 'qemu-system-i386 is not installed (apt-get install qemu-system-x86)' : undefined;
  const qemuRuns: Record<'off' | 'guest', QemuRun[]> | null = options.qemu && !qemuMissing ? { off: [], guest: [] } : null;
  // memvisor's runs and QEMU's alternate, round by round: on a shared machine whose speed
  // drifts over minutes, each ratio then compares runs of the same minutes.
  const processes = new Map<Mode, ModeProcess>();
  try {
    for (let run = 0; run < options.runs; run++) {
      for (const mode of MODES) {
        let child = processes.get(mode);
        if (!child) processes.set(mode, child = new ModeProcess(mode, options.progress, options.cold === true));
        const r = await child.run({
          mode, disk: mode === 'off' || mode === 'hardware' ? options.plainDisk : options.mirroredDisk,
          kernel: options.kernel, systemKernel: options.systemKernel, cmdline: options.cmdline, tests: options.tests, timeoutMs: options.timeoutMs,
        });
        modeRuns[mode].push(r);
        log(`memvisor --mirror ${mode} run ${run + 1}/${options.runs}: ${r.subtests.length} sub-tests, ${r.instructions} instructions, ${r.wallSeconds.toFixed(1)} s`);
      }
      if (qemuRuns) {
        qemuRuns.off.push(await runOnQemu(options.plainDisk, 'qemu-system-i386, untranslated', options));
        qemuRuns.guest.push(await runOnQemu(options.mirroredDisk, 'qemu-system-i386, translated', options));
        log(`qemu-system-i386 run ${run + 1}/${options.runs}: off ${qemuRuns.off[run]!.seconds.toFixed(1)} s, guest ${qemuRuns.guest[run]!.seconds.toFixed(1)} s`);
      }
    }
  } finally {
    for (const child of processes.values()) child.close();
  }
  const pick = (runs: ModeRun[]): ModeRun => ({
    ...runs[0]!, subtests: medianRuns(runs.map((r) => r.subtests)), medianWallSeconds: median(runs.map((r) => r.wallSeconds)),
    runWallSeconds: runs.map((r) => r.wallSeconds), runPids: runs.map((r) => r.pid),
  });
  const off = pick(modeRuns.off), guest = pick(modeRuns.guest), system = pick(modeRuns.system), hardware = pick(modeRuns.hardware);
  const report: UsertestsReport = {
    machine: hostDescription(),
    date: new Date().toISOString(),
    cmdline: options.cmdline ?? '',
    off, guest,
    instructions: overheads(off.subtests, guest.subtests, 'instructions'),
    wall: overheads(off.subtests, guest.subtests, 'ms', MIN_WALL_MS),
    qemu: null,
    hardware,
    hardwareWall: overheads(off.subtests, hardware.subtests, 'ms', MIN_WALL_MS),
    system,
    systemInstructions: overheads(off.subtests, system.subtests, 'instructions'),
    systemWall: overheads(off.subtests, system.subtests, 'ms', MIN_WALL_MS),
    writerClasses: null,
    published: PUBLISHED,
    targets: TARGETS,
  };
  if (options.usertestsProgram) {
    const path = options.usertestsProgram;
    // Loaded only now: the translator (iced-x86's WebAssembly) loaded before the runs made
    // the first run 0.1 s slower (2.62-2.66 s against 2.74-2.76 s, three pairs).
    const { translateElf } = await import('../sbt/index.js');
    report.writerClasses = translateElf(new Uint8Array(readFileSync(path)), { path }).report.writers;
  }
  if (qemuMissing) report.qemuMissing = qemuMissing;
  if (qemuRuns) {
    const qOff = medianRuns(qemuRuns.off.map((r) => r.subtests)), qGuest = medianRuns(qemuRuns.guest.map((r) => r.subtests));
    const offRuns = qemuRuns.off.map((r) => r.seconds), guestRuns = qemuRuns.guest.map((r) => r.seconds);
    report.qemu = {
      off: qOff, guest: qGuest, wall: overheads(qOff, qGuest, 'ms', MIN_WALL_MS),
      offSeconds: median(offRuns), guestSeconds: median(guestRuns), offRuns, guestRuns,
    };
  }
  return report;
}

const pct = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(1)}%`;

export function formatUsertestsReport(r: UsertestsReport): string {
  const q = r.qemu ? new Map(r.qemu.wall.rows.map((row) => [row.name, row])) : null;
  const lines = [
    `usertests, MemV6${r.cmdline ? ` (${r.cmdline})` : ''} untranslated (--mirror off) vs translated (--mirror guest); ${r.instructions.rows.length} sub-tests`,
    `${'sub-test'.padEnd(14)} ${'off instr'.padStart(12)} ${'guest instr'.padStart(12)} ${'overhead'.padStart(9)} ${'off ms'.padStart(8)} ${'guest ms'.padStart(8)}` +
      ` ${'system instr'.padStart(12)} ${'system'.padStart(9)} ${'system ms'.padStart(9)}${q ? `  ${'qemu overhead'.padStart(13)}` : ''}`,
  ];
  const systemRows = new Map(r.systemInstructions.rows.map((row) => [row.name, row]));
  for (const row of r.instructions.rows) {
    const offMs = r.off.subtests.find((t) => t.name === row.name)?.ms, guestMs = r.guest.subtests.find((t) => t.name === row.name)?.ms;
    const qRow = q?.get(row.name);
    const sRow = systemRows.get(row.name), systemMs = r.system.subtests.find((t) => t.name === row.name)?.ms;
    lines.push(`${row.name.padEnd(14)} ${String(row.base).padStart(12)} ${String(row.mirrored).padStart(12)} ${pct(row.percent).padStart(9)} ` +
      `${(offMs?.toFixed(0) ?? '-').padStart(8)} ${(guestMs?.toFixed(0) ?? '-').padStart(8)}` +
      ` ${String(sRow?.mirrored ?? '-').padStart(12)} ${(sRow ? pct(sRow.percent) : '-').padStart(9)} ${(systemMs?.toFixed(0) ?? '-').padStart(9)}` +
      `${q ? `  ${(qRow ? pct(qRow.percent) : '-').padStart(13)}` : ''}`);
  }
  const i = r.instructions;
  lines.push('');
  lines.push(`guest instructions: average overhead ${pct(i.average)}, maximum ${pct(i.maximum)} (${i.maximumName})`);
  lines.push(`  targets: average <= ${r.targets.average}%, maximum <= ${r.targets.maximum}%: ${i.average <= r.targets.average && i.maximum <= r.targets.maximum ? 'met' : 'NOT met'}` +
    `; published kMemvisor: ${r.published.average}% average, < ${r.published.maximum}% maximum`);
  const wallLine = (engine: string, w: OverheadSummary) => `${engine} wall time (the ${w.rows.length} sub-tests of ${MIN_WALL_MS} ms or more): ` +
    (w.rows.length ? `average ${pct(w.average)}, maximum ${pct(w.maximum)} (${w.maximumName})` : 'none');
  const s = r.systemInstructions;
  lines.push(`system mode (kernel translated too), guest instructions: average overhead ${pct(s.average)}, maximum ${pct(s.maximum)} (${s.maximumName}); ` +
    `whole run ${r.system.instructions} instructions in ${r.system.wallSeconds.toFixed(1)} s`);
  lines.push(wallLine('memvisor', r.wall));
  lines.push(wallLine('memvisor --mirror system', r.systemWall));
  if (r.qemu) lines.push(wallLine('qemu-system-i386', r.qemu.wall));
  else if (r.qemuMissing) lines.push(`qemu-system-i386: not run: ${r.qemuMissing}`);
  const halted = (m: ModeRun) => `${(m.haltedCycles / 1e8).toFixed(2)} s of virtual time halted`;
  const medianOf = (m: ModeRun) => m.medianWallSeconds ?? m.wallSeconds;
  const fromDisk = (m: ModeRun) => `${m.blocksFromDisk} of its ${m.blocksCompiled} blocks (off) from the block cache on disk`;
  lines.push(`whole run: off ${r.off.instructions} instructions (${halted(r.off)}) in ${r.off.wallSeconds.toFixed(1)} s, ` +
    `guest ${r.guest.instructions} (${halted(r.guest)}) in ${r.guest.wallSeconds.toFixed(1)} s (the first run, in a new process, ${fromDisk(r.off)}; ` +
    `median of the runs, which reuse its compiled blocks: ${medianOf(r.off).toFixed(1)} s, ${medianOf(r.guest).toFixed(1)} s)`);
  if (r.qemu) {
    const ratio = (ours: number, theirs: number) => `${(ours / theirs).toFixed(2)}x`;
    lines.push(`whole run on qemu-system-i386 (median): off ${r.qemu.offSeconds.toFixed(1)} s, guest ${r.qemu.guestSeconds.toFixed(1)} s; ` +
      `memvisor's wall time ${ratio(r.off.wallSeconds, r.qemu.offSeconds)} (off), ${ratio(r.guest.wallSeconds, r.qemu.guestSeconds)} (guest) of QEMU's ` +
      `in its first run, ${ratio(medianOf(r.off), r.qemu.offSeconds)} and ${ratio(medianOf(r.guest), r.qemu.guestSeconds)} in its median`);
    const met = (ours: number) => ours / r.qemu!.offSeconds <= WALL_TARGET ? 'met' : 'NOT met';
    lines.push(`  target: --mirror off in <= ${WALL_TARGET}x QEMU's wall time: ${met(r.off.wallSeconds)} in the first run ` +
      `(${r.off.blocksFromDisk ? `${r.off.blocksFromDisk} of its ${r.off.blocksCompiled} blocks from the disk cache; --cold for none` : 'no blocks from disk: a cold start'}), ` +
      `${met(medianOf(r.off))} in the median`);
    const byRound = (ours: number[] | undefined, theirs: number[]) => theirs.map((t, k) => ratio(ours?.[k] ?? NaN, t)).join(' ');
    lines.push(`round by round (each QEMU run right after memvisor's): off ${byRound(r.off.runWallSeconds, r.qemu.offRuns)}, ` +
      `guest ${byRound(r.guest.runWallSeconds, r.qemu.guestRuns)}`);
  }
  const m = r.guest.mirroring;
  if (m) {
    lines.push(`memory: guest mode peak ${m.peakMirroredPages} mirror pages beside ${m.peakUserPages} user pages in one process` +
      ` (${m.sharedFrames} sharing a frame)`);
  }
  lines.push(wallLine('--mirror hardware (memvisor)', r.hardwareWall) +
    `; guest instructions ${r.hardware.instructions} (the unmodified program: the monitor does the copying); memory: a mirror of all ${MEMORY_MIB} MiB`);
  if (!(i.average <= r.targets.average && i.maximum <= r.targets.maximum)) {
    const extra = [...i.rows].sort((a, b) => (b.mirrored - b.base) - (a.mirrored - a.base)).slice(0, 5);
    lines.push(`where the extra instructions go: ${extra.map((e) => `${e.name} +${e.mirrored - e.base}`).join(', ')}`);
    if (r.writerClasses) lines.push(`memory writers in usertests by rewriting class: ${Object.entries(r.writerClasses).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  return lines.join('\n');
}

/** The Vega-Lite chart: one bar per sub-test (overhead in guest instructions), rules at our and the published average. */
export function overheadChartSpec(r: UsertestsReport): Record<string, unknown> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Mirroring overhead per usertests sub-test (guest instructions), guest and system mode',
    width: Math.max(400, r.instructions.rows.length * 14),
    height: 260,
    layer: [
      {
        data: { values: [
          ...r.instructions.rows.map((row) => ({ subtest: row.name, mode: 'guest', overhead: Number(row.percent.toFixed(2)) })),
          ...(r.systemInstructions?.rows ?? []).map((row) => ({ subtest: row.name, mode: 'system', overhead: Number(row.percent.toFixed(2)) })),
        ] },
        mark: 'bar',
        encoding: {
          x: { field: 'subtest', type: 'nominal', sort: null, title: 'sub-test' },
          xOffset: { field: 'mode', type: 'nominal' },
          y: { field: 'overhead', type: 'quantitative', title: 'overhead (%)' },
          color: { field: 'mode', type: 'nominal', title: 'mirror mode' },
        },
      },
      {
        data: { values: [
          { label: `published average ${r.published.average}%`, value: r.published.average },
          { label: `our average ${r.instructions.average.toFixed(1)}%`, value: Number(r.instructions.average.toFixed(2)) },
        ] },
        mark: { type: 'rule', strokeDash: [4, 3] },
        encoding: {
          y: { field: 'value', type: 'quantitative' },
          color: { field: 'label', type: 'nominal', title: null },
        },
      },
    ],
  };
}

export { renderChart } from '../charts.js';
