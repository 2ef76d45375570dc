/**
 * `npm run fuzz -- [--cases N] [--kind K,...] [--seed S] [--from I] [--hang-ms MS]`: the
 * long fuzzing pass (npm test runs a short one). Prints the count of each outcome per
 * input kind; exits 1 if any case crashed the host or hung, naming how to replay it.
 */
import { parseArgs } from 'node:util';
import { formatSummary, fuzz } from './harness.js';
import { TARGETS } from './targets.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '1000' },
    kind: { type: 'string', default: Object.keys(TARGETS).join(',') },
    seed: { type: 'string', default: '1' },
    from: { type: 'string', default: '0' },
    'hang-ms': { type: 'string', default: '60000' },
  },
});
const number = (name: string, text: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) { console.error(`fuzz: --${name} ${text}: expected a whole number`); process.exit(2); }
  return n;
};
const kinds = values.kind.split(',');
for (const k of kinds) if (!TARGETS[k]) { console.error(`fuzz: --kind ${k}: expected one of ${Object.keys(TARGETS).join(', ')}`); process.exit(2); }
let failed = false;
for (const kind of kinds) {
  const started = performance.now();
  // Progress on stderr: the counts so far and the rate, every 500 cases.
  const s = await fuzz(kind, number('seed', values.seed), number('from', values.from), number('cases', values.cases), number('hang-ms', values['hang-ms']),
    (so, done) => console.error(`${kind}: ${done} cases in ${((performance.now() - started) / 1000).toFixed(0)} s: ${[...so.counts].map(([o, n]) => `${n} ${o}`).join(', ')}`));
  console.log(`${formatSummary(s)}\n  (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  for (const f of s.failures) console.log(`  ${f.replaceAll('\n', '\n    ')}`);
  failed ||= s.failures.length > 0;
}
process.exit(failed ? 1 : 0);
