/**
 * The block compiler's length decoder for the instructions it runs through the
 * interpreter (`harmlessLength` and its opcode tables in src/cpu/compile.ts) against
 * iced-x86: every one-byte and 0F opcode, behind no prefix, an operand-size, a segment or
 * a REP prefix, with every ModRM byte and, where a SIB byte follows, every SIB base (with
 * and without an index; scale and index never change a length). Wherever the compiler
 * claims a length for an instruction the CPU implements, iced must decode that length,
 * and an instruction that falls through. Encodings iced rejects, and instructions of
 * features the CPU lacks, raise #UD at their first byte whatever the length (the decoder
 * test checks that), so they are left out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harmlessLength } from '../../src/cpu/compile.js';
import { CODE_NAMES, cpuImplements, iced } from '../support/iced.js';

const { Decoder, DecoderOptions, FlowControl, Instruction } = iced;
const STREAM = 16;
const PAGE = 4096;
/** SIB bytes: each base, with no index (index 4) and with ECX scaled by 8. */
const SIBS = [0, 1, 2, 3, 4, 5, 6, 7].flatMap((base) => [(4 << 3) | base, (3 << 6) | (1 << 3) | base]);

test('harmlessLength agrees with iced-x86 on the length of every opcode and ModRM/SIB form it accepts', (t) => {
  const opcodes: number[][] = [];
  for (let op = 0; op < 256; op++) if (op !== 0x0f) opcodes.push([op]);
  for (let op = 0; op < 256; op++) opcodes.push([0x0f, op]);
  const prefixSets = [[], [0x66], [0x2e], [0xf3]];
  const page = new Uint8Array(PAGE);
  const instruction = new Instruction();
  const problems: string[] = [];
  let compared = 0, leftOut = 0;
  const opcodesAccepted = new Set<string>();
  for (const prefixes of prefixSets) {
    for (const opcode of opcodes) {
      const head = [...prefixes, ...opcode];
      // Every ModRM byte, and for a memory operand with a SIB byte each SIB form: one
      // stream each, STREAM bytes apart, pages at a time under one iced decoder.
      const forms: number[][] = [];
      for (let modrm = 0; modrm < 256; modrm++) {
        if (modrm >> 6 !== 3 && (modrm & 7) === 4) for (const sib of SIBS) forms.push([modrm, sib]);
        else forms.push([modrm]);
      }
      for (let from = 0; from < forms.length; from += PAGE / STREAM) {
        const batch = forms.slice(from, from + PAGE / STREAM);
        page.fill(0);
        batch.forEach((form, i) => { page.set(head, i * STREAM); page.set(form, i * STREAM + head.length); });
        const decoder = new Decoder(32, page, DecoderOptions.None);
        batch.forEach((form, i) => {
          const length = harmlessLength(page, i * STREAM);
          if (length < 0) return;
          opcodesAccepted.add(head.join(' '));
          decoder.position = i * STREAM;
          decoder.decodeOut(instruction);
          if (!cpuImplements(instruction)) { leftOut++; return; }
          compared++;
          if ((instruction.length === length && instruction.flowControl === FlowControl.Next) || problems.length >= 20) return;
          const hex = [...head, ...form].map((b) => b.toString(16).padStart(2, '0')).join(' ');
          const name = CODE_NAMES.get(instruction.code) ?? String(instruction.code);
          problems.push(instruction.length !== length
            ? `${hex} …: compiler length ${length}, iced ${instruction.length} (${name})`
            : `${hex} …: iced says ${name} transfers control`);
        });
        decoder.free();
      }
    }
  }
  instruction.free();
  t.diagnostic(`${opcodesAccepted.size} prefix+opcode combinations accepted by the compiler, ${compared} encodings compared ` +
    `with iced-x86 (${leftOut} that iced rejects or the CPU does not implement left out)`);
  assert.deepEqual(problems, []);
  assert.ok(compared > 100_000, `only ${compared} encodings compared`);
});
