/**
 * EFLAGS bits and the lazy-flag operation kinds. An ALU instruction records its
 * operation, operands and result (CPU.setLazy); the six arithmetic flags are computed
 * only when something reads them (CPU.getCF … materializeFlags). Operations whose flag
 * rules do not fit the add/sub/logic pattern (shifts, multiplies, adc/sbb) set the
 * flags eagerly (CPU.setArith).
 */
export const CF = 0x0001;
export const PF = 0x0004;
export const AF = 0x0010;
export const ZF = 0x0040;
export const SF = 0x0080;
export const TF = 0x0100;
export const IF = 0x0200;
export const DF = 0x0400;
export const OF = 0x0800;
export const IOPL = 0x3000;
export const NT = 0x4000;
export const RF = 0x10000;
export const VM = 0x20000;
export const AC = 0x40000;
export const ID = 0x200000;
export const ARITH_FLAGS = CF | PF | AF | ZF | SF | OF;

/** Lazy operation kinds. */
export const OP_NONE = 0;  // flags are already in the stored EFLAGS
export const OP_ADD = 1;
export const OP_SUB = 2;
export const OP_LOGIC = 3;
export const OP_INC = 4;   // like ADD with b = 1, CF kept
export const OP_DEC = 5;   // like SUB with b = 1, CF kept

/** Parity flag of the low byte: PF set when the number of one bits is even. */
const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let bits = 0;
  for (let b = i; b; b >>= 1) bits += b & 1;
  PARITY[i] = bits % 2 === 0 ? PF : 0;
}

export function parityOf(value: number): number {
  return PARITY[value & 0xff]!;
}

/** Value mask and sign bit by operand size in bytes (index 1, 2, 4), as int32. */
export const SIZE_MASK = [0, 0xff, 0xffff, 0, -1];
export const SIZE_SIGN = [0, 0x80, 0x8000, 0, -0x80000000];
