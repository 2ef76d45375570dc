/** What `memvisor campaign …` does (its options and help: ../commands/campaign.ts). */
import { existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import cliProgress from 'cli-progress';
import { MemvisorError } from '../../errors.js';
import { DEFAULT_WORKLOAD, makePlan, parseShard, readPlan, runCount, type Arm } from '../../campaign/plan.js';
import { loadResults, formatReport, makeReport, renderReport } from '../../campaign/report.js';
import { runCampaign, writeAtomically } from '../../campaign/runner.js';
import { MIRROR_MODES, type MirrorMode } from '../../vmm/modes.js';
import type { RecoveryMode } from '../../vmm/index.js';
import { regularExpression, unescapeText, wholeNumber } from '../parse.js';

interface PlanOptions {
  output: string; mode: string; fault?: string[]; runs: string; seed: string; window: string; recovery: string;
  scrubEvery: string; send?: string[]; until?: string; name?: string; cmdline?: string; mem: string; fork: string;
  hangFactor: string; wallLimit: string;
}

function planFromOptions(o: PlanOptions) {
  const modes = o.mode.split(',').map((m) => m.trim());
  for (const m of modes) if (!(MIRROR_MODES as readonly string[]).includes(m)) throw new MemvisorError(`--mode ${m}: expected ${MIRROR_MODES.join(', ')} (comma-separated)`);
  if (o.recovery !== 'monitor' && o.recovery !== 'guest') throw new MemvisorError(`--recovery ${o.recovery}: expected monitor or guest`);
  if (o.fork !== 'snapshot' && o.fork !== 'boot') throw new MemvisorError(`--fork ${o.fork}: expected snapshot or boot`);
  const scrubEvery = wholeNumber('--scrub-every', o.scrubEvery, 0, Number.MAX_SAFE_INTEGER);
  const faults = o.fault ?? ['poison:target=user-native'];
  const arms: Arm[] = modes.flatMap((mode) => faults.map((fault) => ({ mode: mode as MirrorMode, fault, recovery: o.recovery as RecoveryMode, scrubEvery })));
  let window: 'workload' | [number, number] = 'workload';
  if (o.window !== 'workload') {
    const m = /^(\d+)-(\d+)$/.exec(o.window);
    if (!m) throw new MemvisorError(`--window ${o.window}: expected "workload" or FROM-TO in virtual cycles`);
    window = [Number(m[1]), Number(m[2])];
  }
  if (o.until !== undefined) regularExpression('--until', o.until);
  const custom = o.send !== undefined;
  if (custom && o.until === undefined) throw new MemvisorError('--send needs --until (what the console shows when the workload is done)');
  return makePlan({
    workload: {
      name: o.name ?? (custom ? 'custom' : DEFAULT_WORKLOAD.name),
      send: custom ? o.send!.map(unescapeText) : DEFAULT_WORKLOAD.send,
      until: o.until ?? DEFAULT_WORKLOAD.until,
      prompt: DEFAULT_WORKLOAD.prompt,
      cmdline: o.cmdline,
      memoryMiB: wholeNumber('--mem', o.mem, 16, 1024),
    },
    arms, window,
    runsPerArm: wholeNumber('--runs', o.runs, 1, 1_000_000),
    seed: wholeNumber('--seed', o.seed, 0, 0xffffffff),
    fork: o.fork,
    hangFactor: Number(o.hangFactor),
    wallLimitSeconds: wholeNumber('--wall-limit', o.wallLimit, 1, 86400),
  });
}

/** A progress bar on a terminal; a line every 5 % otherwise. */
function progressReporter(total: number): { update(done: number, counts: Record<string, number>): void; stop(): void } {
  const summary = (counts: Record<string, number>) => Object.entries(counts).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar({ format: 'runs [{bar}] {value}/{total} | eta {eta_formatted} | {outcomes}', stream: process.stderr, hideCursor: true, etaBuffer: 50 }, cliProgress.Presets.shades_classic);
    bar.start(total, 0, { outcomes: '' });
    return { update: (done, counts) => bar.update(done, { outcomes: summary(counts) }), stop: () => bar.stop() };
  }
  let next = 0;
  const started = performance.now();
  return {
    update: (done, counts) => {
      if (done < next && done < total) return;
      next = done + Math.max(1, Math.floor(total / 20));
      const elapsed = (performance.now() - started) / 1000;
      const eta = done ? (elapsed / done) * (total - done) : 0;
      process.stderr.write(`runs ${done}/${total}, ${elapsed.toFixed(0)} s, about ${eta.toFixed(0)} s left: ${summary(counts)}\n`);
    },
    stop: () => {},
  };
}

export function plan(options: PlanOptions): void {
  const plan = planFromOptions(options);
  if (!existsSync(dirname(options.output) || '.')) throw new MemvisorError(`-o ${options.output}: the directory does not exist`);
  writeAtomically(options.output, `${JSON.stringify(plan, null, 2)}\n`);
  process.stdout.write(`campaign ${plan.id}: ${plan.arms.length} arm(s) × ${plan.runsPerArm} runs = ${runCount(plan)} runs; wrote ${options.output}\n`);
}

export async function run(file: string, options: { out?: string; shard: string; threads?: string }): Promise<void> {
  const plan = readPlan(file);
  const shard = parseShard(options.shard);
  const threads = options.threads === undefined ? undefined : wholeNumber('--threads', options.threads, 1, 256);
  const outDir = options.out ?? join(dirname(file), `${basename(file).replace(/\.json$/, '')}-results`);
  const total = Math.ceil((runCount(plan) - shard.index) / shard.count);
  let bar: ReturnType<typeof progressReporter> | null = null;
  const summary = await runCampaign({
    plan, outDir, shard, threads,
    log: (line) => process.stderr.write(`${line}\n`),
    progress: (done, pending, counts) => {
      bar ??= progressReporter(pending);
      bar.update(done, counts);
    },
  });
  (bar as ReturnType<typeof progressReporter> | null)?.stop();
  process.stdout.write(`shard ${shard.index}/${shard.count}: ${summary.ran} runs done now, ${summary.alreadyDone} before, of ${total}` +
    `${summary.ran ? ` in ${summary.wallSeconds.toFixed(1)} s` : ''}; results in ${summary.file}\n`);
}

export function merge(dirs: string[], options: { output: string }): void {
  const { records } = loadResults(dirs);
  writeAtomically(options.output, records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : ''));
  process.stdout.write(`${records.length} runs written to ${options.output}\n`);
}

export async function report(dirs: string[], options: { out?: string }): Promise<void> {
  const { plan, records, meta } = loadResults(dirs);
  const report = makeReport(plan, records, meta);
  const out = options.out ?? dirs[0]!;
  mkdirSync(out, { recursive: true });
  const { svg, html } = await renderReport(report);
  writeAtomically(join(out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeAtomically(join(out, 'report.svg'), svg);
  writeAtomically(join(out, 'report.html'), html);
  process.stdout.write(`${formatReport(report)}\n\nwrote ${join(out, 'report.json')}, report.svg, report.html\n`);
}
