/**
 * Per-class property tests (reference §4.8.4): every memory-writing instruction form gcc
 * can emit, over every addressing form, from seeded random registers, flags and memory:
 * original and translated give identical registers, flags and native memory, and the
 * mirror equals native memory. Run under qemu-i386 and under memvisor exec.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FORMS, usesFpu } from './propertyCases.js';
import { runPropertyProgram } from './propertyHarness.js';
import { memvisorRunner, qemuUserRunner, type Runner } from '../support/build.js';

const SEED = Number(process.env.MEMVISOR_SBT_SEED ?? 20240601);
const BATCHES = 4;
const SEEDS = 2;

// memvisor's CPU has no x87 or SSE: on memvisor exec, the integer forms only.
const runners: Array<[string, Runner, boolean]> = [['qemu-i386', qemuUserRunner, true], ['memvisor exec', memvisorRunner, false]];

for (const [engine, runner, fpu] of runners) test(`property: every writer class mirrors exactly (${engine})`, (t) => {
  let total = 0;
  const byTemplate = new Map<string, number>();
  for (let batch = 0; batch < BATCHES * SEEDS; batch++) {
    const forms = FORMS.filter((f, i) => i % BATCHES === batch % BATCHES && (fpu || !usesFpu(f)));
    const seed = SEED + batch;
    const outcome = runPropertyProgram(forms, seed, { name: `property-${engine.split(' ')[0]}`, runner });
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
