/**
 * The x87 floating-point unit: eight 80-bit registers as a stack, the control, status
 * and tag words, and the D8–DF instructions. Numbers and rounding are float80.ts; this
 * file is the machine around them: the stack (with its overflow and underflow faults),
 * the exception flags and condition codes, and the instruction table.
 *
 * Instruction facts are tables (MEMORY_FORMS, REGISTER_FORMS, SINGLE_FORMS below): one
 * mnemonic and operand kind per encoding, and one handler per mnemonic. Exceptions are
 * handled as with all of them masked (the default control word 0x037F): the flag is set
 * and the masked response (the indefinite NaN, infinity, a denormal) is the result. An
 * exception the control word unmasks sets ES and B, and the next waiting x87 instruction
 * raises #MF (vector 16) before it runs.
 *
 * fyl2x, fyl2xp1, f2xm1 and fpatan compute to far more than 64 bits and round once
 * (transcendental.ts); fsin, fcos, fsincos and fptan compute in JavaScript doubles and
 * round to the register: correct to about 53 bits, not the hardware's 64 (as QEMU's,
 * which calls the host's libm; see test/cpu/differential-x87.ts).
 */
import type { CPU } from './cpu.js';
import {
  DOUBLE, EXTENDED, FE_DENORMAL, FE_INEXACT, FE_INVALID, FE_ZERODIVIDE, INDEFINITE, Kind, type Num, RC_NEAREST, ROUNDED_UP, SINGLE,
  add, compare, divide, exponentOf, fromDouble, fromInteger, isDenormal80, isSignalingNaN, multiply, num, pack80, packIeee, propagateNaN,
  quiet, round, squareRoot, toDouble, toInteger, unpack80, unpackIeee, bitLength,
} from './float80.js';
import { type Approx, arctangent2, exp2Minus1, quarterTurns, yLog2X, yLog2XPlus1 } from './transcendental.js';
import { CF, OF, PF, SF, ZF, AF } from './flags.js';
import { CR0_EM, CR0_TS, CS, DS, EAX, VEC_MF, VEC_NM } from './state.js';

/** Status-word bits. */
const SW_STACK_FAULT = 0x40, SW_ES = 0x80, SW_C0 = 0x100, SW_C1 = 0x200, SW_C2 = 0x400, SW_C3 = 0x4000, SW_BUSY = 0x8000;
const SW_CONDITION = SW_C0 | SW_C1 | SW_C2 | SW_C3;
const EXCEPTIONS = 0x3f;
/** The status word's error summary: an unmasked exception is pending (#MF at the next waiting instruction). */
export const FPU_SW_ES = SW_ES;
/** FNINIT's control word: every exception masked, 64-bit precision, round to nearest. */
export const FPU_CONTROL_INIT = 0x037f;
const PRECISION_BITS = [24, 64, 53, 64];

/** The saved form of the x87 state (CPU snapshots). */
export interface X87State {
  cw: number; sw: number; top: number; empty: number; signExp: number[]; mant: string[];
  fip: number; fcs: number; fdp: number; fds: number; fop: number;
}

export class X87 {
  /** Physical registers R0–R7: sign and exponent, significand. */
  readonly signExp = new Uint16Array(8);
  readonly mant = new BigUint64Array(8);
  /** Bit i set: physical register i is empty. */
  empty = 0xff;
  top = 0;
  /** The status word without TOP (bits 11–13 are kept in `top`). */
  sw = 0;
  cw = 0x0040;
  /** Last instruction and operand pointers and opcode (FNSTENV, FNSAVE). */
  fip = 0; fcs = 0; fdp = 0; fds = 0; fop = 0;
  /** Exception flags and ROUNDED_UP raised by the instruction running. */
  flags = 0;

  /** Power-on state (FNINIT's, but for the control word: 0x0040). */
  reset(): void {
    this.init();
    this.cw = 0x0040;
  }

  /** FNINIT. */
  init(): void {
    this.cw = FPU_CONTROL_INIT;
    this.sw = 0;
    this.top = 0;
    this.empty = 0xff;
    this.fip = this.fcs = this.fdp = this.fds = this.fop = 0;
  }

  get statusWord(): number {
    return (this.sw & ~0x3800) | (this.top << 11);
  }

  set statusWord(v: number) {
    this.sw = v & ~0x3800 & 0xffff;
    this.top = (v >> 11) & 7;
  }

  /** The full tag word (valid 00, zero 01, special 10, empty 11), from the registers. */
  get tagWord(): number {
    let tags = 0;
    for (let r = 0; r < 8; r++) {
      let tag: number;
      if (this.empty & (1 << r)) tag = 3;
      else {
        const exp = this.signExp[r]! & 0x7fff, m = this.mant[r]!;
        if (exp === 0x7fff || (exp !== 0 && !(m >> 63n)) || (exp === 0 && m !== 0n)) tag = 2;
        else tag = exp === 0 ? 1 : 0;
      }
      tags |= tag << (r * 2);
    }
    return tags;
  }

  set tagWord(v: number) {
    this.empty = 0;
    for (let r = 0; r < 8; r++) if (((v >> (r * 2)) & 3) === 3) this.empty |= 1 << r;
  }

  get rc(): number {
    return (this.cw >> 10) & 3;
  }

  get precision(): number {
    return PRECISION_BITS[(this.cw >> 8) & 3]!;
  }

  phys(i: number): number {
    return (this.top + i) & 7;
  }

  isEmpty(i: number): boolean {
    return (this.empty & (1 << this.phys(i))) !== 0;
  }

  /** ST(i) unpacked; an unnormal is an invalid operand (the indefinite NaN, FE_INVALID); a denormal raises DE if `denormal`. */
  get(i: number, denormal = true): Num {
    const r = this.phys(i);
    const se = this.signExp[r]!, m = this.mant[r]!;
    const v = unpack80(se, m);
    if (!v) {
      this.flags |= FE_INVALID;
      return INDEFINITE;
    }
    if (denormal && isDenormal80(se, m)) this.flags |= FE_DENORMAL;
    return v;
  }

  /** Writes ST(i) (marking it in use). */
  set(i: number, v: Num): void {
    const r = this.phys(i);
    const [se, m] = pack80(v);
    this.signExp[r] = se;
    this.mant[r] = m;
    this.empty &= ~(1 << r);
  }

  /** Pushes a value; onto a full register, the masked stack-overflow response (the indefinite NaN). */
  push(v: Num): void {
    this.top = (this.top - 1) & 7;
    if (!(this.empty & (1 << this.top))) {
      this.stackFault(true);
      v = INDEFINITE;
    }
    this.set(0, v);
  }

  /** Pushes 80 bits as they are (fld m80, fld ST(i): no conversion, no exception). */
  pushRaw(signExp: number, mant: bigint): void {
    this.top = (this.top - 1) & 7;
    if (!(this.empty & (1 << this.top))) {
      this.stackFault(true);
      this.set(0, INDEFINITE);
      return;
    }
    this.signExp[this.top] = signExp;
    this.mant[this.top] = mant;
    this.empty &= ~(1 << this.top);
  }

  /** ST(to) ← ST(from), the bits as they are. */
  copyRegister(from: number, to: number): void {
    const a = this.phys(from), b = this.phys(to);
    this.signExp[b] = this.signExp[a]!;
    this.mant[b] = this.mant[a]!;
    this.empty &= ~(1 << b);
  }

  pop(): void {
    this.empty |= 1 << this.top;
    this.top = (this.top + 1) & 7;
  }

  /** Stack overflow (C1 = 1) or underflow (C1 = 0): an invalid operation with SF. */
  stackFault(overflow: boolean): void {
    this.flags |= FE_INVALID;
    this.sw = (this.sw | SW_STACK_FAULT) & ~SW_C1;
    if (overflow) this.sw |= SW_C1;
    this.conditionSet = true;
  }

  /** Set when the instruction chose C1 itself (stack faults, fxam): `finish` leaves it. */
  conditionSet = false;

  /** ST(i) for reading; an empty register is a stack underflow, read as the indefinite NaN. Stores and conversions pass `denormal` false (no DE). */
  operand(i: number, denormal = true): Num {
    if (this.isEmpty(i)) {
      this.stackFault(false);
      return INDEFINITE;
    }
    return this.get(i, denormal);
  }

  /** Ends an instruction: exception flags into the status word, C1 from rounding, ES/B if unmasked. */
  finish(setC1FromRounding: boolean): void {
    const raised = this.flags & EXCEPTIONS;
    if (!this.conditionSet && setC1FromRounding) {
      this.sw = (this.sw & ~SW_C1) | (this.flags & ROUNDED_UP ? SW_C1 : 0);
    }
    this.sw |= raised;
    if (this.sw & ~this.cw & EXCEPTIONS) this.sw |= SW_ES | SW_BUSY;
    else this.sw &= ~(SW_ES | SW_BUSY);
    this.flags = 0;
    this.conditionSet = false;
  }

  setConditions(c3: boolean, c2: boolean, c1: boolean, c0: boolean): void {
    this.sw = (this.sw & ~SW_CONDITION) | (c3 ? SW_C3 : 0) | (c2 ? SW_C2 : 0) | (c1 ? SW_C1 : 0) | (c0 ? SW_C0 : 0);
    this.conditionSet = true;
  }

  /** Accepts a rounded result's flags; returns its value. */
  take(r: { value: Num; flags: number }): Num {
    this.flags |= r.flags;
    return r.value;
  }

  save(): X87State {
    return {
      cw: this.cw, sw: this.sw, top: this.top, empty: this.empty, signExp: Array.from(this.signExp),
      mant: Array.from(this.mant, (m) => m.toString(16)), fip: this.fip, fcs: this.fcs, fdp: this.fdp, fds: this.fds, fop: this.fop,
    };
  }

  restore(s: X87State): void {
    this.cw = s.cw; this.sw = s.sw; this.top = s.top; this.empty = s.empty;
    this.signExp.set(s.signExp);
    s.mant.forEach((m, i) => { this.mant[i] = BigInt(`0x${m}`); });
    this.fip = s.fip; this.fcs = s.fcs; this.fdp = s.fdp; this.fds = s.fds; this.fop = s.fop;
  }
}

// ---------------------------------------------------------------- arithmetic with special cases

const enum Op { Add, Mul, Com, Comp, Sub, Subr, Div, Divr }

/** a op b with the x87's special cases (NaN, infinities, zeros) and rounding to the precision control. */
function arithmetic(f: X87, op: Op, a: Num, b: Num): Num {
  if (op === Op.Subr || op === Op.Divr) [a, b] = [b, a];
  if (a.kind === Kind.NaN || b.kind === Kind.NaN) return nanOperands(f, a, b);
  const rc = f.rc, bits = f.precision;
  switch (op) {
    case Op.Add: case Op.Sub: case Op.Subr: {
      if (op !== Op.Add) b = num(b.kind, b.sign ^ 1, b.m, b.e);
      if (a.kind === Kind.Inf || b.kind === Kind.Inf) {
        if (a.kind === Kind.Inf && b.kind === Kind.Inf && a.sign !== b.sign) return invalid(f);
        return a.kind === Kind.Inf ? a : b;
      }
      return f.take(add(a, b, EXTENDED, rc, bits));
    }
    case Op.Mul: {
      const sign = a.sign ^ b.sign;
      if (a.kind === Kind.Inf || b.kind === Kind.Inf) {
        if (a.kind === Kind.Zero || b.kind === Kind.Zero) return invalid(f);
        return num(Kind.Inf, sign);
      }
      return f.take(multiply(a, b, EXTENDED, rc, bits));
    }
    default: { // Div, Divr
      const sign = a.sign ^ b.sign;
      if (a.kind === Kind.Inf) return b.kind === Kind.Inf ? invalid(f) : num(Kind.Inf, sign);
      if (b.kind === Kind.Inf) return num(Kind.Zero, sign);
      if (b.kind === Kind.Zero) {
        if (a.kind === Kind.Zero) return invalid(f);
        f.flags |= FE_ZERODIVIDE;
        return num(Kind.Inf, sign);
      }
      return f.take(divide(a, b, EXTENDED, rc, bits));
    }
  }
}

function invalid(f: X87): Num {
  f.flags |= FE_INVALID;
  return INDEFINITE;
}

/** Compares for fcom/fucom/fcomi: -1, 0, 1, or 2 (unordered). `quietOnly`: only signaling NaNs are invalid. */
function compareValues(f: X87, a: Num, b: Num, quietOnly: boolean): number {
  if (a.kind === Kind.NaN || b.kind === Kind.NaN) {
    if (!quietOnly || isSignalingNaN(a) || isSignalingNaN(b)) f.flags |= FE_INVALID;
    return 2;
  }
  return compare(a, b);
}

function setCompareConditions(f: X87, r: number): void {
  f.setConditions(r === 0 || r === 2, r === 2, false, r === -1 || r === 2);
}

function setCompareEflags(c: CPU, r: number): void {
  c.materializeFlags();
  c.flags = (c.flags & ~(ZF | PF | CF | OF | SF | AF)) | (r === 0 || r === 2 ? ZF : 0) | (r === 2 ? PF : 0) | (r === -1 || r === 2 ? CF : 0);
}

// ---------------------------------------------------------------- memory operands

const enum Mem { F32, F64, F80, I16, I32, I64, Bcd, Word, Env, State }
const MEM_SIZES = [4, 8, 10, 2, 4, 8, 10, 2, 28, 108];

function readBytes(c: CPU, size: number): bigint {
  let v = 0n;
  for (let i = size - 4; i >= 0; i -= 4) v = (v << 32n) | BigInt(c.rd32((c.ea + i) | 0) >>> 0);
  return size === 10 ? ((BigInt(c.rd16((c.ea + 8) | 0)) << 64n) | (readBytes8(c))) : v;
}
function readBytes8(c: CPU): bigint {
  return (BigInt(c.rd32((c.ea + 4) | 0) >>> 0) << 32n) | BigInt(c.rd32(c.ea) >>> 0);
}

/** Reads a numeric memory operand as a value (loads and arithmetic). */
function loadOperand(f: X87, c: CPU, kind: Mem): Num {
  switch (kind) {
    case Mem.F32: { const r = unpackIeee(BigInt(c.rd32(c.ea) >>> 0), SINGLE); f.flags |= r.flags; return r.value; }
    case Mem.F64: { const r = unpackIeee(readBytes8(c), DOUBLE); f.flags |= r.flags; return r.value; }
    case Mem.F80: {
      const se = c.rd16((c.ea + 8) | 0), m = readBytes8(c);
      return unpack80(se, m) ?? (f.flags |= FE_INVALID, INDEFINITE);
    }
    case Mem.I16: return fromInteger(BigInt((c.rd16(c.ea) << 16) >> 16));
    case Mem.I32: return fromInteger(BigInt(c.rd32(c.ea)));
    case Mem.I64: return fromInteger(BigInt.asIntN(64, readBytes8(c)));
    default: { // packed BCD: 18 digits and a sign byte
      const raw = readBytes(c, 10);
      let v = 0n;
      for (let d = 17; d >= 0; d--) v = v * 10n + ((raw >> BigInt(d * 4)) & 0xfn);
      const value = fromInteger(v);
      return raw >> 79n ? num(value.kind, 1, value.m, value.e) : value;
    }
  }
}

function writeU64(c: CPU, at: number, v: bigint): void {
  c.wr32(at, Number(v & 0xffffffffn) | 0);
  c.wr32((at + 4) | 0, Number((v >> 32n) & 0xffffffffn) | 0);
}

/** Stores ST(0) to memory in `kind`'s format (every page probed first, so a fault leaves memory unchanged). */
function storeOperand(f: X87, c: CPU, kind: Mem, v: Num): void {
  c.probeWrite(c.ea, MEM_SIZES[kind]!);
  switch (kind) {
    case Mem.F32: { const r = packIeee(v, SINGLE, f.rc); f.flags |= r.flags; c.wr32(c.ea, Number(r.bits) | 0); return; }
    case Mem.F64: { const r = packIeee(v, DOUBLE, f.rc); f.flags |= r.flags; writeU64(c, c.ea, r.bits); return; }
    case Mem.F80: {
      const [se, m] = pack80(v);
      writeU64(c, c.ea, m);
      c.wr16((c.ea + 8) | 0, se);
      return;
    }
    case Mem.Bcd: {
      const i = integerFor(f, v, 18);
      let raw = 0n;
      if (i === null) raw = 0xffffn << 64n | 0xc000000000000000n; // the packed BCD indefinite
      else {
        let a = i < 0n ? -i : i;
        for (let d = 0; d < 18; d++) { raw |= (a % 10n) << BigInt(d * 4); a /= 10n; }
        if (i < 0n || (i === 0n && v.sign)) raw |= 1n << 79n;
      }
      writeU64(c, c.ea, raw & 0xffffffffffffffffn);
      c.wr16((c.ea + 8) | 0, Number(raw >> 64n));
      return;
    }
    default: { // I16, I32, I64
      const bits = kind === Mem.I16 ? 16 : kind === Mem.I32 ? 32 : 64;
      const i = integerFor(f, v, bits);
      const out = i === null ? -(1n << BigInt(bits - 1)) : i;
      if (bits === 16) c.wr16(c.ea, Number(BigInt.asUintN(16, out)));
      else if (bits === 32) c.wr32(c.ea, Number(BigInt.asIntN(32, out)));
      else writeU64(c, c.ea, BigInt.asUintN(64, out));
    }
  }
}

/** The integer a store gives, or null (invalid: NaN, infinity, out of range) for the integer indefinite. `bits` 18 = BCD digits. */
function integerFor(f: X87, v: Num, bits: number): bigint | null {
  if (v.kind === Kind.NaN || v.kind === Kind.Inf) {
    f.flags |= FE_INVALID;
    return null;
  }
  const r = toInteger(v, f.rc);
  const limit = bits === 18 ? 10n ** 18n - 1n : (1n << BigInt(bits - 1)) - 1n;
  const lowest = bits === 18 ? -limit : -limit - 1n;
  if (r.value > limit || r.value < lowest) {
    f.flags |= FE_INVALID;
    return null;
  }
  f.flags |= r.flags;
  return r.value;
}

// ---------------------------------------------------------------- environment (fnstenv/fldenv, fnsave/frstor)

function storeEnvironment(f: X87, c: CPU): void {
  const at = c.ea;
  const words = [0xffff0000 | f.cw, 0xffff0000 | f.statusWord, 0xffff0000 | f.tagWord, f.fip, (f.fop << 16) | (f.fcs & 0xffff), f.fdp, 0xffff0000 | f.fds];
  words.forEach((w, i) => c.wr32((at + i * 4) | 0, w | 0));
}

function loadEnvironment(f: X87, c: CPU): void {
  const at = c.ea;
  const w = [0, 1, 2, 3, 4, 5, 6].map((i) => c.rd32((at + i * 4) | 0));
  f.cw = w[0]! & 0xffff;
  f.statusWord = w[1]! & 0xffff;
  f.tagWord = w[2]! & 0xffff;
  f.fip = w[3]!; f.fcs = w[4]! & 0xffff; f.fop = (w[4]! >>> 16) & 0x7ff; f.fdp = w[5]!; f.fds = w[6]! & 0xffff;
  f.finish(false);
}

// ---------------------------------------------------------------- the instruction table

type Handler = (f: X87, c: CPU, x: number) => void;

interface Form {
  name: string;
  handler: Handler;
  /** Memory kind, or for register forms the ST(i) index comes from ModRM. */
  mem: Mem;
  /** FN* forms do not wait: a pending unmasked exception does not stop them. */
  noWait: boolean;
}

const ARITH_NAMES = ['add', 'mul', 'com', 'comp', 'sub', 'subr', 'div', 'divr'];

/** Memory forms by [opcode - 0xD8][ModRM.reg]: "mnemonic kind". */
const MEMORY_FORMS: string[][] = [
  ARITH_NAMES.map((n) => `f${n} f32`),
  ['fld f32', '', 'fst f32', 'fstp f32', 'fldenv env', 'fldcw word', 'fnstenv env', 'fnstcw word'],
  ARITH_NAMES.map((n) => `fi${n} i32`),
  ['fild i32', '', 'fist i32', 'fistp i32', '', 'fld f80', '', 'fstp f80'],
  ARITH_NAMES.map((n) => `f${n} f64`),
  ['fld f64', '', 'fst f64', 'fstp f64', 'frstor state', '', 'fnsave state', 'fnstsw word'],
  ARITH_NAMES.map((n) => `fi${n} i16`),
  ['fild i16', '', 'fist i16', 'fistp i16', 'fbld bcd', 'fild i64', 'fbstp bcd', 'fistp i64'],
];

/**
 * Register forms by [opcode - 0xD8][ModRM.reg], ST(i) from ModRM.rm; "#" = one instruction per ModRM byte (SINGLE_FORMS).
 * DC and DE write ST(i) and, as the SDM has it, swap sub/subr and div/divr relative to D8.
 */
const REGISTER_FORMS: string[][] = [
  ARITH_NAMES.map((n) => `f${n} st`),
  ['fld sti', 'fxch sti', '#', 'fstp sti', '#', '#', '#', '#'],
  ['fcmovb sti', 'fcmove sti', 'fcmovbe sti', 'fcmovu sti', '', '#', '', ''],
  ['fcmovnb sti', 'fcmovne sti', 'fcmovnbe sti', 'fcmovnu sti', '#', 'fucomi sti', 'fcomi sti', ''],
  ['fadd sti', 'fmul sti', 'fcom st', 'fcomp st', 'fsubr sti', 'fsub sti', 'fdivr sti', 'fdiv sti'],
  ['ffree sti', 'fxch sti', 'fst sti', 'fstp sti', 'fucom sti', 'fucomp sti', '', ''],
  ['faddp sti', 'fmulp sti', 'fcomp st', '#', 'fsubrp sti', 'fsubp sti', 'fdivrp sti', 'fdivp sti'],
  ['ffreep sti', 'fxch sti', 'fstp sti', 'fstp sti', '#', 'fucomip sti', 'fcomip sti', ''],
];

/** Register forms that are one instruction per ModRM byte, by (opcode << 8 | ModRM). */
const SINGLE_FORMS: Record<number, string> = {
  0xd9d0: 'fnop', 0xd9e0: 'fchs', 0xd9e1: 'fabs', 0xd9e4: 'ftst', 0xd9e5: 'fxam',
  0xd9e8: 'fld1', 0xd9e9: 'fldl2t', 0xd9ea: 'fldl2e', 0xd9eb: 'fldpi', 0xd9ec: 'fldlg2', 0xd9ed: 'fldln2', 0xd9ee: 'fldz',
  0xd9f0: 'f2xm1', 0xd9f1: 'fyl2x', 0xd9f2: 'fptan', 0xd9f3: 'fpatan', 0xd9f4: 'fxtract', 0xd9f5: 'fprem1', 0xd9f6: 'fdecstp', 0xd9f7: 'fincstp',
  0xd9f8: 'fprem', 0xd9f9: 'fyl2xp1', 0xd9fa: 'fsqrt', 0xd9fb: 'fsincos', 0xd9fc: 'frndint', 0xd9fd: 'fscale', 0xd9fe: 'fsin', 0xd9ff: 'fcos',
  0xdae9: 'fucompp', 0xdbe2: 'fnclex', 0xdbe3: 'fninit', 0xdbe0: 'fneni', 0xdbe1: 'fndisi', 0xdbe4: 'fnsetpm', 0xded9: 'fcompp', 0xdfe0: 'fnstsw ax',
};

const MEM_KINDS: Record<string, Mem> = { f32: Mem.F32, f64: Mem.F64, f80: Mem.F80, i16: Mem.I16, i32: Mem.I32, i64: Mem.I64, bcd: Mem.Bcd, word: Mem.Word, env: Mem.Env, state: Mem.State };

/** Constants (128 bits, truncated, plus a sticky bit below): rounded by RC when loaded, as the hardware's 66-bit constants are. */
const CONSTANTS: Record<string, Num> = {
  fld1: num(Kind.Finite, 0, 1n, 0),
  fldz: num(Kind.Zero, 0),
  fldpi: num(Kind.Finite, 0, (0xc90fdaa22168c234c4c6628b80dc1cd1n << 1n) | 1n, 1 - 128),
  fldl2e: num(Kind.Finite, 0, (0xb8aa3b295c17f0bbbe87fed0691d3e88n << 1n) | 1n, 0 - 128),
  fldl2t: num(Kind.Finite, 0, (0xd49a784bcd1b8afe492bf6ff4dafdb4cn << 1n) | 1n, 1 - 128),
  fldlg2: num(Kind.Finite, 0, (0x9a209a84fbcff7988f8959ac0b7c9178n << 1n) | 1n, -2 - 128),
  fldln2: num(Kind.Finite, 0, (0xb17217f7d1cf79abc9e3b39803f2f6afn << 1n) | 1n, -1 - 128),
};

/** ST(0) ← ST(0) op operand (D8, DA, DC, DE memory forms and D8 register forms); fcom/fcomp compare. */
function arithmeticForm(op: Op, fromMemory: boolean, destinationSti: boolean, popAfter: boolean): Handler {
  return (f, c, i) => {
    if (op === Op.Com || op === Op.Comp) {
      const a = f.operand(0), b = fromMemory ? loadOperand(f, c, memoryKind(i)) : f.operand(i);
      setCompareConditions(f, compareValues(f, a, b, false));
      if (op === Op.Comp) f.pop();
      return;
    }
    if (destinationSti) {
      // ST(i) ← ST(i) op ST(0)
      const a = f.operand(i), b = f.operand(0);
      f.set(i, arithmetic(f, op, a, b));
      if (popAfter) f.pop();
      return;
    }
    const b = fromMemory ? loadOperand(f, c, memoryKind(i)) : f.operand(i);
    const a = f.operand(0);
    f.set(0, arithmetic(f, op, a, b));
  };
}
/** Handlers get ST(i)'s index for register forms, and -1 - kind for memory forms. */
const memoryKind = (x: number): Mem => -1 - x;

const fcmov = (test: (c: CPU) => boolean): Handler => (f, c, i) => {
  if (f.isEmpty(i) || f.isEmpty(0)) f.stackFault(false);
  if (test(c)) f.copyRegister(i, 0);
};

function transcendental(f: X87, x: Num, fn: (v: number) => number): Num {
  if (x.kind === Kind.NaN) {
    if (isSignalingNaN(x)) f.flags |= FE_INVALID;
    return quiet(x);
  }
  const y = fn(toDouble(x));
  if (Number.isNaN(y)) return invalid(f);
  const v = fromDouble(y);
  if (v.kind !== Kind.Finite) return v;
  f.flags |= FE_INEXACT;
  return f.take(round(v.sign, v.m, v.e, EXTENDED, f.rc));
}

/** The result of an operation with a NaN operand: a signaling one raises invalid. */
function nanOperands(f: X87, a: Num, b: Num): Num {
  if (isSignalingNaN(a) || isSignalingNaN(b)) f.flags |= FE_INVALID;
  return propagateNaN(a, b);
}

/** fyl2x where x ≤ 0, x = +∞ or y is zero or infinite (the SDM's table): a zero, an infinity, or invalid. */
function log2Special(f: X87, x: Num, y: Num): Num {
  if (x.sign && x.kind !== Kind.Zero) return invalid(f);
  if (x.kind === Kind.Zero) {
    if (y.kind === Kind.Zero) return invalid(f);
    if (y.kind === Kind.Finite) f.flags |= FE_ZERODIVIDE;
    return num(Kind.Inf, y.sign ^ 1);
  }
  if (x.kind === Kind.Inf) return y.kind === Kind.Zero ? invalid(f) : num(Kind.Inf, y.sign);
  // x finite and positive: log2 x is negative below 1, zero at 1.
  const below = exponentOf(x) < 0 ? 1 : 0, one = exponentOf(x) === 0 && (x.m & (x.m - 1n)) === 0n;
  if (y.kind === Kind.Zero) return num(Kind.Zero, y.sign ^ below);
  return one ? invalid(f) : num(Kind.Inf, y.sign ^ below);
}

/** A result of transcendental.ts rounded to the register (a zero takes `zeroSign`). */
function precise(f: X87, a: Approx, zeroSign: number): Num {
  if (a.m === 0n) return num(Kind.Zero, zeroSign);
  return f.take(round(a.m < 0n ? 1 : 0, a.m < 0n ? -a.m : a.m, a.e, EXTENDED, f.rc));
}

/** fsin, fcos, fptan, fsincos: |x| ≥ 2^63 leaves ST(0) and sets C2. */
function outOfRange(f: X87, x: Num): boolean {
  const far = x.kind === Kind.Finite && exponentOf(x) >= 63;
  f.setConditions(false, far, false, false);
  return far;
}

/** The partial remainder of fprem (truncating quotient) and fprem1 (nearest). */
function remainder(f: X87, nearest: boolean): void {
  const a = f.operand(0), b = f.operand(1);
  if (a.kind === Kind.NaN || b.kind === Kind.NaN) {
    if (isSignalingNaN(a) || isSignalingNaN(b)) f.flags |= FE_INVALID;
    f.set(0, propagateNaN(a, b));
    f.setConditions(false, false, false, false);
    return;
  }
  if (a.kind === Kind.Inf || b.kind === Kind.Zero) {
    f.set(0, invalid(f));
    f.setConditions(false, false, false, false);
    return;
  }
  if (a.kind === Kind.Zero || b.kind === Kind.Inf) {
    f.setConditions(false, false, false, false);
    return;
  }
  const gap = exponentOf(a) - exponentOf(b);
  if (gap >= 64) {
    // Partial: reduce by a multiple of b × 2^(gap - N), N = 32 + gap mod 32 (the exponent falls by 32..63).
    const n = 32 + (gap % 32);
    const scaled = num(Kind.Finite, b.sign, b.m, b.e + gap - n);
    const q = truncatedQuotient(a, scaled, false);
    f.set(0, exactDifference(a, scaled, q));
    f.setConditions(false, true, false, false);
    return;
  }
  const q = gap < -1 && !nearest ? 0n : truncatedQuotient(a, b, nearest);
  const r = exactDifference(a, b, q);
  f.set(0, r.kind === Kind.Zero ? num(Kind.Zero, a.sign) : r);
  f.setConditions((q & 2n) !== 0n, false, (q & 1n) !== 0n, (q & 4n) !== 0n);
}

/** |a / b| as an integer, truncated or rounded to nearest-even. */
function truncatedQuotient(a: Num, b: Num, nearest: boolean): bigint {
  const e = Math.min(a.e, b.e);
  const ma = a.m << BigInt(a.e - e), mb = b.m << BigInt(b.e - e);
  let q = ma / mb;
  if (nearest) {
    const r2 = (ma - q * mb) * 2n;
    if (r2 > mb || (r2 === mb && (q & 1n) === 1n)) q += 1n;
  }
  return q;
}

/** a - q × |b| × sign(a), exact (fprem's remainder has a's sign unless fprem1 rounded up). */
function exactDifference(a: Num, b: Num, q: bigint): Num {
  const e = Math.min(a.e, b.e);
  const ma = a.m << BigInt(a.e - e), mb = b.m << BigInt(b.e - e);
  const r = ma - q * mb;
  if (r === 0n) return num(Kind.Zero, a.sign);
  return r < 0n ? num(Kind.Finite, a.sign ^ 1, -r, e) : num(Kind.Finite, a.sign, r, e);
}

/** Handlers by mnemonic (register and single forms take ST(i) as `x`; memory forms read c.ea). */
const HANDLERS: Record<string, Handler> = {
  fld: (f, c, x) => {
    if (x >= 0) { // ST(i), or an 80-bit value from memory: the bits as they are
      if (f.isEmpty(x)) { f.stackFault(false); f.push(INDEFINITE); return; }
      const r = f.phys(x);
      f.pushRaw(f.signExp[r]!, f.mant[r]!);
    } else if (memoryKind(x) === Mem.F80) {
      f.pushRaw(c.rd16((c.ea + 8) | 0), readBytes8(c));
    } else f.push(loadOperand(f, c, memoryKind(x)));
  },
  fild: (f, c, x) => { f.push(loadOperand(f, c, memoryKind(x))); },
  fbld: (f, c) => { f.push(loadOperand(f, c, Mem.Bcd)); },
  fst: (f, c, x) => store(f, c, x, false),
  fstp: (f, c, x) => store(f, c, x, true),
  fist: (f, c, x) => { storeOperand(f, c, memoryKind(x), f.operand(0, false)); },
  fistp: (f, c, x) => { storeOperand(f, c, memoryKind(x), f.operand(0, false)); f.pop(); },
  fbstp: (f, c) => { storeOperand(f, c, Mem.Bcd, f.operand(0, false)); f.pop(); },
  fxch: (f, _c, i) => {
    // An empty side is a stack underflow; it is read as the indefinite NaN.
    for (const side of [0, i]) if (f.isEmpty(side)) { f.stackFault(false); f.set(side, INDEFINITE); }
    const a = f.phys(0), b = f.phys(i);
    const [se, m] = [f.signExp[a]!, f.mant[a]!];
    f.signExp[a] = f.signExp[b]!; f.mant[a] = f.mant[b]!;
    f.signExp[b] = se; f.mant[b] = m;
  },
  ffree: (f, _c, i) => { f.empty |= 1 << f.phys(i); },
  ffreep: (f, _c, i) => { f.empty |= 1 << f.phys(i); f.pop(); },
  fnop: () => undefined,
  // 8087/287 mode controls: a 387 and later ignore them.
  fneni: () => undefined,
  fndisi: () => undefined,
  fnsetpm: () => undefined,
  fchs: (f) => { if (f.isEmpty(0)) { f.stackFault(false); f.set(0, INDEFINITE); } f.signExp[f.phys(0)]! ^= 0x8000; },
  fabs: (f) => { if (f.isEmpty(0)) { f.stackFault(false); f.set(0, INDEFINITE); } f.signExp[f.phys(0)]! &= 0x7fff; },
  ftst: (f) => setCompareConditions(f, compareValues(f, f.operand(0), num(Kind.Zero, 0), false)),
  fxam: (f) => {
    const r = f.phys(0);
    const se = f.signExp[r]!, m = f.mant[r]!;
    const sign = (se & 0x8000) !== 0;
    if (f.isEmpty(0)) { f.setConditions(true, false, sign, true); return; }
    const v = unpack80(se, m);
    if (!v) f.setConditions(false, false, sign, false); // unsupported
    else if (v.kind === Kind.NaN) f.setConditions(false, false, sign, true);
    else if (v.kind === Kind.Inf) f.setConditions(false, true, sign, true);
    else if (v.kind === Kind.Zero) f.setConditions(true, false, sign, false);
    else f.setConditions(isDenormal80(se, m), true, sign, false);
  },
  fucom: (f, _c, i) => setCompareConditions(f, compareValues(f, f.operand(0), f.operand(i), true)),
  fucomp: (f, _c, i) => { setCompareConditions(f, compareValues(f, f.operand(0), f.operand(i), true)); f.pop(); },
  fucompp: (f) => { setCompareConditions(f, compareValues(f, f.operand(0), f.operand(1), true)); f.pop(); f.pop(); },
  fcompp: (f) => { setCompareConditions(f, compareValues(f, f.operand(0), f.operand(1), false)); f.pop(); f.pop(); },
  fucomi: (f, c, i) => { setCompareEflags(c, compareValues(f, f.operand(0), f.operand(i), true)); f.setConditions(false, false, false, false); },
  fcomi: (f, c, i) => { setCompareEflags(c, compareValues(f, f.operand(0), f.operand(i), false)); f.setConditions(false, false, false, false); },
  fucomip: (f, c, i) => { HANDLERS.fucomi!(f, c, i); f.pop(); },
  fcomip: (f, c, i) => { HANDLERS.fcomi!(f, c, i); f.pop(); },
  fcmovb: fcmov((c) => c.getCF() !== 0),
  fcmove: fcmov((c) => c.getZF()),
  fcmovbe: fcmov((c) => c.getCF() !== 0 || c.getZF()),
  fcmovu: fcmov((c) => c.getPF()),
  fcmovnb: fcmov((c) => c.getCF() === 0),
  fcmovne: fcmov((c) => !c.getZF()),
  fcmovnbe: fcmov((c) => c.getCF() === 0 && !c.getZF()),
  fcmovnu: fcmov((c) => !c.getPF()),
  fdecstp: (f) => { f.top = (f.top - 1) & 7; f.setConditions(sw3(f), sw2(f), false, sw0(f)); },
  fincstp: (f) => { f.top = (f.top + 1) & 7; f.setConditions(sw3(f), sw2(f), false, sw0(f)); },
  fsqrt: (f) => {
    const v = f.operand(0);
    if (v.kind === Kind.NaN) { if (isSignalingNaN(v)) f.flags |= FE_INVALID; f.set(0, quiet(v)); return; }
    if (v.kind === Kind.Zero || (v.kind === Kind.Inf && !v.sign)) return;
    if (v.sign) { f.set(0, invalid(f)); return; }
    f.set(0, f.take(squareRoot(v, EXTENDED, f.rc, f.precision)));
  },
  frndint: (f) => {
    const v = f.operand(0);
    if (v.kind === Kind.NaN) { if (isSignalingNaN(v)) f.flags |= FE_INVALID; f.set(0, quiet(v)); return; }
    if (v.kind !== Kind.Finite) return;
    const r = toInteger(v, f.rc);
    f.flags |= r.flags;
    f.set(0, r.value === 0n ? num(Kind.Zero, v.sign) : fromInteger(r.value));
  },
  fscale: (f) => {
    const a = f.operand(0), b = f.operand(1);
    if (a.kind === Kind.NaN || b.kind === Kind.NaN) {
      if (isSignalingNaN(a) || isSignalingNaN(b)) f.flags |= FE_INVALID;
      f.set(0, propagateNaN(a, b));
      return;
    }
    if (b.kind === Kind.Inf) {
      if ((a.kind === Kind.Zero && !b.sign) || (a.kind === Kind.Inf && b.sign)) { f.set(0, invalid(f)); return; }
      if (a.kind === Kind.Finite) f.set(0, b.sign ? num(Kind.Zero, a.sign) : num(Kind.Inf, a.sign));
      return;
    }
    if (a.kind !== Kind.Finite) return;
    const t = b.kind === Kind.Zero ? 0n : toInteger(b, 3).value;
    const n = Number(t > 70000n ? 70000n : t < -70000n ? -70000n : t);
    f.set(0, f.take(round(a.sign, a.m, a.e + n, EXTENDED, f.rc)));
  },
  fxtract: (f) => {
    const v = f.operand(0);
    if (v.kind === Kind.NaN) { if (isSignalingNaN(v)) f.flags |= FE_INVALID; f.set(0, quiet(v)); f.push(quiet(v)); return; }
    if (v.kind === Kind.Zero) {
      f.flags |= FE_ZERODIVIDE;
      f.set(0, num(Kind.Inf, 1));
      f.push(v);
      return;
    }
    if (v.kind === Kind.Inf) { f.set(0, num(Kind.Inf, 0)); f.push(v); return; }
    f.set(0, fromInteger(BigInt(exponentOf(v))));
    f.push(num(Kind.Finite, v.sign, v.m, -(bitLength(v.m) - 1)));
  },
  fprem: (f) => remainder(f, false),
  fprem1: (f) => remainder(f, true),
  fsin: (f) => { const x = f.operand(0); if (!outOfRange(f, x)) f.set(0, transcendental(f, x, Math.sin)); },
  fcos: (f) => { const x = f.operand(0); if (!outOfRange(f, x)) f.set(0, transcendental(f, x, Math.cos)); },
  fptan: (f) => {
    const x = f.operand(0);
    if (outOfRange(f, x)) return;
    f.set(0, transcendental(f, x, Math.tan));
    f.push(num(Kind.Finite, 0, 1n, 0));
  },
  fsincos: (f) => {
    const x = f.operand(0);
    if (outOfRange(f, x)) return;
    const cos = transcendental(f, x, Math.cos);
    f.set(0, transcendental(f, x, Math.sin));
    f.push(cos);
  },
  f2xm1: (f) => {
    const x = f.operand(0);
    if (x.kind === Kind.Finite && exponentOf(x) < 0) f.set(0, precise(f, exp2Minus1(x), x.sign));
    else f.set(0, transcendental(f, x, (v) => Math.expm1(v * Math.LN2)));
  },
  fyl2x: (f) => {
    const x = f.operand(0), y = f.operand(1);
    f.pop();
    if (x.kind === Kind.NaN || y.kind === Kind.NaN) f.set(0, nanOperands(f, x, y));
    else if (x.kind === Kind.Finite && !x.sign && y.kind === Kind.Finite) f.set(0, precise(f, yLog2X(y, x), y.sign));
    else f.set(0, log2Special(f, x, y));
  },
  fyl2xp1: (f) => {
    const x = f.operand(0), y = f.operand(1);
    f.pop();
    if (x.kind === Kind.NaN || y.kind === Kind.NaN) f.set(0, nanOperands(f, x, y));
    else if (x.kind === Kind.Finite && exponentOf(x) < -1 && y.kind === Kind.Finite) f.set(0, precise(f, yLog2XPlus1(y, x), x.sign ^ y.sign));
    else f.set(0, transcendental(f, x, (v) => toDouble(y) * (Math.log1p(v) / Math.LN2)));
  },
  fpatan: (f) => {
    const x = f.operand(0), y = f.operand(1);
    f.pop();
    if (x.kind === Kind.NaN || y.kind === Kind.NaN) { f.set(0, nanOperands(f, x, y)); return; }
    if (x.kind === Kind.Finite && y.kind === Kind.Finite) { f.set(0, precise(f, arctangent2(y, x), y.sign)); return; }
    // A zero or an infinity: the angle is a multiple of π/4.
    const quarters = y.kind === Kind.Zero ? 4 * x.sign : x.kind === Kind.Zero ? 2
      : y.kind === Kind.Inf ? (x.kind === Kind.Inf ? 2 + (x.sign ? 1 : -1) : 2) : 4 * x.sign;
    f.set(0, precise(f, quarterTurns(quarters, y.sign), y.sign));
  },
  fldcw: (f, c) => { f.cw = c.rd16(c.ea) | 0x40; },
  fnstcw: (f, c) => c.wr16(c.ea, f.cw),
  fnstsw: (f, c) => c.wr16(c.ea, f.statusWord),
  'fnstsw ax': (f, c) => c.setReg16(EAX, f.statusWord),
  fnclex: (f) => { f.sw &= ~(EXCEPTIONS | SW_STACK_FAULT | SW_ES | SW_BUSY); },
  fninit: (f) => f.init(),
  fnstenv: (f, c) => {
    c.probeWrite(c.ea, 28);
    storeEnvironment(f, c);
    f.cw |= EXCEPTIONS; // FNSTENV masks every exception afterwards
  },
  fldenv: (f, c) => loadEnvironment(f, c),
  fnsave: (f, c) => {
    c.probeWrite(c.ea, 108);
    storeEnvironment(f, c);
    for (let i = 0; i < 8; i++) {
      const r = f.phys(i), at = (c.ea + 28 + i * 10) | 0;
      writeU64(c, at, f.mant[r]!);
      c.wr16((at + 8) | 0, f.signExp[r]!);
    }
    f.init();
  },
  frstor: (f, c) => {
    const regs: Array<[number, bigint]> = [];
    for (let i = 0; i < 8; i++) {
      const at = (c.ea + 28 + i * 10) | 0;
      regs.push([c.rd16((at + 8) | 0), (BigInt(c.rd32((at + 4) | 0) >>> 0) << 32n) | BigInt(c.rd32(at) >>> 0)]);
    }
    loadEnvironment(f, c);
    regs.forEach(([se, m], i) => { const r = f.phys(i); f.signExp[r] = se; f.mant[r] = m; });
  },
};

/** Bits 0, 2, 3 of the condition codes as they are (fincstp/fdecstp leave them; C1 becomes 0). */
const sw0 = (f: X87) => (f.sw & SW_C0) !== 0;
const sw2 = (f: X87) => (f.sw & SW_C2) !== 0;
const sw3 = (f: X87) => (f.sw & SW_C3) !== 0;

/** fst/fstp to memory (rounded to its format; 80 bits as they are) or to ST(i) (the bits as they are). */
function store(f: X87, c: CPU, x: number, popAfter: boolean): void {
  if (f.isEmpty(0)) { f.stackFault(false); f.set(0, INDEFINITE); }
  if (x >= 0) f.copyRegister(0, x);
  else if (memoryKind(x) === Mem.F80) {
    c.probeWrite(c.ea, 10);
    const r = f.phys(0);
    writeU64(c, c.ea, f.mant[r]!);
    c.wr16((c.ea + 8) | 0, f.signExp[r]!);
  } else storeOperand(f, c, memoryKind(x), f.get(0, false));
  if (popAfter) f.pop();
}

for (const [name, value] of Object.entries(CONSTANTS)) {
  // No exception but stack overflow: the constant's rounding is not "inexact".
  HANDLERS[name] = (f) => f.push(value.kind === Kind.Finite ? round(0, value.m, value.e, EXTENDED, f.rc).value : value);
}
for (const [op, name] of ARITH_NAMES.entries()) {
  // ST(0) ← ST(0) op m / ST(i); fcom/fcomp compare. Integer forms (fiadd…) the same with integer operands.
  HANDLERS[`f${name}`] = arithmeticForm(op, false, false, false);
  HANDLERS[`fi${name}`] = arithmeticForm(op, true, false, false);
  HANDLERS[`f${name} mem`] = arithmeticForm(op, true, false, false);
  HANDLERS[`f${name} sti`] = arithmeticForm(op, false, true, false);
  HANDLERS[`f${name}p sti`] = arithmeticForm(op, false, true, true);
}

/** Arithmetic mnemonics whose register form writes ST(i) (DC, DE): their handler is "name sti". */
const WRITES_STI = /^f(add|mul|sub|subr|div|divr)p?$/;

/** The decoded table: 8 opcodes × (8 memory forms, then 64 register forms by ModRM & 0x3F). */
const TABLE: Array<Form | null> = [];
for (let opcode = 0; opcode < 8; opcode++) {
  for (let reg = 0; reg < 8; reg++) {
    const text = MEMORY_FORMS[opcode]![reg]!;
    if (!text) { TABLE.push(null); continue; }
    const [name, kind] = text.split(' ') as [string, string];
    const handlerName = /^f(add|mul|com|comp|sub|subr|div|divr)$/.test(name) ? `${name} mem` : name;
    TABLE.push({ name, handler: HANDLERS[handlerName]!, mem: MEM_KINDS[kind]!, noWait: name.startsWith('fn') });
  }
  for (let modrm = 0xc0; modrm < 0x100; modrm++) {
    const text = REGISTER_FORMS[opcode]![(modrm >> 3) & 7]!;
    let name: string | undefined, handlerName: string | undefined;
    if (text === '#') name = handlerName = SINGLE_FORMS[((0xd8 + opcode) << 8) | modrm];
    else if (text) {
      const [mnemonic, operand] = text.split(' ') as [string, string];
      name = mnemonic;
      handlerName = operand === 'sti' && WRITES_STI.test(mnemonic) ? `${mnemonic} sti` : mnemonic;
    }
    const handler = handlerName === undefined ? undefined : HANDLERS[handlerName];
    TABLE.push(handler ? { name: name!, handler, mem: Mem.Word, noWait: name!.startsWith('fn') } : null);
  }
}

/** The mnemonic of an encoding (for tests and messages), or undefined for an undefined one. */
export function x87Mnemonic(opcode: number, modrm: number): string | undefined {
  const form = TABLE[formIndex(opcode, modrm)];
  return form?.name;
}

function formIndex(opcode: number, modrm: number): number {
  const base = (opcode - 0xd8) * 72;
  return modrm >= 0xc0 ? base + 8 + (modrm - 0xc0) : base + ((modrm >> 3) & 7);
}

/** Executes one x87 instruction (opcode D8–DF; prefixes already taken). */
export function x87Instruction(c: CPU, opcode: number): void {
  if (c.cr0 & (CR0_EM | CR0_TS)) c.raise(VEC_NM);
  c.decodeModrm();
  const memory = c.rmReg < 0;
  const modrm = memory ? c.modrmReg << 3 : 0xc0 | (c.modrmReg << 3) | c.rmReg;
  const form = TABLE[formIndex(opcode, modrm)];
  if (!form) c.ud();
  const f = c.fpu;
  if (!form.noWait && f.sw & SW_ES) c.raise(VEC_MF);
  f.flags = 0;
  f.conditionSet = false;
  form.handler(f, c, memory ? -1 - form.mem : c.rmReg);
  if (form.noWait || form.name === 'fldenv' || form.name === 'frstor') return;
  f.finish(form.name !== 'fldcw');
  if (form.name === 'fldcw') return;
  f.fop = ((opcode & 7) << 8) | modrm;
  f.fip = c.startEip;
  f.fcs = c.sel[CS]! & 0xffff;
  if (memory) { f.fdp = c.eaOffset; f.fds = c.sel[c.segOv >= 0 ? c.segOv : DS]! & 0xffff; }
}
