/**
 * The x87 behaviour qemu-i386 does not model bit-exactly (see differential-x87.ts), checked
 * against the Intel SDM (vol. 1 ch. 8, vol. 2 instruction pages): each case starts from
 * FNINIT, runs a few instructions and dumps the FNSAVE image and EFLAGS; the expected
 * status word bits, ST(0) and flags are the SDM's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CPU_TIERS, buildProgram, memvisorRunner, scratch } from '../support/build.js';

const IE = 0x01, DE = 0x02, PE = 0x20, SF = 0x40, C0 = 0x100, C1 = 0x200, C2 = 0x400, C3 = 0x4000;
const RECORD = 112;

interface Case {
  name: string;
  /** Instructions after FNINIT; `data` is the case's 32 bytes of memory, `bytes` first. */
  text: string;
  bytes?: number[];
  /** Status-word bits compared (mask) and their expected values. */
  status: [mask: number, value: number];
  /** ST(0) as "signExp:significand" in hex, if checked. */
  st0?: string;
  /** EFLAGS bits compared and their values. */
  eflags?: [mask: number, value: number];
  /** The control word FNSTCW would read. */
  cw?: number;
}

const le = (v: bigint, n: number) => Array.from({ length: n }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
const f80 = (se: number, m: bigint) => [...le(m, 8), ...le(BigInt(se), 2)];

const CASES: Case[] = [
  // Precision control applies to the arithmetic only: a load of a double at single precision is exact.
  { name: 'fld m64 at single precision is exact', text: 'fldcw cw_single\n fldl data', bytes: le(0x3fd5555555555555n, 8),
    status: [PE | C1, 0], st0: '3ffd:aaaaaaaaaaaaa800' },
  { name: 'fadd at single precision rounds to 24 bits', text: 'fldcw cw_single\n fldl data\n fldz\n faddp', bytes: le(0x3fd5555555555555n, 8),
    status: [PE, PE], st0: '3ffd:aaaaab0000000000' },
  // C1 tells whether the rounding went up.
  { name: 'C1 set when 1/3 rounds up', text: 'fldcw cw_up\n fld1\n fidivl data', bytes: le(3n, 4), status: [PE | C1, PE | C1] },
  { name: 'C1 clear when 1/3 rounds down', text: 'fldcw cw_down\n fld1\n fidivl data', bytes: le(3n, 4), status: [PE | C1, PE] },
  // A denormal operand raises DE.
  { name: 'fadd of an extended denormal raises DE', text: 'fldt data\n fld1\n faddp', bytes: f80(0, 1n), status: [DE, DE] },
  { name: 'fld of a double denormal raises DE', text: 'fldl data', bytes: le(1n, 8), status: [DE, DE] },
  { name: 'fld of a normal number does not', text: 'fld1\n fld1\n faddp', status: [DE, 0] },
  // Stack faults: IE and SF, C1 = 1 on overflow, 0 on underflow; the result is the indefinite NaN.
  { name: 'a ninth push overflows the stack', text: 'fld1\n fld1\n fld1\n fld1\n fld1\n fld1\n fld1\n fld1\n fldz',
    status: [IE | SF | C1, IE | SF | C1], st0: 'ffff:c000000000000000' },
  { name: 'reading an empty register underflows the stack', text: 'fld1\n fadd %st(3), %st', status: [IE | SF | C1, IE | SF], st0: 'ffff:c000000000000000' },
  // FCOMI sets ZF, PF, CF and clears OF, SF, AF.
  { name: 'fcomi clears OF, SF and AF', text: 'pushl $0x8d5\n popfl\n fld1\n fldz\n fcomi %st(1), %st', status: [0, 0], eflags: [0x8d5, 0x01] },
  { name: 'fucomi of a NaN sets ZF, PF, CF', text: 'pushl $0x8d5\n popfl\n fld1\n fldt data\n fucomi %st(1), %st', bytes: f80(0x7fff, 0xc000000000000001n),
    status: [IE, 0], eflags: [0x8d5, 0x45] },
  // FPREM1's quotient bits: C0 = Q2, C3 = Q1, C1 = Q0 of the quotient rounded to nearest (here 0x503725fe).
  { name: 'fprem1 reports the low quotient bits', text: 'fldt data+10\n fldt data\n fprem1', bytes: [...f80(0x4027, 0x8000002054a7bd00n), ...f80(0xc008, 0xcc40000000000000n)],
    status: [C0 | C1 | C2 | C3, C0 | C3] },
  // Bit 6 of the control word reads as 1.
  { name: 'fldcw keeps bit 6 set', text: 'fldcw data', bytes: [0x3f, 0x03], status: [0, 0], cw: 0x037f },
];

function source(): string {
  const lines = ['.text', '.globl _start', '_start:'];
  CASES.forEach((c, i) => {
    lines.push(`  fninit`, `  ${c.text.replaceAll('data', `data_${i}`)}`, `  call dump`);
  });
  lines.push(`  mov $1, %eax`, `  xor %ebx, %ebx`, `  int $0x80`,
    `dump: fnsave record`, `  pushfl`, `  popl record+108`, `  mov $4, %eax`, `  mov $1, %ebx`, `  mov $record, %ecx`, `  mov $${RECORD}, %edx`, `  int $0x80`, `  ret`,
    `.data`, `cw_single: .word 0x007f`, `cw_up: .word 0x0b7f`, `cw_down: .word 0x077f`, `record: .space ${RECORD}`);
  CASES.forEach((c, i) => {
    const bytes = [...(c.bytes ?? [])];
    while (bytes.length < 32) bytes.push(0);
    lines.push(`data_${i}: .byte ${bytes.join(',')}`);
  });
  return lines.join('\n') + '\n';
}

const dir = scratch('x87');
const src = join(dir, 'x87.S');
writeFileSync(src, source());
const elf = buildProgram([src], join(dir, 'x87'));

for (const [tier, threshold, engine] of CPU_TIERS) test(`x87 (${tier}): what QEMU does not model, against the SDM`, () => {
  const run = memvisorRunner(elf, [], 1e7, threshold, { engine });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.length, CASES.length * RECORD, run.stderr);
  const problems: string[] = [];
  CASES.forEach((c, i) => {
    const r = run.stdout.subarray(i * RECORD, (i + 1) * RECORD);
    const sw = r.readUInt16LE(4), cw = r.readUInt16LE(0);
    if ((sw & c.status[0]) !== c.status[1]) problems.push(`${c.name}: status word ${sw.toString(16)}, want bits ${c.status[1].toString(16)} of ${c.status[0].toString(16)}`);
    const top = (sw >> 11) & 7;
    const st0 = `${r.readUInt16LE(36).toString(16).padStart(4, '0')}:${r.readBigUInt64LE(28).toString(16).padStart(16, '0')}`;
    if (c.st0 !== undefined && st0 !== c.st0) problems.push(`${c.name}: st(0) ${st0}, want ${c.st0} (top ${top})`);
    const flags = r.readUInt32LE(108);
    if (c.eflags && (flags & c.eflags[0]) !== c.eflags[1]) problems.push(`${c.name}: eflags ${flags.toString(16)}, want bits ${c.eflags[1].toString(16)} of ${c.eflags[0].toString(16)}`);
    if (c.cw !== undefined && cw !== c.cw) problems.push(`${c.name}: control word ${cw.toString(16)}, want ${c.cw.toString(16)}`);
  });
  assert.deepEqual(problems, []);
});
