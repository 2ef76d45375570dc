/**
 * The CPU's instruction decoding against iced-x86 on random byte streams, in 32- and
 * 16-bit code segments. For every stream the CPU executes one instruction:
 *  - if iced-x86 rejects the bytes, the CPU must raise #UD;
 *  - if iced-x86 accepts an instruction of a feature the CPU supports, the CPU must not
 *    raise #UD, and when it falls through, EIP must advance by iced's length;
 *  - for a ModRM memory operand, the CPU's effective address (segment base included;
 *    every segment has a different base) must equal the one computed from iced's
 *    decoded base, index, scale, displacement and segment.
 * Seeded: MEMVISOR_SEED reproduces a run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CPU, PhysicalMemory, DESC_ACCESSED, DESC_CODE, DESC_PRESENT, DESC_RW, DESC_S, CR0_PE, CR0_ET } from '../../src/cpu/index.js';
import { SeededRandom } from '../../src/faults/random.js';
import { CODE_NAMES, cpuImplements, iced } from '../support/iced.js';

const { Decoder, DecoderOptions, Code, FlowControl, OpKind, Register } = iced;
const SEED = Number(process.env.MEMVISOR_SEED ?? 20261125);
const CASES = Number(process.env.MEMVISOR_DECODER_CASES ?? 100000);

/** Instructions whose memory address the CPU legitimately computes differently from the plain ModRM sum. */
const EA_EXEMPT = /^(Bt|Bts|Btr|Btc)_rm(16|32)_r|^Pop_rm/;

const SEG_BASES = [0x100, 0, 0x200, 0x300, 0x400, 0x500]; // ES CS SS DS FS GS
const REG32 = [Register.EAX, Register.ECX, Register.EDX, Register.EBX, Register.ESP, Register.EBP, Register.ESI, Register.EDI];
const REG16 = [Register.AX, Register.CX, Register.DX, Register.BX, Register.SP, Register.BP, Register.SI, Register.DI];
const SEGS = [Register.ES, Register.CS, Register.SS, Register.DS, Register.FS, Register.GS];
const CODE_AT = 0x80000;

class NoIo {
  read(): number { return 0xffffffff; }
  write(): void {}
}

function registerValue(regs: Int32Array, r: number): number {
  if (r === Register.None) return 0;
  let i = REG32.indexOf(r);
  if (i >= 0) return regs[i]!;
  i = REG16.indexOf(r);
  if (i >= 0) return regs[i]! & 0xffff;
  throw new Error(`unexpected address register ${r}`);
}

test('decoder: the CPU agrees with iced-x86 on validity, length and effective address of random byte streams', (t) => {
  const rng = new SeededRandom(SEED);
  const mem = new PhysicalMemory(1 << 20);
  const cpu = new CPU(mem, new NoIo());
  let vector = -1;
  cpu.exceptionHook = (v) => { vector = v; return true; };
  cpu.softwareInterruptListeners.add(0, 'decoder test', (v) => { vector = 0x100 + v; return true; });
  const counts = { cases: 0, lengths: 0, addresses: 0, undefinedAgreed: 0, unsupportedFeature: 0, otherExceptions: 0, transfers: 0 };
  const codes = new Set<number>();
  const problems: string[] = [];
  const bytes = new Uint8Array(16);
  const prefixes = [0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65];
  for (let n = 0; n < CASES; n++) {
    const bits = n % 4 === 3 ? 16 : 32;
    for (let i = 0; i < 16; i++) bytes[i] = rng.nextBelow(256);
    let at = 0;
    const style = rng.nextBelow(8);
    if (style < 2) bytes[at++] = prefixes[rng.nextBelow(prefixes.length)]!;
    if (style === 0) bytes[at++] = prefixes[rng.nextBelow(prefixes.length)]!;
    if (style >= 2 && style < 5) bytes[at] = 0x0f;
    // Reset the processor: protected mode, paging off, CPL 0, every segment a different base.
    cpu.reset();
    cpu.setCr0(CR0_PE | CR0_ET);
    for (let s = 0; s < 6; s++) {
      const access = DESC_PRESENT | DESC_S | DESC_RW | DESC_ACCESSED | (s === 1 ? DESC_CODE : 0);
      cpu.setSegmentCache(s, 8 * (s + 1), SEG_BASES[s]!, -1, access, bits === 32 ? 1 : 0);
    }
    cpu.setCpl(0);
    for (let r = 0; r < 8; r++) cpu.reg[r] = 0x1000 + rng.nextBelow(0x4000);
    cpu.setEflags(2 | (rng.nextUint32() & 0x8d5));
    cpu.eip = CODE_AT;
    mem.ram.set(bytes, CODE_AT);
    cpu.rmReg = 99;
    const before = Int32Array.from(cpu.reg);
    vector = -1;
    const decoder = new Decoder(bits, bytes, DecoderOptions.None);
    decoder.ip = BigInt(CODE_AT);
    const insn = decoder.decode();
    cpu.run(1);
    // A repeated string instruction does at most 4,096 elements as one instruction and then
    // stops on itself (the count here can reach 0x5000): run the chunks to its end.
    if (insn.isStringInstruction && (insn.hasRepPrefix || insn.hasRepnePrefix)) {
      for (let chunk = 0; chunk < 8 && cpu.eip === CODE_AT && vector < 0; chunk++) cpu.run(1);
    }
    const code = insn.code, name = CODE_NAMES.get(code) ?? String(code);
    const supported = cpuImplements(insn);
    const hex = Array.from(bytes.subarray(0, Math.max(insn.length, 1) + 2), (b) => b.toString(16).padStart(2, '0')).join(' ');
    const where = `${bits}-bit code, bytes ${hex} (iced: ${name}, length ${insn.length}; case ${n}, seed ${SEED})`;
    counts.cases++;
    if (code === Code.INVALID) {
      if (vector === 6) counts.undefinedAgreed++;
      else if (problems.length < 30) problems.push(`CPU accepted bytes iced-x86 rejects: ${where}${vector >= 0 ? ` (raised vector ${vector})` : ''}`);
    } else if (!supported) {
      counts.unsupportedFeature++;
    } else if (vector === 6) {
      if (insn.flowControl !== FlowControl.Exception && problems.length < 30) problems.push(`CPU raised #UD on a supported instruction: ${where}`);
    } else if (vector >= 0) {
      counts.otherExceptions++;
    } else {
      codes.add(code);
      if (insn.flowControl === FlowControl.Next) {
        const advanced = (cpu.eip - CODE_AT) >>> 0;
        if (advanced === insn.length) counts.lengths++;
        else if (problems.length < 30) problems.push(`length: CPU advanced ${advanced}, ${where}`);
      } else counts.transfers++;
      if (cpu.rmReg === -1 && !EA_EXEMPT.test(name)) {
        for (let op = 0; op < insn.opCount; op++) {
          if (insn.opKind(op) !== OpKind.Memory) continue;
          let offset = registerValue(before, insn.memoryBase) + registerValue(before, insn.memoryIndex) * insn.memoryIndexScale +
            Number(BigInt.asIntN(32, insn.memoryDisplacement));
          offset = insn.memoryDisplSize === 2 || REG16.includes(insn.memoryBase) || REG16.includes(insn.memoryIndex) || (bits === 16 && insn.memoryBase === Register.None && insn.memoryDisplSize <= 2)
            ? offset & 0xffff : offset | 0;
          const expected = (SEG_BASES[SEGS.indexOf(insn.memorySegment)]! + offset) | 0;
          if (expected === cpu.ea) counts.addresses++;
          else if (problems.length < 30) problems.push(`effective address: CPU 0x${(cpu.ea >>> 0).toString(16)}, iced 0x${(expected >>> 0).toString(16)}: ${where}`);
        }
      }
    }
    insn.free();
    decoder.free();
  }
  t.diagnostic(`${counts.cases} random streams (seed ${SEED}): ${codes.size} distinct instruction codes executed; ` +
    `${counts.lengths} lengths and ${counts.addresses} effective addresses compared; ${counts.undefinedAgreed} invalid encodings ` +
    `raised #UD; ${counts.unsupportedFeature} instructions of unsupported features (SSE, …); ${counts.otherExceptions} faulted; ` +
    `${counts.transfers} control transfers`);
  assert.deepEqual(problems, []);
  assert.ok(counts.lengths > CASES / 4, 'a good share of streams compared lengths');
  assert.ok(counts.addresses > CASES / 10, 'a good share of streams compared effective addresses');
});
