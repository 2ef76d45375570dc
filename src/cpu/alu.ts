/**
 * Arithmetic shared by the one-byte and 0F maps: the eight ALU operations, shifts and
 * rotates, multiply and divide. Results are returned unmasked-int32; callers write them
 * back with the operand size. Flags go through the CPU's lazy state where the rule is
 * add/sub/logic-shaped, and are set eagerly otherwise.
 */
import type { CPU } from './cpu.js';
import { AF, CF, OF, OP_ADD, OP_DEC, OP_INC, OP_LOGIC, OP_SUB, SF, ZF, SIZE_MASK, SIZE_SIGN, parityOf } from './flags.js';
import { EAX, EDX, VEC_DE } from './state.js';

export const BITS = [0, 8, 16, 0, 32];

/** Sign-extends the low `size` bytes of v to int32. */
export function sext(v: number, size: number): number {
  return size === 4 ? v | 0 : size === 2 ? (v << 16) >> 16 : (v << 24) >> 24;
}

/** ZF, SF, PF of a result. */
export function szp(r: number, size: number): number {
  const m = r & SIZE_MASK[size]!;
  return (m === 0 ? ZF : 0) | (m & SIZE_SIGN[size]! ? SF : 0) | parityOf(m);
}

/** ADD OR ADC SBB AND SUB XOR CMP, by the opcode's reg-field number. */
export function alu(c: CPU, kind: number, a: number, b: number, size: number): number {
  let r: number;
  switch (kind) {
    case 0: r = (a + b) | 0; c.setLazy(OP_ADD, a, b, r, size); return r;
    case 1: r = a | b; c.setLazy(OP_LOGIC, a, b, r, size); return r;
    case 2: return adc(c, a, b, size);
    case 3: return sbb(c, a, b, size);
    case 4: r = a & b; c.setLazy(OP_LOGIC, a, b, r, size); return r;
    case 6: r = a ^ b; c.setLazy(OP_LOGIC, a, b, r, size); return r;
    default: r = (a - b) | 0; c.setLazy(OP_SUB, a, b, r, size); return r;
  }
}

function adc(c: CPU, a: number, b: number, size: number): number {
  const cin = c.getCF();
  const r = (a + b + cin) | 0;
  c.setArith(adcFlags(a, b, r, cin, size));
  return r;
}

function sbb(c: CPU, a: number, b: number, size: number): number {
  const cin = c.getCF();
  const r = (a - b - cin) | 0;
  c.setArith(sbbFlags(a, b, r, cin, size));
  return r;
}

/** The arithmetic flags of r = a + b + cin (ADC), for setArith. */
export function adcFlags(a: number, b: number, r: number, cin: number, size: number): number {
  const m = SIZE_MASK[size]!;
  const ua = (a & m) >>> 0, ur = (r & m) >>> 0;
  const cf = cin ? ur <= ua : ur < ua;
  return szp(r, size) | (cf ? CF : 0) | (((a ^ r) & (b ^ r) & SIZE_SIGN[size]!) !== 0 ? OF : 0) | ((a ^ b ^ r) & AF);
}

/** The arithmetic flags of r = a - b - cin (SBB), for setArith. */
export function sbbFlags(a: number, b: number, r: number, cin: number, size: number): number {
  const m = SIZE_MASK[size]!;
  const ua = (a & m) >>> 0, ub = (b & m) >>> 0;
  const cf = cin ? ua <= ub : ua < ub;
  return szp(r, size) | (cf ? CF : 0) | (((a ^ b) & (a ^ r) & SIZE_SIGN[size]!) !== 0 ? OF : 0) | ((a ^ b ^ r) & AF);
}

export function inc(c: CPU, a: number, size: number): number {
  const cf = c.getCF();
  const r = (a + 1) | 0;
  c.setLazy(OP_INC, a, 1, r, size);
  c.lfCarry = cf;
  return r;
}

export function dec(c: CPU, a: number, size: number): number {
  const cf = c.getCF();
  const r = (a - 1) | 0;
  c.setLazy(OP_DEC, a, 1, r, size);
  c.lfCarry = cf;
  return r;
}

/**
 * ROL ROR RCL RCR SHL SHR SAL SAR by the reg field. A masked count of zero changes
 * nothing (the caller still writes back the unchanged value). Flags the architecture
 * leaves undefined (OF for counts > 1, AF) follow QEMU's choices.
 */
export function shift(c: CPU, kind: number, a: number, count: number, size: number): number {
  count &= 0x1f;
  if (count === 0) return a;
  const bits = BITS[size]!, m = SIZE_MASK[size]!, sign = SIZE_SIGN[size]!;
  const ua = (a & m) >>> 0;
  let r: number, cf: number, of: boolean;
  switch (kind) {
    case 0: { // ROL
      const n = count % bits;
      r = n === 0 ? ua : ((ua << n) | (ua >>> (bits - n))) & m;
      cf = r & 1;
      of = ((r & sign) !== 0) !== (cf !== 0);
      c.materializeFlags();
      c.flags = (c.flags & ~(CF | OF)) | cf | (of ? OF : 0);
      return r;
    }
    case 1: { // ROR
      const n = count % bits;
      r = n === 0 ? ua : ((ua >>> n) | (ua << (bits - n))) & m;
      cf = (r & sign) !== 0 ? 1 : 0;
      of = ((r & sign) !== 0) !== ((r & (sign >>> 1)) !== 0);
      c.materializeFlags();
      c.flags = (c.flags & ~(CF | OF)) | cf | (of ? OF : 0);
      return r;
    }
    case 2: { // RCL: rotate bits+1 wide through CF
      const n = count % (bits + 1);
      let v = ua, carry = c.getCF();
      for (let i = 0; i < n; i++) {
        const out = (v & sign) !== 0 ? 1 : 0;
        v = ((v << 1) | carry) & m;
        carry = out;
      }
      r = v >>> 0;
      of = ((r & sign) !== 0) !== (carry !== 0);
      c.materializeFlags();
      c.flags = (c.flags & ~(CF | OF)) | carry | (of ? OF : 0);
      return r;
    }
    case 3: { // RCR
      const n = count % (bits + 1);
      let v = ua, carry = c.getCF();
      for (let i = 0; i < n; i++) {
        const out = v & 1;
        v = ((v >>> 1) | (carry ? sign : 0)) & m;
        carry = out;
      }
      r = v >>> 0;
      of = ((r & sign) !== 0) !== ((r & (sign >>> 1)) !== 0);
      c.materializeFlags();
      c.flags = (c.flags & ~(CF | OF)) | carry | (of ? OF : 0);
      return r;
    }
    case 4: case 6: { // SHL/SAL
      r = count >= 32 ? 0 : (ua << count) & m;
      cf = count <= bits ? (count === 32 ? ua & 1 : (ua >>> (bits - count)) & 1) : 0;
      of = ((r & sign) !== 0) !== (cf !== 0);
      break;
    }
    case 5: { // SHR
      r = count >= 32 ? 0 : ua >>> count;
      cf = count <= bits ? (ua >>> (count - 1)) & 1 : 0;
      of = (ua & sign) !== 0;
      break;
    }
    default: { // SAR
      const sa = sext(a, size);
      r = (count >= bits ? sa >> (bits - 1) : sa >> count) & m;
      cf = (count >= bits ? sa >> (bits - 1) : sa >> (count - 1)) & 1;
      of = false;
      break;
    }
  }
  c.setArith(szp(r, size) | cf | (of ? OF : 0));
  return r;
}

/** SHLD (left = true) / SHRD: shifts `a` with bits from `b`. */
export function doubleShift(c: CPU, left: boolean, a: number, b: number, count: number, size: number): number {
  count &= 0x1f;
  if (count === 0) return a;
  const m = SIZE_MASK[size]!, sign = SIZE_SIGN[size]!;
  const ua = (a & m) >>> 0, ub = (b & m) >>> 0;
  let r: number, cf: number;
  if (size === 4) {
    if (left) {
      r = ((ua << count) | (ub >>> (32 - count))) | 0;
      cf = (ua >>> (32 - count)) & 1;
    } else {
      r = ((ua >>> count) | (ub << (32 - count))) | 0;
      cf = (ua >>> (count - 1)) & 1;
    }
  } else {
    // 16-bit: the 48-bit value A:B:A (Intel's result for counts above 16, as QEMU does).
    const w = ua * 0x100000000 + ub * 0x10000 + ua;
    const bitsOf = (shiftRight: number) => Math.floor(w / 2 ** shiftRight);
    if (left) {
      r = bitsOf(32 - count) & 0xffff;
      cf = bitsOf(48 - count) & 1;
    } else {
      r = bitsOf(count) & 0xffff;
      cf = bitsOf(count - 1) & 1;
    }
  }
  const of = ((r ^ a) & sign) !== 0;
  c.setArith(szp(r, size) | cf | (of ? OF : 0));
  return r;
}

/** Unsigned 32 × 32 → 64: [low, high] as int32. */
export function mulu32(a: number, b: number): [number, number] {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const lo = a0 * b0, m1 = a1 * b0, m2 = a0 * b1, hi = a1 * b1;
  const t = (lo >>> 16) + (m1 & 0xffff) + (m2 & 0xffff);
  const low = ((t & 0xffff) << 16) | (lo & 0xffff);
  const high = hi + Math.floor(m1 / 0x10000) + Math.floor(m2 / 0x10000) + Math.floor(t / 0x10000);
  return [low | 0, high | 0];
}

/** Signed 32 × 32 → 64. */
export function muls32(a: number, b: number): [number, number] {
  const [low, high] = mulu32(a, b);
  let h = high;
  if (a < 0) h -= b;
  if (b < 0) h -= a;
  return [low, h | 0];
}

/** MUL (signed = false) / IMUL with one operand: the accumulator form. */
export function mulAcc(c: CPU, src: number, size: number, signed: boolean): void {
  const reg = c.reg;
  let over: boolean, low: number;
  if (size === 1) {
    const al = reg[EAX]! & 0xff;
    const p = signed ? sext(al, 1) * sext(src, 1) : al * (src & 0xff);
    c.setReg16(EAX, p);
    over = signed ? sext(p, 1) !== p : (p & 0xff00) !== 0;
    low = p;
  } else if (size === 2) {
    const ax = reg[EAX]! & 0xffff;
    const p = signed ? sext(ax, 2) * sext(src, 2) : ax * (src & 0xffff);
    c.setReg16(EAX, p);
    c.setReg16(EDX, p >> 16);
    over = signed ? sext(p, 2) !== p : (p & 0xffff0000) !== 0;
    low = p;
  } else {
    const [lo, hi] = signed ? muls32(reg[EAX]!, src) : mulu32(reg[EAX]!, src);
    reg[EAX] = lo;
    reg[EDX] = hi;
    over = signed ? hi !== lo >> 31 : hi !== 0;
    low = lo;
  }
  c.setArith(szp(low, size) | (over ? CF | OF : 0));
}

/** IMUL with two or three operands: truncated product, CF = OF = overflow. */
export function imulTrunc(c: CPU, a: number, b: number, size: number): number {
  if (size === 4) {
    const r = Math.imul(a, b);
    c.setArith(imul32Flags(a, b, r));
    return r;
  }
  const p = sext(a, 2) * sext(b, 2);
  const r = p & 0xffff;
  c.setArith(szp(r, size) | (sext(p, 2) !== p ? CF | OF : 0));
  return r;
}

/** The flags of r = Math.imul(a, b) (32-bit IMUL truncated): CF and OF when the product does not fit. */
export function imul32Flags(a: number, b: number, r: number): number {
  return szp(r, 4) | ((a | 0) * (b | 0) !== r ? CF | OF : 0);
}

/** DIV / IDIV of the accumulator (AX, DX:AX, EDX:EAX) by `src`. #DE on zero or overflow. */
export function divAcc(c: CPU, src: number, size: number, signed: boolean): void {
  const reg = c.reg;
  if (size === 1) {
    const d = signed ? sext(src, 1) : src & 0xff;
    if (d === 0) c.raise(VEC_DE);
    const n = signed ? sext(reg[EAX]!, 2) : reg[EAX]! & 0xffff;
    const q = Math.trunc(n / d), rem = n - q * d;
    if (signed ? q < -128 || q > 127 : q > 0xff) c.raise(VEC_DE);
    c.setReg16(EAX, (q & 0xff) | ((rem & 0xff) << 8));
    return;
  }
  if (size === 2) {
    const d = signed ? sext(src, 2) : src & 0xffff;
    if (d === 0) c.raise(VEC_DE);
    const raw = ((reg[EDX]! & 0xffff) << 16) | (reg[EAX]! & 0xffff);
    const n = signed ? raw | 0 : raw >>> 0;
    const q = Math.trunc(n / d), rem = n - q * d;
    if (signed ? q < -32768 || q > 32767 : q > 0xffff) c.raise(VEC_DE);
    c.setReg16(EAX, q);
    c.setReg16(EDX, rem);
    return;
  }
  const hi = reg[EDX]!, lo = reg[EAX]!;
  if (signed) {
    const d = src | 0;
    if (d === 0) c.raise(VEC_DE);
    if (hi === lo >> 31) {
      const q = Math.trunc(lo / d);
      if (q > 0x7fffffff) c.raise(VEC_DE); // -2^31 / -1
      reg[EAX] = q;
      reg[EDX] = lo - q * d;
      return;
    }
    // |dividend| / |divisor| unsigned, then the signs: the quotient truncates toward zero
    // and the remainder takes the dividend's sign.
    const negative = hi < 0;
    let mh = hi >>> 0, ml = lo >>> 0;
    if (negative) {
      mh = ml === 0 ? (-mh >>> 0) : (~mh >>> 0);
      ml = ml === 0 ? 0 : 0x100000000 - ml;
    }
    const md = Math.abs(d);
    if (mh >= md) c.raise(VEC_DE); // |quotient| >= 2^32
    divide64(mh, ml, md);
    const q = negative !== d < 0 ? -QR[0]! : QR[0]!;
    if (q < -0x80000000 || q > 0x7fffffff) c.raise(VEC_DE);
    reg[EAX] = q;
    reg[EDX] = negative ? -QR[1]! : QR[1]!;
    return;
  }
  const d = src >>> 0;
  if (d === 0) c.raise(VEC_DE);
  if (hi === 0) {
    const n = lo >>> 0;
    reg[EAX] = Math.floor(n / d);
    reg[EDX] = n % d;
    return;
  }
  if (hi >>> 0 >= d) c.raise(VEC_DE);
  divide64(hi >>> 0, lo >>> 0, d);
  reg[EAX] = QR[0]!;
  reg[EDX] = QR[1]!;
}

/** divide64's quotient and remainder (in a typed array: a module variable holding a double would box it). */
const QR = new Float64Array(2);

/**
 * (hi * 2^32 + lo) / d for unsigned 32-bit values with hi < d (so the quotient fits in 32
 * bits), exactly, in doubles: long division by 16-bit digits. Each partial dividend is
 * below d * 2^16 < 2^48 and each digit below 2^16; the true quotient is at least 1/d
 * (>= 2^-32) below the next integer, more than a double's spacing there (2^-36), so the
 * rounded quotient floors to the exact digit. (BigInt arithmetic did the same at 25 MB
 * of garbage per `bench mips` run.)
 */
function divide64(hi: number, lo: number, d: number): void {
  const n1 = hi * 65536 + (lo >>> 16);
  const q1 = Math.floor(n1 / d);
  const n2 = (n1 - q1 * d) * 65536 + (lo & 0xffff);
  const q2 = Math.floor(n2 / d);
  QR[0] = q1 * 65536 + q2;
  QR[1] = n2 - q2 * d;
}

