/**
 * A campaign: many independent, seeded fault-injection runs of one workload, in one or
 * more arms (mirror mode × fault model × target). The plan is a JSON file; every run's
 * seed derives from the master seed and the run's index, so any run can be replayed alone
 * from its index (and each record carries the `memvisor run` command that replays it).
 */
import { createHash } from 'node:crypto';
import { MemvisorError } from '../errors.js';
import { INPUT, readInputText } from '../input-file.js';
import { parseInjectionSpec } from '../faults/index.js';
import { MIRROR_MODES, type MirrorMode } from '../vmm/modes.js';
import type { RecoveryMode } from '../vmm/recovery.js';

export const CAMPAIGN_FORMAT = 'memvisor-campaign';
export const CAMPAIGN_VERSION = 1;

export interface Workload {
  /** A short name for reports. */
  name: string;
  /** Typed on the MemV6 console, each after the next prompt. */
  send: string[];
  /** The console shows this when the workload is done (a regular expression). */
  until: string;
  prompt: string;
  cmdline?: string;
  memoryMiB: number;
}

export interface Arm {
  mode: MirrorMode;
  /** An --inject spec without seed, at, window or match: KIND[:target=…,count=…,bits=…]. */
  fault: string;
  recovery: RecoveryMode;
  /** Scrubber interval in cycles (0: off). */
  scrubEvery: number;
}

export interface CampaignPlan {
  format: typeof CAMPAIGN_FORMAT;
  version: number;
  /**
   * A digest of everything below but the number of runs: results of one campaign are never
   * mixed with another's, and a campaign planned again with more runs is the same campaign,
   * grown (run i is the same run whatever the count: its arm and seed depend on i alone).
   */
  id: string;
  workload: Workload;
  arms: Arm[];
  /** When faults strike (virtual cycles, uniform): explicit, or `workload`: from the snapshot point to the fault-free run's end. */
  window: 'workload' | [number, number];
  runsPerArm: number;
  seed: number;
  /** Fork every run from a snapshot at the shell prompt (default), or boot each run. */
  fork: 'snapshot' | 'boot';
  /** A run that has not finished after `hangFactor` times the fault-free run's virtual time is a hang. */
  hangFactor: number;
  /** Host-side limit per run (seconds): a run that takes longer is recorded as a host timeout. */
  wallLimitSeconds: number;
}

export type PlanInput = Omit<CampaignPlan, 'format' | 'version' | 'id'>;

/** The default workload: many processes and file writes, with frequent system calls (a few seconds of guest time). */
export const DEFAULT_WORKLOAD: Workload = {
  name: 'fork+files',
  send: ['forktest; stressfs; echo workload-done\n'],
  until: '^workload-done',
  prompt: '\\$ ',
  memoryMiB: 128,
};

const FAULT_KEYS_NOT_ALLOWED = ['seed', 'at', 'window', 'match', 'addr'];

/** Checks an arm's fault (the campaign adds seed and window); returns a message or null. */
function faultProblem(fault: string): string | null {
  if (typeof fault !== 'string' || fault.trim() === '') return 'a fault spec is empty';
  const keys = fault.includes(':') ? fault.slice(fault.indexOf(':') + 1).split(',').map((p) => p.split('=')[0]!.trim()) : [];
  const bad = keys.find((k) => FAULT_KEYS_NOT_ALLOWED.includes(k));
  if (bad) return `fault '${fault}': '${bad}=' is set by the campaign for each run`;
  try {
    parseInjectionSpec(fault);
  } catch (e) {
    return (e as Error).message.replace(/^--inject /, 'fault ');
  }
  return null;
}

function campaignId(input: PlanInput): string {
  const { runsPerArm: _size, ...experiment } = input;
  return createHash('sha256').update(JSON.stringify(experiment)).digest('hex').slice(0, 16);
}

/** Validates a plan's content; the first problem as one line, or null. */
function planProblem(p: PlanInput): string | null {
  const w = p.workload;
  if (typeof w !== 'object' || w === null) return 'no workload';
  if (typeof w.name !== 'string' || !Array.isArray(w.send) || !w.send.every((s) => typeof s === 'string') || w.send.length === 0) return 'workload.send must be a list of texts';
  for (const [field, text] of [['until', w.until], ['prompt', w.prompt]] as const) {
    if (typeof text !== 'string') return `workload.${field} must be a regular expression`;
    try { new RegExp(text, 'm'); } catch { return `workload.${field} '${text}' is not a valid regular expression`; }
  }
  if (w.cmdline !== undefined && typeof w.cmdline !== 'string') return 'workload.cmdline must be text';
  if (!Number.isInteger(w.memoryMiB) || w.memoryMiB < 16 || w.memoryMiB > 1024) return `workload.memoryMiB ${String(w.memoryMiB)}: expected 16 to 1024`;
  if (!Array.isArray(p.arms) || p.arms.length === 0) return 'no arms (a mode and a fault each)';
  for (const arm of p.arms) {
    if (typeof arm !== 'object' || arm === null) return 'an arm is not an object';
    if (!(MIRROR_MODES as readonly string[]).includes(arm.mode)) return `unknown mode '${String(arm.mode)}' (expected ${MIRROR_MODES.join(', ')})`;
    const fault = faultProblem(arm.fault);
    if (fault) return fault;
    if (arm.recovery !== 'monitor' && arm.recovery !== 'guest') return `recovery '${String(arm.recovery)}': expected monitor or guest`;
    if (!Number.isInteger(arm.scrubEvery) || arm.scrubEvery < 0 || (arm.scrubEvery > 0 && arm.scrubEvery < 1000)) return `scrubEvery ${String(arm.scrubEvery)}: expected 0 or at least 1000`;
  }
  if (p.window !== 'workload') {
    if (!Array.isArray(p.window) || p.window.length !== 2 || !p.window.every((n) => Number.isSafeInteger(n) && n >= 0) || p.window[0]! > p.window[1]!) {
      return `window ${JSON.stringify(p.window)}: expected "workload" or [FROM, TO] in virtual cycles`;
    }
  }
  if (!Number.isInteger(p.runsPerArm) || p.runsPerArm < 1 || p.runsPerArm > 1_000_000) return `runsPerArm ${String(p.runsPerArm)}: expected 1 to 1000000`;
  if (!Number.isInteger(p.seed) || p.seed < 0 || p.seed > 0xffffffff) return `seed ${String(p.seed)}: expected 0 to 4294967295`;
  if (p.fork !== 'snapshot' && p.fork !== 'boot') return `fork '${String(p.fork)}': expected snapshot or boot`;
  if (typeof p.hangFactor !== 'number' || !(p.hangFactor >= 1.5) || p.hangFactor > 100) return `hangFactor ${String(p.hangFactor)}: expected 1.5 to 100`;
  if (!Number.isInteger(p.wallLimitSeconds) || p.wallLimitSeconds < 1 || p.wallLimitSeconds > 86400) return `wallLimitSeconds ${String(p.wallLimitSeconds)}: expected 1 to 86400`;
  return null;
}

/** A plan from checked input (the id is computed here). */
export function makePlan(input: PlanInput, where = 'campaign plan'): CampaignPlan {
  const problem = planProblem(input);
  if (problem) throw new MemvisorError(`${where}: ${problem}`);
  const clean: PlanInput = {
    workload: input.workload, arms: input.arms, window: input.window, runsPerArm: input.runsPerArm, seed: input.seed,
    fork: input.fork, hangFactor: input.hangFactor, wallLimitSeconds: input.wallLimitSeconds,
  };
  return { format: CAMPAIGN_FORMAT, version: CAMPAIGN_VERSION, id: campaignId(clean), ...clean };
}

/** Reads and checks a campaign file: one line naming the file and the problem when it is wrong. */
export function readPlan(path: string): CampaignPlan {
  const text = readInputText(path, INPUT.campaignFile);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new MemvisorError(`${path}: not a campaign file (not JSON)`);
  }
  const p = data as CampaignPlan;
  if (typeof p !== 'object' || p === null || p.format !== CAMPAIGN_FORMAT) throw new MemvisorError(`${path}: not a memvisor campaign file`);
  if (p.version !== CAMPAIGN_VERSION) throw new MemvisorError(`${path}: campaign file version ${String(p.version)}; this memvisor reads version ${CAMPAIGN_VERSION}`);
  const plan = makePlan(p, path);
  if (plan.id !== p.id) throw new MemvisorError(`${path}: the campaign id does not match its content (edited by hand? plan it again)`);
  return plan;
}

export function runCount(plan: CampaignPlan): number {
  return plan.arms.length * plan.runsPerArm;
}

/** Runs are interleaved over the arms, so any prefix of a campaign covers every arm evenly. */
export function armOf(plan: CampaignPlan, index: number): { arm: Arm; armIndex: number } {
  const armIndex = index % plan.arms.length;
  return { arm: plan.arms[armIndex]!, armIndex };
}

/** Run `index`'s seed: the master seed and the index mixed (splitmix32), the same everywhere. */
export function runSeed(plan: CampaignPlan, index: number): number {
  let z = (plan.seed + Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** The --inject spec of run `index`, with its absolute window. */
export function runFault(plan: CampaignPlan, index: number, window: [number, number]): string {
  const { arm } = armOf(plan, index);
  const separator = arm.fault.includes(':') ? ',' : ':';
  return `${arm.fault}${separator}seed=${runSeed(plan, index)},window=${window[0]}-${window[1]}`;
}

/** `I/N` (I from 0 to N-1), or `auto` from Slurm's or Kubernetes' environment. */
export function parseShard(text: string, env: NodeJS.ProcessEnv = process.env): { index: number; count: number } {
  if (text === 'auto') {
    const slurmId = env.SLURM_ARRAY_TASK_ID, slurmCount = env.SLURM_ARRAY_TASK_COUNT;
    if (slurmId !== undefined && slurmCount !== undefined) {
      const min = Number(env.SLURM_ARRAY_TASK_MIN ?? 0);
      return parseShard(`${Number(slurmId) - min}/${slurmCount}`);
    }
    const k8s = env.JOB_COMPLETION_INDEX, k8sCount = env.MEMVISOR_SHARDS;
    if (k8s !== undefined && k8sCount !== undefined) return parseShard(`${k8s}/${k8sCount}`);
    throw new MemvisorError('--shard auto: neither SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT nor JOB_COMPLETION_INDEX/MEMVISOR_SHARDS is set');
  }
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (!m) throw new MemvisorError(`--shard ${text}: expected I/N (I from 0 to N-1) or auto`);
  const index = Number(m[1]), count = Number(m[2]);
  if (count < 1 || index >= count) throw new MemvisorError(`--shard ${text}: I must be below N (shards are numbered 0 to N-1)`);
  return { index, count };
}
