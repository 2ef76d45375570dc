/**
 * The one place the translator loads iced-x86 (CommonJS + wasm). Everything wasm-backed
 * it hands out must be `.free()`d by its owner: the package has no FinalizationRegistry.
 */
import { createRequire } from 'node:module';
import type * as Iced from 'iced-x86';

// Loaded with require, not import: an ES import of a CommonJS file first scans its source for
// export names, and this one is 0.9 MB (about 0.2 s of every `memvisor translate`'s start).
const iced = createRequire(import.meta.url)('iced-x86') as typeof Iced;

export const {
  Code, Decoder, DecoderOptions, Encoder, Formatter, FormatterSyntax, FlowControl, Instruction,
  InstructionInfoFactory, MemoryOperand, MemorySize, MemorySizeExt, Mnemonic, OpAccess, OpKind,
  Register, RegisterExt, RepPrefixKind,
} = iced;
export type Instruction = Iced.Instruction;
export type Decoder = Iced.Decoder;
export type Encoder = Iced.Encoder;
export type Formatter = Iced.Formatter;
export type MemoryOperand = Iced.MemoryOperand;
export type InstructionInfoFactory = Iced.InstructionInfoFactory;

/** The 32-bit general registers, in encoding order, and their byte/word sub-registers. */
export const GPR32 = [Register.EAX, Register.ECX, Register.EDX, Register.EBX, Register.ESP, Register.EBP, Register.ESI, Register.EDI];
export const GPR16 = [Register.AX, Register.CX, Register.DX, Register.BX, Register.SP, Register.BP, Register.SI, Register.DI];
export const GPR8 = [Register.AL, Register.CL, Register.DL, Register.BL];

/** The sub-register of `reg32` (EAX..EBX for bytes) holding `size` bytes. */
export function subRegister(reg32: number, size: number): number {
  const n = GPR32.indexOf(reg32);
  if (size === 4) return reg32;
  if (size === 2) return GPR16[n]!;
  if (size === 1 && n < 4) return GPR8[n]!;
  throw new Error(`internal error: no ${size}-byte part of register ${reg32}`);
}

/** Full 32-bit register of any GPR part, or Register.None for non-GPRs. */
export function fullGpr32(reg: number): number {
  if (reg === Register.None) return Register.None;
  const full = RegisterExt.fullRegister32(reg);
  return GPR32.includes(full) ? full : Register.None;
}

const gasFormatter = new Formatter(FormatterSyntax.Gas);
/** AT&T syntax, as objdump prints it. */
export function disassemble(instruction: Instruction): string {
  return gasFormatter.format(instruction);
}
