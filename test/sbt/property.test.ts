/**
 * Per-class property tests (reference §4.8.4): every memory-writing instruction form gcc
 * can emit, over every addressing form, from seeded random registers, flags and memory:
 * original and translated give identical registers, flags and native memory, and the
 * mirror equals native memory. Run under qemu-i386 (the runner is pluggable).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FORMS } from './propertyCases.js';
import { runPropertyProgram } from './propertyHarness.js';

const SEED = Number(process.env.MEMVISOR_SBT_SEED ?? 20240601);
const BATCHES = 4;
const SEEDS = 2;

test('property: every writer class mirrors exactly (qemu-i386)', (t) => {
  let total = 0;
  const byTemplate = new Map<string, number>();
  for (let batch = 0; batch < BATCHES * SEEDS; batch++) {
    const forms = FORMS.filter((_, i) => i % BATCHES === batch % BATCHES);
    const seed = SEED + batch;
    const outcome = runPropertyProgram(forms, seed, { name: 'property' });
    total += outcome.cases.length;
    for (const c of outcome.cases) byTemplate.set(c.template, (byTemplate.get(c.template) ?? 0) + 1);
    const describe = (k: number) => `case ${k}: ${outcome.cases[k]!.text} [${outcome.cases[k]!.template}]`;
    assert.equal(outcome.originalStatus, 0, `original exited ${outcome.originalStatus}; ${outcome.reproduce}`);
    assert.equal(outcome.translatedStatus, 0, `translated exited ${outcome.translatedStatus}; ${outcome.reproduce}`);
    assert.deepEqual(outcome.differing.map(describe), [], `registers/flags/memory differ (seed ${seed}); reproduce: MEMVISOR_SBT_SEED=${SEED} ${outcome.reproduce}`);
    assert.deepEqual(outcome.mirrorMismatches.map(describe), [], `mirror != native (seed ${seed}); reproduce: MEMVISOR_SBT_SEED=${SEED} ${outcome.reproduce}`);
  }
  const summary = `property cases: ${total} (${[...byTemplate].map(([k, v]) => `${k} ${v}`).join(', ')}), seed ${SEED}`;
  t.diagnostic(summary);
  console.log(summary);
});
