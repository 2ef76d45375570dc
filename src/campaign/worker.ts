/**
 * A campaign worker thread (run by the pool in runner.ts): it keeps one ExperimentRunner,
 * whose snapshots at the shell prompt are taken once per mode, and runs the tasks it is
 * given. A task that never returns is ended from outside (the worker is terminated).
 */
import { useBlockCache } from '../block-cache.js';
import { ExperimentRunner, type GoldenRun, type RunRecord } from './experiment.js';
import type { CampaignPlan } from './plan.js';
import type { MirrorMode } from '../vmm/index.js';

export type WorkerTask =
  | { kind: 'golden'; plan: CampaignPlan; mode: MirrorMode }
  /** Boot `modes` to the prompt and keep the snapshots, while another thread runs the golden runs. */
  | { kind: 'prepare'; plan: CampaignPlan; modes: MirrorMode[] }
  | { kind: 'run'; plan: CampaignPlan; index: number; golden: GoldenRun; goldenPath: string };

// Blocks earlier processes wrote (../block-cache.ts); a pool's threads end by being
// terminated, so they only read: the file is written by commands that run machines on
// their main thread (run, exec, bench).
useBlockCache({ save: false });

let runner: ExperimentRunner | null = null;
let planId = '';

export default async function work(task: WorkerTask): Promise<GoldenRun | RunRecord | null> {
  if (!runner || planId !== task.plan.id) {
    runner = new ExperimentRunner(task.plan);
    planId = task.plan.id;
  }
  if (task.kind === 'golden') return runner.golden(task.mode);
  if (task.kind === 'prepare') {
    await runner.prepare(task.modes);
    return null;
  }
  return runner.run(task.index, task.golden, task.goldenPath);
}
