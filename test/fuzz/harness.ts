/**
 * The fuzzing harness: runs `cases` cases of one input kind in a worker thread, case i
 * from its own seeded generator (so any case replays alone: --seed S --from i --cases 1),
 * with a watchdog that takes a case running longer than `hangMs` for a hang, ends the
 * worker and goes on with the next case. Counts per outcome; crashes and hangs are kept
 * with the command that replays them.
 */
import { Worker } from 'node:worker_threads';
import { SeededRandom } from '../../src/faults/random.js';

export interface FuzzSummary {
  kind: string;
  seed: number;
  cases: number;
  counts: Map<string, number>;
  /** Host crashes and hangs: the case, what happened, and how to replay it. */
  failures: string[];
}

/** Case i's generator: independent of every other case. */
export function caseRandom(seed: number, index: number): SeededRandom {
  return new SeededRandom((Math.imul(seed, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
}

export const replayCommand = (kind: string, seed: number, index: number): string =>
  `npm run fuzz -- --kind ${kind} --seed ${seed} --from ${index} --cases 1`;

/**
 * Runs the cases; `progress`, if given, is called every `progressEvery` cases with the
 * summary so far (a long pass prints it, so a pass cut short still says what it found).
 */
export async function fuzz(kind: string, seed: number, from: number, cases: number, hangMs: number,
  progress?: (s: FuzzSummary, done: number) => void, progressEvery = 500): Promise<FuzzSummary> {
  const summary: FuzzSummary = { kind, seed, cases, counts: new Map(), failures: [] };
  let done = 0;
  const count = (outcome: string) => {
    summary.counts.set(outcome, (summary.counts.get(outcome) ?? 0) + 1);
    if (++done % progressEvery === 0 && done < cases) progress?.(summary, done);
  };
  const end = from + cases;
  let next = from;
  while (next < end) {
    next = await new Promise<number>((resolve, reject) => {
      const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { kind, seed, from: next, to: end } });
      let current = next, timer: NodeJS.Timeout | null = null, settled = false, last = false;
      const finish = (resumeAt: number) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        void worker.terminate();
        resolve(resumeAt);
      };
      const arm = () => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => {
          count('HOST HANG');
          summary.failures.push(`case ${current}: no end after ${hangMs} ms; replay: ${replayCommand(kind, seed, current)}`);
          finish(current + 1);
        }, hangMs);
      };
      worker.on('message', (m: { type: string; index: number; outcome?: string; detail?: string }) => {
        current = m.index;
        if (m.type === 'start') { arm(); return; }
        count(m.outcome!);
        if (m.detail) summary.failures.push(`case ${m.index}: ${m.detail.split('\n').slice(0, 6).join('\n')}\nreplay: ${replayCommand(kind, seed, m.index)}`);
        if (m.index + 1 === end) {
          // The worker ends by itself (and its scratch directories with it: a terminated
          // worker runs no exit handlers); terminated if it has not ended in 10 s.
          last = true;
          if (timer) clearTimeout(timer);
          timer = setTimeout(() => finish(end), 10_000);
        }
      });
      worker.on('error', (e) => { if (!settled) { settled = true; if (timer) clearTimeout(timer); reject(e); } });
      worker.on('exit', (code) => {
        if (settled) return;
        if (last) return finish(end);  // every case has reported: how the worker ends adds nothing
        count('HOST CRASH');
        summary.failures.push(`case ${current}: the worker died (exit ${code}); replay: ${replayCommand(kind, seed, current)}`);
        finish(current + 1);
      });
    });
  }
  return summary;
}

export function formatSummary(s: FuzzSummary): string {
  const rows = [...s.counts].sort((a, b) => b[1] - a[1]).map(([outcome, n]) => `  ${String(n).padStart(7)}  ${outcome}`);
  return `${s.kind}: ${s.cases} cases, seed ${s.seed}\n${rows.join('\n')}`;
}
