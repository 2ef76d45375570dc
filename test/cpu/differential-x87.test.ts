/**
 * The x87 against qemu-i386, form by form (see differential-x87.ts): bit for bit for every
 * form but the transcendental ones. Reproduce a failure with MEMVISOR_SEED=<seed>.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { generateCases, writeProgram, DUMP_BYTES, FPU_SAVE_BYTES, type GeneratedCase } from './differential.js';
import { SW_C1, SW_DENORMAL, SW_INEXACT, x87Forms, type X87Form } from './differential-x87.js';
import { CPU_TIERS, buildProgram, memvisorRunner, qemuUserRunner, scratch } from '../support/build.js';
import { requireQemuUser } from '../support/qemu.js';

const SEED = Number(process.env.MEMVISOR_SEED ?? 20261202);
const PER_FORM = Number(process.env.MEMVISOR_CASES_PER_FORM ?? 16);
const RECORD = DUMP_BYTES + FPU_SAVE_BYTES;
const dir = scratch('cpu-diff-x87');

const hex = (v: number | bigint, n: number) => v.toString(16).padStart(n, '0');

/** Register ST(i) of an FNSAVE image at `at` in a dump, as [signExp, significand]. */
function register(dump: Buffer, i: number): [number, bigint] {
  const at = DUMP_BYTES + 28 + i * 10;
  return [dump.readUInt16LE(at + 8), dump.readBigUInt64LE(at)];
}

/** Differences between two dumps of one case, as lines (empty: they agree). */
function differences(c: GeneratedCase, e: Buffer, a: Buffer): string[] {
  const form = c.form as X87Form;
  const out: string[] = [];
  if (!e.subarray(0, 32).equals(a.subarray(0, 32))) out.push(`registers: qemu ${e.subarray(0, 32).toString('hex')} memvisor ${a.subarray(0, 32).toString('hex')}`);
  if ((e.readUInt32LE(32) ^ a.readUInt32LE(32)) & ~form.undefinedFlags) out.push(`eflags: qemu ${hex(e.readUInt32LE(32), 8)} memvisor ${hex(a.readUInt32LE(32), 8)}`);
  const firstScratch = [...Array(256).keys()].find((i) => e[36 + i] !== a[36 + i]);
  if (firstScratch !== undefined) out.push(`scratch[${firstScratch}..]: qemu ${e.subarray(36 + firstScratch, 44 + firstScratch).toString('hex')} memvisor ${a.subarray(36 + firstScratch, 44 + firstScratch).toString('hex')}`);
  const cwE = e.readUInt16LE(DUMP_BYTES), cwA = a.readUInt16LE(DUMP_BYTES);
  if (cwE !== cwA) out.push(`control word: qemu ${hex(cwE, 4)} memvisor ${hex(cwA, 4)}`);
  const statusMask = ~(form.undefinedStatus ?? 0) & ~SW_DENORMAL & ~(form.approximate ? SW_C1 | SW_INEXACT : 0) & 0xffff;
  const swE = e.readUInt16LE(DUMP_BYTES + 4), swA = a.readUInt16LE(DUMP_BYTES + 4);
  if ((swE ^ swA) & statusMask) out.push(`status word: qemu ${hex(swE, 4)} memvisor ${hex(swA, 4)}`);
  const tagE = e.readUInt16LE(DUMP_BYTES + 8), tagA = a.readUInt16LE(DUMP_BYTES + 8);
  if (tagE !== tagA) out.push(`tag word: qemu ${hex(tagE, 4)} memvisor ${hex(tagA, 4)}`);
  for (let i = 0; i < 8; i++) {
    const [seE, mE] = register(e, i), [seA, mA] = register(a, i);
    const empty = ((tagE >> (((((swE >> 11) & 7) + i) & 7) * 2)) & 3) === 3;
    if (empty) continue;
    const same = form.approximate ? seE === seA && (mE > mA ? mE - mA : mA - mE) < 1n << 24n : seE === seA && mE === mA;
    if (!same) out.push(`st(${i}): qemu ${hex(seE, 4)}:${hex(mE, 16)} memvisor ${hex(seA, 4)}:${hex(mA, 16)}`);
  }
  return out;
}

for (const [tier, threshold, engine] of CPU_TIERS.slice(0, 3)) test(`differential x87 (${tier}): every x87 form matches qemu-i386 on random states`, (t) => {
  requireQemuUser();
  const forms = x87Forms();
  const cases = generateCases(forms, PER_FORM, SEED);
  const elf = buildProgram([writeProgram(dir, 'x87', cases, true)], join(dir, 'x87'));
  const expected = qemuUserRunner(elf);
  assert.equal(expected.status, 0, `qemu-i386 failed on the generated program: ${expected.stderr}`);
  assert.equal(expected.stdout.length, cases.length * RECORD, 'qemu-i386 output length');
  const actual = memvisorRunner(elf, [], 2e9, threshold, { engine });
  const mismatches: string[] = [];
  const failed = new Map<string, number>();
  const done = Math.floor(actual.stdout.length / RECORD);
  for (let i = 0; i < done; i++) {
    const c = cases[i]!;
    const lines = differences(c, expected.stdout.subarray(i * RECORD, (i + 1) * RECORD), actual.stdout.subarray(i * RECORD, (i + 1) * RECORD));
    if (lines.length === 0) continue;
    failed.set(c.form.name, (failed.get(c.form.name) ?? 0) + 1);
    if (mismatches.length < 40 && failed.get(c.form.name)! <= 2) mismatches.push(`case ${i}: ${c.form.name}: ${c.text}\n  initial fpu ${Buffer.from(c.state.fpu!).toString('hex')}\n  ${lines.join('\n  ')}`);
  }
  t.diagnostic(`${tier}: ${forms.length} x87 forms, ${cases.length} random cases, seed ${SEED}`);
  if (done < cases.length) mismatches.push(`memvisor stopped after case ${done} of ${cases.length} (status ${actual.status}): ${actual.stderr.trim()}`);
  assert.deepEqual(mismatches, [], `x87 mismatches against qemu-i386 (seed ${SEED}; reproduce with MEMVISOR_SEED=${SEED}):\n` +
    `forms: ${[...failed].map(([n, k]) => `${n} (${k})`).join(', ')}\n${mismatches.join('\n')}`);
});
