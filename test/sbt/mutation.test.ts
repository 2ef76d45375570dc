/**
 * Mutation tests (reference §4.8.5): switch off each rewriting template in turn and show
 * that the property check catches it (the mirror differs from native memory), and that the
 * independent verifier refuses the output. Port input (`rep ins`) cannot run in a user
 * program: with its template off, the verifier must refuse the translated MemV6 kernel, and
 * the system-mode check must find the sector reads unmirrored (test/vmm/system.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { TEMPLATES, translateElf, verifyTranslation, type Template } from '../../src/sbt/index.js';
import { FORMS } from './propertyCases.js';
import { MIRROR_OFFSET } from '../../src/layout.js';
import { runPropertyProgram } from './propertyHarness.js';
import { guestKernel } from '../guest/scenarios.js';

/** Templates for instructions a user program cannot run (port input): checked on the kernel. */
const KERNEL_ONLY: ReadonlySet<Template> = new Set(['repIns']);

const SEED = Number(process.env.MEMVISOR_SBT_SEED ?? 777);

test('mutation: disabling any template is caught by the property check and the verifier', (t) => {
  const rows: string[] = [];
  for (const template of TEMPLATES) {
    if (KERNEL_ONLY.has(template)) {
      const kernel = readFileSync(guestKernel);
      const mutated = translateElf(kernel, { path: guestKernel, scratch: 'stack', disabledTemplates: new Set<Template>([template]) });
      const verifier = verifyTranslation(kernel, mutated.output, { path: guestKernel, offset: MIRROR_OFFSET, scratch: 'stack' });
      rows.push(`${template.padEnd(15)} -> (the MemV6 kernel) verifier: ${verifier.errors.length} problems`);
      assert.ok(verifier.errors.length > 0, `template ${template} disabled but the verifier accepted the translated kernel`);
      continue;
    }
    const forms = FORMS.filter((f) => f.template === template);
    assert.ok(forms.length > 0, `no property forms for template ${template}`);
    const outcome = runPropertyProgram(forms, SEED, { disabledTemplates: new Set<Template>([template]), name: `mutation-${template}` });
    const caughtByMirror = outcome.mirrorMismatches.length;
    // The verifier, run on the same mutated output.
    const original = readFileSync(outcome.programPath);
    const mutated = translateElf(original, { offset: MIRROR_OFFSET, linuxStub: true, checkAtExit: true, disabledTemplates: new Set<Template>([template]) });
    const verifier = verifyTranslation(original, mutated.output, { path: outcome.programPath, offset: MIRROR_OFFSET });
    rows.push(`${template.padEnd(15)} -> mirror check: ${caughtByMirror}/${outcome.cases.length} cases mismatched; verifier: ${verifier.errors.length} problems`);
    assert.ok(caughtByMirror > 0, `template ${template} disabled but the property check found no mirror mismatch (seed ${SEED})`);
    assert.ok(verifier.errors.length > 0, `template ${template} disabled but the verifier accepted the output`);
    assert.deepEqual(outcome.differing, [], `disabling ${template} must not change what the program computes`);
  }
  const table = ['template        -> caught by', ...rows].join('\n');
  t.diagnostic(table);
  console.log(table);
});
