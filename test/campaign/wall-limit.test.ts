/**
 * A campaign run honours its wall-clock limit as `run --timeout` does: the session stops
 * itself between two slices and the run is recorded as a host timeout, with how far it
 * got, while its worker (and the snapshots it keeps) lives on. Before, only ending the
 * worker thread from outside stopped such a run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExperimentRunner, type GoldenRun } from '../../src/campaign/experiment.js';
import { makePlan } from '../../src/campaign/plan.js';

test('a campaign run that outlives wallLimitSeconds stops itself and is recorded as a host timeout', { timeout: 180_000 }, async () => {
  // A CPU-bound program that runs for hours of guest time, and a fault-free run (given
  // here) so long that the hang limit in virtual time is never the one reached.
  const plan = makePlan({
    workload: { name: 'endless', send: ['spin 100000000\n'], until: '^never printed$', prompt: '\\$ ', memoryMiB: 32 },
    arms: [{ mode: 'off', fault: 'poison:target=user-native', recovery: 'monitor', scrubEvery: 0 }],
    window: [0, 1], runsPerArm: 1, seed: 1, fork: 'snapshot', hangFactor: 2, wallLimitSeconds: 3,
  });
  const golden: GoldenRun = {
    campaign: plan.id, mode: 'off', output: '', startup: '', files: '', snapshotCycles: 0, endCycles: 1e15, instructions: 0, kernelSha256: '', imageSha256: '',
  };
  const runner = new ExperimentRunner(plan);
  const started = performance.now();
  const record = await runner.run(0, golden, 'golden-off.json');
  const seconds = (performance.now() - started) / 1000;
  assert.equal(record.status, 'host-timeout');
  assert.match(record.error ?? '', /^stopped at the wall-clock limit \(3 s\) at virtual cycle \d+$/);
  assert.ok(record.instructions > 0, 'the record says how far the run got');
  assert.ok(seconds >= 3 && seconds < 40, `stopped after ${seconds.toFixed(1)} s`);
});
