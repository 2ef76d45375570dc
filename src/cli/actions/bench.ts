/** What `memvisor bench …` does (its options and help: ../commands/bench.ts). */
import { wholeNumber } from '../parse.js';
import { builtFile, webRoot } from '../../paths.js';
import { benchMips, formatMipsReport } from '../../bench/mips.js';
import { benchBoot, formatBootReport } from '../../bench/boot.js';
import { benchWeb, formatWebReport } from '../../bench/web.js';
import { MIRROR_MODES, type MirrorMode } from '../../vmm/index.js';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { MemvisorError } from '../../errors.js';
import { usertestsNames } from '../../bench/names.js';
import { benchUsertests, formatUsertestsReport, overheadChartSpec, progressSteps, renderChart, type UsertestsReport } from '../../bench/usertests.js';
import { hostDescription } from '../../bench/host.js';

/** Prints a report, after the line that says which machine its figures are of. */
const printReport = (text: string): void => void process.stdout.write(`host: ${hostDescription()}\n${text}\n`);

/** Writes a line of the log to stderr. */
const logLine = (line: string): void => void process.stderr.write(`${line}\n`);

/**
 * A progress bar over every sub-test of every run, with the log's lines printed above it (on a
 * terminal; plain log lines otherwise).
 */
async function runWithProgress<T>(steps: number, work: (progress: (engine: string, name: string) => void, log: (line: string) => void) => Promise<T>): Promise<T> {
  if (!process.stderr.isTTY) return work(() => {}, logLine);
  const bars = new cliProgress.MultiBar({ format: 'usertests {bar} {value}/{total} sub-tests | {engine} {name}', stream: process.stderr }, cliProgress.Presets.shades_classic);
  const bar = bars.create(steps, 0, { engine: '', name: '' });
  try {
    return await work((engine, name) => bar.increment({ engine, name }), (line) => bars.log(`${line}\n`));
  } finally {
    bars.update();  // the lines logged since the last redraw (stop alone drops them)
    bars.stop();
  }
}

/** results.json and overhead.svg, each written whole (temporary file, then rename). */
async function writeResults(dir: string, report: UsertestsReport): Promise<string[]> {
  const svg = await renderChart(overheadChartSpec(report));
  try {
    mkdirSync(dir, { recursive: true });
    const out: string[] = [];
    for (const [name, text] of [['results.json', `${JSON.stringify(report, null, 2)}\n`], ['overhead.svg', svg]] as const) {
      const path = join(dir, name);
      writeFileSync(`${path}.partial`, text);
      renameSync(`${path}.partial`, path);
      out.push(path);
    }
    return out;
  } catch (e) {
    throw new MemvisorError(`--out ${dir}: cannot write the results (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

export async function all(options: { out: string }): Promise<void> {
  logLine('== bench mips');
  const mips = benchMips({ program: builtFile('bench/mips'), rounds: 40, runs: 3, log: logLine });
  const mipsText = formatMipsReport(mips, 40);
  logLine('== bench boot');
  const boot = formatBootReport(await benchBoot({ kernel: builtFile('kernel'), hdb: builtFile('fs.img'), runs: 3, log: logLine }));
  logLine('== bench usertests');
  const known = usertestsNames();
  const usertests = await runWithProgress(progressSteps(1, known.length, true), (progress, log) => benchUsertests({
    kernel: builtFile('kernel'), systemKernel: builtFile('kernel-system'), plainDisk: builtFile('fs.img'), mirroredDisk: builtFile('fs-mirrored.img'),
    usertestsProgram: builtFile('user/usertests'), runs: 1, qemu: true, progress, log,
  }));
  const files = await writeResults(options.out, usertests);
  printReport(`${mipsText}\n\n${boot}\n\n${formatUsertestsReport(usertests)}\nwrote ${files.join(', ')}`);
}

export function mips(options: { rounds: string; runs: string; program?: string }): void {
  const rounds = wholeNumber('--rounds', options.rounds, 1, 100000);
  const runs = wholeNumber('--runs', options.runs, 1, 100);
  const report = benchMips({
    program: options.program ?? builtFile('bench/mips'), rounds, runs,
    log: logLine,
  });
  printReport(formatMipsReport(report, rounds));
}

export async function boot(options: { runs: string; kernel?: string; hdb?: string; cmdline?: string }): Promise<void> {
  const runs = wholeNumber('--runs', options.runs, 1, 100);
  const report = await benchBoot({
    kernel: options.kernel ?? builtFile('kernel'), hdb: options.hdb ?? builtFile('fs.img'), cmdline: options.cmdline, runs,
    log: logLine,
  });
  printReport(formatBootReport(report));
}

// The translator's benchmarks are loaded when they run: iced-x86 (WebAssembly) loaded in a
// process slows the machine the other benchmarks measure.
export async function sbt(): Promise<void> {
  const { benchSbt, formatSbtReport } = await import('../../bench/sbt.js');
  const report = benchSbt(builtFile('user'), builtFile('corpus'), logLine);
  printReport(formatSbtReport(report));
}

export async function apps(options: { runs: string; busybox?: string; translated: boolean }): Promise<void> {
  const { benchApps, formatAppsReport } = await import('../../bench/apps.js');
  const runs = wholeNumber('--runs', options.runs, 1, 20);
  const results = benchApps({ busybox: options.busybox, runs, translated: options.translated, log: logLine });
  printReport(formatAppsReport(results));
}

export async function usertests(options: { runs: string; qemu?: boolean; out: string; tests?: string; json?: boolean; cmdline?: string; cold?: boolean }): Promise<void> {
  const runs = wholeNumber('--runs', options.runs, 1, 20);
  const known = usertestsNames();
  const tests = options.tests?.split(',').map((t) => t.trim()).filter(Boolean);
  for (const t of tests ?? []) if (!known.includes(t)) throw new MemvisorError(`--tests: no usertests sub-test named "${t}"`);
  const report = await runWithProgress(progressSteps(runs, (tests ?? known).length, options.qemu === true), (progress, log) => benchUsertests({
    kernel: builtFile('kernel'), systemKernel: builtFile('kernel-system'), cmdline: options.cmdline, plainDisk: builtFile('fs.img'), mirroredDisk: builtFile('fs-mirrored.img'),
    usertestsProgram: builtFile('user/usertests'), tests, runs, qemu: options.qemu === true, cold: options.cold === true, progress, log,
  }));
  const files = await writeResults(options.out, report);
  if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else printReport(`${formatUsertestsReport(report)}\nwrote ${files.join(', ')}`);
}

export async function web(options: { mirror: string; command: string; runs: string; chromium: string; url?: string }): Promise<void> {
  const runs = wholeNumber('--runs', options.runs, 1, 20);
  if (!(MIRROR_MODES as readonly string[]).includes(options.mirror)) throw new MemvisorError(`--mirror ${options.mirror}: expected one of ${MIRROR_MODES.join(', ')}`);
  if (!/^usertests(\s|$)/.test(options.command)) throw new MemvisorError(`--command ${options.command}: expected a usertests command line (the run ends when it prints ALL TESTS PASSED)`);
  if (options.url !== undefined && !/^https?:\/\/\S+\/$/.test(options.url)) throw new MemvisorError(`--url ${options.url}: expected the page's address, http://host:port/ (ending in /)`);
  const report = await benchWeb({
    mode: options.mirror as MirrorMode, command: options.command, runs, chromium: options.chromium, url: options.url, webRoot,
    log: logLine,
  });
  printReport(formatWebReport(report));
}
