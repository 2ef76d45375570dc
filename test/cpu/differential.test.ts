/**
 * The CPU against qemu-i386, instruction form by instruction form (see differential.ts).
 * Reproduce a failure with the seed it prints: MEMVISOR_SEED=<seed> npm test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allForms, generateCases, writeProgram, DUMP_BYTES, REGISTER_NAMES, SCRATCH_BYTES, type GeneratedCase } from './differential.js';
import { CPU_TIERS, buildProgram, memvisorRunner, qemuUserRunner, scratch } from '../support/build.js';
import { requireQemuUser } from '../support/qemu.js';
import { parseElf } from '../../src/elf/index.js';
import { Decoder, DecoderOptions, Code } from '../../src/sbt/iced.js';

const SEED = Number(process.env.MEMVISOR_SEED ?? 20261125);
const PER_FORM = Number(process.env.MEMVISOR_CASES_PER_FORM ?? 12);
const dir = scratch('cpu-diff');

const hex = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

function describeMismatch(c: GeneratedCase, index: number, expected: Buffer, actual: Buffer): string {
  const e = new DataView(expected.buffer, expected.byteOffset, DUMP_BYTES);
  const a = new DataView(actual.buffer, actual.byteOffset, DUMP_BYTES);
  const lines = [`case ${index}: ${c.form.name}: ${c.text.replace(/\n\s*/g, '; ')}`];
  lines.push(`  initial: ${c.state.regs.map((v, r) => `${REGISTER_NAMES[r]}=${c.state.relative[r] ? `scratch+${v}` : hex(v)}`).join(' ')} eflags=${hex(c.state.flags)}`);
  for (let r = 0; r < 8; r++) {
    if (e.getUint32(r * 4, true) !== a.getUint32(r * 4, true)) {
      lines.push(`  ${REGISTER_NAMES[r]}: qemu ${hex(e.getUint32(r * 4, true))} memvisor ${hex(a.getUint32(r * 4, true))}`);
    }
  }
  const ef = e.getUint32(32, true), af = a.getUint32(32, true);
  if (((ef ^ af) & ~c.form.undefinedFlags) !== 0) lines.push(`  eflags: qemu ${hex(ef)} memvisor ${hex(af)} (undefined mask ${hex(c.form.undefinedFlags)})`);
  for (let i = 0; i < SCRATCH_BYTES; i++) {
    if (expected[36 + i] !== actual[36 + i]) {
      lines.push(`  scratch[${i}]: qemu ${expected[36 + i]} memvisor ${actual[36 + i]}`);
      break;
    }
  }
  return lines.join('\n');
}

/** The iced-x86 instruction codes (opcode forms) the program's cases execute. */
function codesCovered(elfPath: string, count: number): Set<string> {
  const elf = parseElf(readFileSync(elfPath), elfPath);
  const symbols = new Map(elf.symbols.map((s) => [s.name, s.value >>> 0]));
  const text = elf.programHeaders.find((p) => p.type === 1 && p.flags & 1)!;
  const codes = new Set<string>();
  for (let i = 0; i < count; i++) {
    const start = symbols.get(`insn_${i}`)!, end = symbols.get(`insn_end_${i}`)!;
    const bytes = elf.bytes.subarray(text.offset + (start - text.vaddr), text.offset + (end - text.vaddr));
    const decoder = new Decoder(32, bytes, DecoderOptions.None);
    decoder.ip = BigInt(start);
    while (decoder.canDecode) {
      const insn = decoder.decode();
      codes.add(codeName(insn.code));
      insn.free();
    }
    decoder.free();
  }
  return codes;
}

const CODE_NAMES = new Map<number, string>(Object.entries(Code).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v as number, k]));
function codeName(code: number): string {
  return CODE_NAMES.get(code) ?? `code ${code}`;
}

// The interpreter alone and every block compiled at first sight, as JavaScript and
// translated into WebAssembly at once (the default threshold adds nothing here: each case
// runs once).
for (const [tier, threshold, engine] of CPU_TIERS.slice(0, 3)) test(`differential (${tier}): every instruction form matches qemu-i386 on random states`, (t) => {
  requireQemuUser();
  const forms = allForms();
  const cases = generateCases(forms, PER_FORM, SEED);
  const source = writeProgram(dir, 'differential', cases);
  const elf = buildProgram([source], join(dir, 'differential'));
  const expected = qemuUserRunner(elf);
  assert.equal(expected.status, 0, `qemu-i386 failed on the generated program: ${expected.stderr}`);
  assert.equal(expected.stdout.length, cases.length * DUMP_BYTES, 'qemu-i386 output length');
  let wasmStats = '';
  const actual = memvisorRunner(elf, [], 2e9, threshold, {
    engine,
    inspect: (p) => {
      const s = p.cpu.blocks.wasm?.stats;
      if (engine === 'js') assert.equal(p.cpu.blocks.wasm, null, 'JavaScript blocks: no WebAssembly tier');
      if (engine !== 'eager wasm') return;
      // The blocks ran translated: not one left as JavaScript, the dispatch loop entered.
      assert.ok(s !== undefined && s.translated > 1000 && s.refused === 0 && s.dispatches > 1000, `the WebAssembly tier: ${JSON.stringify(s)}`);
      wasmStats = `, ${s.translated} blocks translated into WebAssembly`;
    },
  });
  const mismatches: string[] = [];
  const failedForms = new Set<string>();
  const done = Math.floor(actual.stdout.length / DUMP_BYTES);
  for (let i = 0; i < done; i++) {
    const e = expected.stdout.subarray(i * DUMP_BYTES, (i + 1) * DUMP_BYTES);
    const a = actual.stdout.subarray(i * DUMP_BYTES, (i + 1) * DUMP_BYTES);
    const mask = ~cases[i]!.form.undefinedFlags;
    const sameRegs = e.subarray(0, 32).equals(a.subarray(0, 32));
    const sameFlags = ((e.readUInt32LE(32) ^ a.readUInt32LE(32)) & mask) === 0;
    const sameMem = e.subarray(36).equals(a.subarray(36));
    if (!(sameRegs && sameFlags && sameMem)) {
      failedForms.add(cases[i]!.form.name);
      if (mismatches.length < 25) mismatches.push(describeMismatch(cases[i]!, i, e, a));
    }
  }
  const codes = codesCovered(elf, cases.length);
  t.diagnostic(`${tier}: ${forms.length} instruction forms (${codes.size} distinct iced-x86 opcode codes), ${cases.length} random cases, seed ${SEED}`);
  t.diagnostic(`${failedForms.size} forms with mismatches${wasmStats}`);
  if (done < cases.length) {
    mismatches.push(`memvisor stopped after case ${done} of ${cases.length} (status ${actual.status}): ${actual.stderr.trim()}` +
      (cases[done] ? `\n  next case: ${cases[done]!.form.name}: ${cases[done]!.text}` : ''));
  }
  assert.deepEqual(mismatches, [], `mismatches against qemu-i386 (seed ${SEED}; reproduce with MEMVISOR_SEED=${SEED}):\n` +
    `forms: ${[...failedForms].join(', ')}\n${mismatches.join('\n')}`);
});
