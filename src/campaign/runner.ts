/**
 * `memvisor campaign run`: the runs of one shard on a pool of worker threads (piscina),
 * one record per run appended to a JSON Lines file as each run ends. An interrupted
 * campaign resumes where it stopped (records already written are kept, a half-written
 * last line is dropped); a run that throws or outlives the wall-clock limit is recorded as
 * a host error or host timeout, never lost, and never stops the campaign.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { MemvisorError } from '../errors.js';
import { INPUT, readInputFile } from '../input-file.js';
import type { Outcome } from '../faults/index.js';
import type { MirrorMode } from '../vmm/index.js';
import { armOf, runCount, type CampaignPlan } from './plan.js';
import { diskFor, hostFailure, kernelPath, type GoldenRun, type RunRecord } from './experiment.js';
import type { WorkerTask } from './worker.js';

/** How long after its wall-clock limit a run that has not stopped itself has its worker ended. */
const BACKSTOP_MS = 30_000;
import { createHash } from 'node:crypto';

export interface Shard {
  index: number;
  count: number;
}

export interface CampaignRunOptions {
  plan: CampaignPlan;
  outDir: string;
  shard: Shard;
  threads?: number;
  /** Called after each run with the counts so far (for a progress bar). */
  progress?: (done: number, total: number, counts: Record<string, number>) => void;
  log?: (line: string) => void;
}

export const shardFile = (shard: Shard) => `runs-${shard.index}-of-${shard.count}.jsonl`;
export const goldenFile = (mode: MirrorMode) => `golden-${mode}.json`;
export const PLAN_FILE = 'campaign.json';

/** Writes a file atomically: never half-written. */
export function writeAtomically(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.partial`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

/**
 * The records in a results file. With `repair`, an unfinished last line (the campaign was
 * killed while writing it) is cut off the file, so the run is done again on resume.
 */
export function readRecords(path: string, campaign: string, repair = false): RunRecord[] {
  if (!existsSync(path)) return [];
  let bytes = readInputFile(path, INPUT.campaignResults);
  const complete = bytes.lastIndexOf(0x0a) + 1;
  if (complete < bytes.length) {
    if (!repair) throw new MemvisorError(`${path}: the last line is unfinished (resume the campaign to repair it)`);
    truncateSync(path, complete);
    bytes = bytes.subarray(0, complete);
  }
  const records: RunRecord[] = [];
  const lines = bytes.toString('utf8').split('\n');
  for (const [n, line] of lines.entries()) {
    if (line === '') continue;
    let record: RunRecord;
    try {
      record = JSON.parse(line) as RunRecord;
    } catch {
      throw new MemvisorError(`${path}: line ${n + 1} is not a run record`);
    }
    if (typeof record !== 'object' || record === null) throw new MemvisorError(`${path}: line ${n + 1} is not a run record`);
    if (record.campaign !== campaign) throw new MemvisorError(`${path}: line ${n + 1} is a result of campaign ${String(record.campaign)}, not ${campaign}`);
    if (!Number.isInteger(record.index)) throw new MemvisorError(`${path}: line ${n + 1} has no run index`);
    records.push(record);
  }
  return records;
}

const fileSha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** The golden run of `mode` from the out directory, if it was made by this campaign on this build. */
function knownGolden(path: string, plan: CampaignPlan, mode: MirrorMode): GoldenRun | null {
  if (!existsSync(path)) return null;
  try {
    const g = JSON.parse(readInputFile(path, INPUT.goldenRun).toString('utf8')) as GoldenRun;
    if (g.campaign !== plan.id || g.mode !== mode) return null;
    if (g.kernelSha256 !== fileSha(kernelPath(mode)) || g.imageSha256 !== fileSha(diskFor(mode))) {
      throw new MemvisorError(`${path}: made with another build of MemV6 (kernel or disk image differ); runs would not compare: use a new --out directory`);
    }
    return g;
  } catch (e) {
    if (e instanceof MemvisorError) throw e;
    return null;
  }
}

/** Checks the out directory belongs to this campaign (or is new) and records the plan there. */
function prepareOutDir(plan: CampaignPlan, outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  const planPath = join(outDir, PLAN_FILE);
  if (existsSync(planPath)) {
    let id = '';
    try { id = (JSON.parse(readInputFile(planPath, INPUT.campaignFile).toString('utf8')) as CampaignPlan).id; } catch { /* rewritten below */ }
    if (id && id !== plan.id) throw new MemvisorError(`--out ${outDir}: holds campaign ${id}, not ${plan.id}`);
  }
  writeAtomically(planPath, `${JSON.stringify(plan, null, 2)}\n`);
}

export interface CampaignRunSummary {
  ran: number;
  alreadyDone: number;
  counts: Record<string, number>;
  wallSeconds: number;
  file: string;
}

export async function runCampaign(options: CampaignRunOptions): Promise<CampaignRunSummary> {
  const { plan, outDir, shard } = options;
  const log = options.log ?? (() => {});
  prepareOutDir(plan, outDir);
  const file = join(outDir, shardFile(shard));
  const done = new Set(readRecords(file, plan.id, true).map((r) => r.index));
  const mine: number[] = [];
  for (let i = shard.index; i < runCount(plan); i += shard.count) if (!done.has(i)) mine.push(i);
  const started = performance.now();
  const counts: Record<string, number> = {};
  if (mine.length === 0) return { ran: 0, alreadyDone: done.size, counts, wallSeconds: 0, file };
  if (done.size) log(`resuming: ${done.size} runs of this shard already recorded in ${file}`);

  const threads = Math.max(1, Math.min(options.threads ?? availableParallelism(), mine.length));
  const pool = new Piscina<WorkerTask, GoldenRun | RunRecord | null>({
    filename: new URL('./worker.js', import.meta.url).href, minThreads: threads, maxThreads: threads, idleTimeout: 60_000,
  });
  try {
    // The fault-free run of every mode this shard needs (the same on every shard: deterministic).
    const goldens = new Map<MirrorMode, { golden: GoldenRun; path: string }>();
    const modes = [...new Set(mine.map((i) => armOf(plan, i).arm.mode))];
    const known = new Map(modes.map((mode) => [mode, knownGolden(join(outDir, goldenFile(mode)), plan, mode)]));
    const missing = modes.filter((mode) => known.get(mode) === null).length;
    // Threads the golden runs leave idle take their snapshots meanwhile (each thread takes
    // its own at its first run otherwise: a MemV6 boot while the others wait).
    const preparing = Array.from({ length: Math.max(0, threads - missing) }, () => pool.run({ kind: 'prepare', plan, modes }));
    await Promise.all(modes.map(async (mode) => {
      const path = join(outDir, goldenFile(mode));
      let golden = known.get(mode) ?? null;
      if (!golden) {
        log(`golden run (${mode}, no faults)…`);
        golden = await pool.run({ kind: 'golden', plan, mode }) as GoldenRun;
        writeAtomically(path, `${JSON.stringify(golden, null, 2)}\n`);
      }
      goldens.set(mode, { golden, path });
    }));
    await Promise.all(preparing);

    let finished = 0;
    const record = (r: RunRecord) => {
      appendFileSync(file, `${JSON.stringify(r)}\n`);
      const key = r.outcome ?? r.status;
      counts[key] = (counts[key] ?? 0) + 1;
      options.progress?.(++finished, mine.length, counts);
    };
    // One task per thread at a time, so a run's wall-clock limit starts when the run does
    // (not while it waits in the pool's queue).
    const queue = [...mine];
    const lane = async () => {
      for (let index = queue.shift(); index !== undefined; index = queue.shift()) {
        const { golden, path } = goldens.get(armOf(plan, index).arm.mode)!;
        const t0 = performance.now();
        try {
          // The run stops itself at the wall-clock limit (between two slices, as run --timeout
          // does) and keeps its worker; ending the thread is only the backstop.
          record(await pool.run({ kind: 'run', plan, index, golden, goldenPath: path }, { signal: AbortSignal.timeout(plan.wallLimitSeconds * 1000 + BACKSTOP_MS) }) as RunRecord);
        } catch (e) {
          const timedOut = (e as Error).name === 'AbortError' || (e as Error).name === 'TimeoutError';
          record(hostFailure(plan, index, golden, path, timedOut ? 'host-timeout' : 'host-error',
            timedOut ? `no result within the wall-clock limit (${plan.wallLimitSeconds} s) and ${BACKSTOP_MS / 1000} s more: the worker was ended` : String((e as Error).stack ?? e).split('\n').slice(0, 3).join(' | '),
            Math.round(performance.now() - t0)));
        }
      }
    };
    await Promise.all(Array.from({ length: threads }, lane));
  } finally {
    await pool.destroy();
  }
  const wallSeconds = (performance.now() - started) / 1000;
  appendFileSync(join(outDir, `${shardFile(shard)}.meta`), `${JSON.stringify({ campaign: plan.id, shard, runs: mine.length, threads, wallSeconds, at: new Date().toISOString() })}\n`);
  return { ran: mine.length, alreadyDone: done.size, counts, wallSeconds, file };
}

export type { Outcome };
