/**
 * EFLAGS bits and lazy arithmetic flags. An ALU instruction records its operation,
 * operands and result; the six arithmetic flags are computed only when something
 * reads them (a jcc, setcc, pushf, an interrupt). Operations whose flag rules do not
 * fit the add/sub/logic pattern (shifts, multiplies, adc/sbb) set the flags eagerly.
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

/** Sign bit and mask for an operand size in bytes. */
export function signBit(size: number): number {
  return size === 1 ? 0x80 : size === 2 ? 0x8000 : 0x80000000;
}

export function sizeMask(size: number): number {
  return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
}

/** ZF, SF and PF of a result. */
export function resultFlags(result: number, size: number): number {
  const masked = (result & sizeMask(size)) >>> 0;
  return (masked === 0 ? ZF : 0) | (masked & signBit(size) ? SF : 0) | parityOf(masked);
}

/**
 * The arithmetic flags of a recorded operation. `carryIn` is the CF to keep for
 * INC/DEC.
 */
export function computeArithFlags(op: number, a: number, b: number, result: number, size: number, carryIn: number): number {
  const mask = sizeMask(size);
  const sign = signBit(size);
  const ua = (a & mask) >>> 0;
  const ub = (b & mask) >>> 0;
  const ur = (result & mask) >>> 0;
  let flags = resultFlags(result, size);
  switch (op) {
    case OP_ADD:
      if (ur < ua) flags |= CF;
      if (((ua ^ ur) & (ub ^ ur) & sign) !== 0) flags |= OF;
      flags |= (ua ^ ub ^ ur) & AF;
      break;
    case OP_SUB:
      if (ua < ub) flags |= CF;
      if (((ua ^ ub) & (ua ^ ur) & sign) !== 0) flags |= OF;
      flags |= (ua ^ ub ^ ur) & AF;
      break;
    case OP_INC:
      flags |= carryIn & CF;
      if (ur === sign) flags |= OF;
      flags |= (ua ^ 1 ^ ur) & AF;
      break;
    case OP_DEC:
      flags |= carryIn & CF;
      if (ur === sign - 1) flags |= OF;
      flags |= (ua ^ 1 ^ ur) & AF;
      break;
    case OP_LOGIC:
      break;
  }
  return flags;
}
