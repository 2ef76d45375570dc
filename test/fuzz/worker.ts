/**
 * A fuzzing worker thread: prepares one target, then runs cases [from, to) and posts each
 * outcome as it ends (the harness's watchdog takes a case that posts nothing for a hang).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { caseRandom } from './harness.js';
import { TARGETS } from './targets.js';

const { kind, seed, from, to } = workerData as { kind: string; seed: number; from: number; to: number };
const target = TARGETS[kind]!;
target.prepare();
for (let i = from; i < to; i++) {
  parentPort!.postMessage({ type: 'start', index: i });
  try {
    parentPort!.postMessage({ type: 'done', index: i, outcome: await target.run(caseRandom(seed, i)) });
  } catch (e) {
    const error = e as Error;
    parentPort!.postMessage({ type: 'done', index: i, outcome: 'HOST CRASH', detail: `${error.name}: ${error.message}\n${error.stack ?? ''}` });
  }
}
