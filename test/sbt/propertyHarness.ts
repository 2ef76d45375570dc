/**
 * Runs generated property programs: original vs translated (linux stub) on a Runner.
 * Shared by the per-class property tests and the mutation tests.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIRROR_OFFSET } from '../../src/layout.js';
import type { Template } from '../../src/sbt/index.js';
import { type Form, generateProgram, mismatchedCases, type Case } from './propertyCases.js';
import { buildProgram, defaultRunner, random, runtimeObject, scratchDir, translateFile, type Runner } from './support.js';

export interface PropertyOutcome {
  cases: Case[];
  /** Cases whose registers, flags or native window differ between original and translated. */
  differing: number[];
  /** Cases whose window differs from its mirror in the translated run. */
  mirrorMismatches: number[];
  originalStatus: number | null;
  translatedStatus: number | null;
  reproduce: string;
  programPath: string;
}

let programCounter = 0;

export function runPropertyProgram(forms: Form[], seed: number, options: { runner?: Runner; disabledTemplates?: Set<Template>; name?: string } = {}): PropertyOutcome {
  const runner = options.runner ?? defaultRunner;
  const { source, cases } = generateProgram(forms, random(seed), MIRROR_OFFSET);
  const name = `${options.name ?? 'property'}-${seed}-${programCounter++}`;
  const asm = join(scratchDir, `${name}.S`);
  writeFileSync(asm, source);
  const original = buildProgram([runtimeObject(), asm], join(scratchDir, name));
  const translated = translateFile(original, `${original}.translated`, { offset: MIRROR_OFFSET, disabledTemplates: options.disabledTemplates, verify: !options.disabledTemplates });
  const a = runner(original);
  const b = runner(translated.path);
  // Each case dumps 36 bytes of registers/flags and the window.
  const record = 36 + 0x400;
  const differing: number[] = [];
  for (let k = 0; k < cases.length; k++) {
    const x = a.stdout.subarray(k * record, (k + 1) * record);
    const y = b.stdout.subarray(k * record, (k + 1) * record);
    if (x.length !== record || !x.equals(y)) differing.push(k);
  }
  return {
    cases, differing, mirrorMismatches: mismatchedCases(Buffer.from(b.stderr, 'latin1')),
    originalStatus: a.status, translatedStatus: b.status,
    programPath: original,
    reproduce: `node --test --test-name-pattern='${options.name ?? 'property'}' dist/test/sbt/  # seed ${seed}, program ${asm}`,
  };
}
