/**
 * The x87 instruction forms of the differential suite (differential.ts runs them): each
 * case starts from a random x87 state loaded with FRSTOR — registers holding interesting
 * values (integers, fractions, huge and tiny numbers, extended and double denormals,
 * zeros, infinities, quiet and signaling NaNs, now and then an unnormal), some of them
 * empty, a random rounding mode and precision with every exception masked — runs one
 * instruction, and dumps the state with FNSAVE: control, status and tag words and the
 * eight registers are compared bit for bit with qemu-i386 (not the last-instruction
 * pointers, which QEMU does not keep as hardware does).
 *
 * Where qemu-i386 (7.2) is not bit-exact the suite leaves the difference out, and
 * test/cpu/x87.test.ts checks memvisor against the SDM instead:
 * - precision control: QEMU rounds to it in every conversion and in frndint, fprem,
 *   fscale, fxtract and the transcendental instructions; the hardware only in fadd, fsub,
 *   fmul, fdiv and fsqrt. Forms other than these (and those of them with a double or
 *   32-bit integer memory operand, which QEMU rounds before the operation) run with
 *   extended precision;
 * - the denormal-operand flag (DE): QEMU never raises it; it is not compared;
 * - C1 as the round-up indicator: QEMU does not report it; compared only where QEMU sets
 *   C1 itself (fxam, fprem, fprem1);
 * - fcomi/fucomi(p): QEMU keeps OF, SF and AF, which the hardware clears; not compared;
 * - bit 6 of the control word: QEMU keeps it as loaded, the hardware reads it as 1;
 *   fldcw loads control words with it set;
 * - fsqrt of a negative number: QEMU sets C2 (the SDM leaves C0, C2, C3 undefined);
 * - fprem1: QEMU's quotient bits (C0, C3, C1) are wrong; the remainder is compared;
 * - fsin, fcos, fsincos, fptan: QEMU rounds the operand to a double in the current
 *   rounding mode, then calls the host's libm; they run rounding to nearest;
 * - fyl2x, fyl2xp1, fpatan: QEMU lets a signaling NaN win over an unnormal operand (its
 *   arithmetic, like memvisor's, answers the indefinite NaN) and picks between two NaNs by
 *   position, not by the larger significand as its arithmetic does; they get no unnormals
 *   and at most one NaN.
 *
 * `approximate` forms are fsin, fcos, fsincos and fptan: memvisor computes them in
 * doubles (53 bits), QEMU with the host's libm, and hardware differs from both in the
 * last bits; their results are compared to 40 bits, their C1 (round-up) and inexact flag
 * not at all. fprem/fprem1 are compared where the quotient is exact (exponents less
 * than 64 apart): a larger gap gives an implementation-defined partial remainder.
 */
import { CaseBuilder, type Form } from './differential.js';

export const SW_C1 = 0x200;
export const SW_INEXACT = 0x20;
export const SW_DENORMAL = 0x02;

export interface X87Form extends Form {
  /** Results compared to 40 bits; C1 and the inexact flag ignored. */
  approximate?: boolean;
  /** Status-word bits the architecture leaves undefined after this form. */
  undefinedStatus?: number;
}

/** Where values come from: anything, anything but unnormals (`supported`), moderate numbers, or (0.5, 1) in magnitude. */
type Range = 'any' | 'supported' | 'moderate' | 'unit';

/** A value in the 80-bit format: [signExp, significand]. */
type Raw80 = [number, bigint];

const C0 = 0x100, C2 = 0x400, C3 = 0x4000;

function rawFromDouble(x: number): Raw80 {
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, x, true);
  const bits = v.getBigUint64(0, true);
  const sign = Number(bits >> 63n), exp = Number((bits >> 52n) & 0x7ffn), frac = bits & ((1n << 52n) - 1n);
  if (exp === 0 && frac === 0n) return [sign << 15, 0n];
  if (exp === 0x7ff) return [(sign << 15) | 0x7fff, (1n << 63n) | (frac << 11n)];
  if (exp === 0) { // double denormal: normal in extended
    let m = frac, e = -1022;
    while (!(m & (1n << 52n))) { m <<= 1n; e--; }
    return [(sign << 15) | (e + 16383), m << 11n];
  }
  return [(sign << 15) | (exp - 1023 + 16383), (1n << 63n) | (frac << 11n)];
}

/** An interesting 80-bit value. */
function value(b: CaseBuilder, range: Range = 'any'): Raw80 {
  const r = b.rng;
  const sign = r.nextBelow(2) << 15;
  const mant = () => (1n << 63n) | (BigInt(r.nextUint32()) << 31n) | BigInt(r.nextUint32() >>> 1);
  if (range === 'unit') return [sign | (16383 - 1 - r.nextBelow(20)), mant()];
  if (range === 'moderate') {
    switch (r.nextBelow(4)) {
      case 0: return rawFromDouble((r.nextBelow(2) ? -1 : 1) * r.nextBelow(1000));
      case 1: return rawFromDouble((r.nextBelow(2) ? -1 : 1) * (r.nextUint32() / 7919));
      default: return [sign | (16383 - 10 + r.nextBelow(40)), mant()];
    }
  }
  switch (r.nextBelow(16)) {
    case 0: return [sign, 0n]; // zero
    case 1: return [sign | 0x7fff, 1n << 63n]; // infinity
    case 2: return [sign | 0x7fff, (3n << 62n) | BigInt(r.nextUint32())]; // quiet NaN
    case 3: return [sign | 0x7fff, (1n << 63n) | (BigInt(r.nextUint32()) << 20n) | 1n]; // signaling NaN
    case 4: return [sign, BigInt(r.nextUint32()) << BigInt(r.nextBelow(31))]; // extended denormal
    case 5: return rawFromDouble((r.nextBelow(2) ? -1 : 1) * 2 ** -1030 * (1 + r.nextBelow(1000))); // double-denormal range
    case 6: return [sign | (16383 + 1020 + r.nextBelow(10)), mant()]; // near the double overflow
    case 7: return [sign | (r.nextBelow(2) ? 1 + r.nextBelow(40) : 0x7ffe - r.nextBelow(40)), mant()]; // extreme exponents
    case 8: return rawFromDouble((r.nextBelow(2) ? -1 : 1) * r.nextBelow(100000));
    case 9: return rawFromDouble((r.nextBelow(2) ? -1 : 1) * (r.nextBelow(1000) + 0.5));
    case 10: return r.nextBelow(4) === 0 && range === 'any' ? [sign | (16383 + r.nextBelow(30)), mant() >> 1n] // unnormal (invalid)
      : [sign | (16383 - 70 + r.nextBelow(140)), mant()];
    default: return [sign | (16383 - 70 + r.nextBelow(140)), mant()];
  }
}

/**
 * The FNSAVE image a case starts from: `valid` registers in use from ST(0) (the rest
 * empty), the given values first, a random rounding mode and precision, all exceptions masked.
 */
function fpuState(b: CaseBuilder, valid: number, values: Raw80[] = [], range: Range = 'any'): Uint8Array {
  const r = b.rng;
  const image = new Uint8Array(108);
  const v = new DataView(image.buffer);
  const rc = r.nextBelow(4), pc = [0, 2, 3, 3, 3][r.nextBelow(5)]!;
  v.setUint32(0, 0xffff0000 | 0x3f | 0x40 | (pc << 8) | (rc << 10), true);
  const top = r.nextBelow(8);
  v.setUint32(4, 0xffff0000 | (top << 11), true);
  let tags = 0;
  for (let i = 0; i < 8; i++) {
    const physical = (top + i) & 7;
    const [se, m] = values[i] ?? value(b, range);
    v.setBigUint64(28 + i * 10, m, true);
    v.setUint16(36 + i * 10, se, true);
    if (i >= valid) tags |= 3 << (physical * 2); // empty; otherwise FRSTOR takes the tag from the contents
  }
  v.setUint32(8, 0xffff0000 | tags, true);
  return image;
}

/**
 * Every register in use, or all but ST(7) for a form that pushes: qemu-i386 does not
 * model stack overflow and underflow (a push onto a full stack, a read of an empty
 * register), so the suite has none; test/cpu/x87.test.ts checks them against the SDM.
 */
const FULL = () => 8;
const ROOM_FOR_ONE = () => 7;

/** Memory operand bytes: fill `size` bytes at a scratch offset with an interesting value of the format, return the operand. */
function memoryValue(b: CaseBuilder, format: 'f32' | 'f64' | 'f80' | 'i16' | 'i32' | 'i64' | 'bcd'): string {
  const at = 8 * b.rng.nextBelow(24);
  const bytes = new Uint8Array(10);
  const v = new DataView(bytes.buffer);
  const r = b.rng;
  const [se, m] = value(b);
  switch (format) {
    case 'f80': v.setBigUint64(0, m, true); v.setUint16(8, se, true); break;
    case 'f64': {
      const x = r.nextBelow(3) ? (r.nextBelow(2) ? -1 : 1) * r.nextUint32() / (1 + r.nextBelow(5000)) : NaN;
      if (Number.isNaN(x)) for (let i = 0; i < 8; i++) bytes[i] = r.nextBelow(256); // anything: NaNs, denormals, infinities
      else v.setFloat64(0, x, true);
      break;
    }
    case 'f32': {
      if (r.nextBelow(3)) v.setFloat32(0, (r.nextBelow(2) ? -1 : 1) * r.nextUint32() / (1 + r.nextBelow(5000)), true);
      else for (let i = 0; i < 4; i++) bytes[i] = r.nextBelow(256);
      break;
    }
    case 'bcd': {
      for (let d = 0; d < 9; d++) bytes[d] = r.nextBelow(10) | (r.nextBelow(10) << 4);
      bytes[9] = r.nextBelow(2) << 7;
      break;
    }
    default: for (let i = 0; i < 8; i++) bytes[i] = r.nextBelow(4) ? r.nextBelow(256) : [0, 0xff, 0x80, 0x7f][r.nextBelow(4)]!;
  }
  b.state.mem.set(bytes, at);
  return `scratch+${at}`;
}

const ARITH = ['add', 'mul', 'sub', 'subr', 'div', 'divr'];

/** Whether precision control applies to a form and QEMU follows it (see the header): the arithmetic on registers, floats and 16-bit integers, fsqrt. */
function roundsToPrecision(name: string): boolean {
  return name === 'fsqrt' || new RegExp(`^fi?(${ARITH.join('|')})p? (st|mf32|mi16)`).test(name);
}

/** A case builder whose x87 control word is forced: extended precision unless `precision`, rounding to nearest if `nearest`. */
function controlled(build: (b: CaseBuilder) => string, precision: boolean, nearest: boolean): (b: CaseBuilder) => string {
  return (b) => {
    const text = build(b);
    const fpu = b.state.fpu;
    if (fpu && !precision) fpu[1]! |= 3; // control word bits 8-9
    if (fpu && nearest) fpu[1]! &= ~0x0c; // bits 10-11
    return text;
  };
}
const SUFFIX: Record<string, string> = { f32: 's', f64: 'l', f80: 't', i16: 's', i32: 'l', i64: 'll', bcd: '' };

/** Every x87 form the suite compares. */
export function x87Forms(): X87Form[] {
  const forms: X87Form[] = [];
  const add = (name: string, build: (b: CaseBuilder) => string, extra: Partial<X87Form> = {}) =>
    forms.push({ name, undefinedFlags: 0, build: controlled(build, roundsToPrecision(name), extra.approximate ?? false), ...extra });
  const withState = (depth: (b: CaseBuilder) => number, text: (b: CaseBuilder) => string, range: Range = 'any', values?: (b: CaseBuilder) => Raw80[]) =>
    (b: CaseBuilder) => {
      b.state.fpu = fpuState(b, depth(b), values?.(b) ?? [], range);
      return text(b);
    };
  const any = withState.bind(null, FULL);
  const pushing = withState.bind(null, ROOM_FOR_ONE);

  // Loads and stores.
  for (const f of ['f32', 'f64', 'f80'] as const) {
    add(`fld m${f}`, pushing((b) => `fld${SUFFIX[f]} ${memoryValue(b, f)}`));
    add(`fstp m${f}`, any((b) => `fstp${SUFFIX[f]} ${b.mem()}`));
    if (f !== 'f80') add(`fst m${f}`, any((b) => `fst${SUFFIX[f]} ${b.mem()}`));
  }
  for (const f of ['i16', 'i32', 'i64'] as const) {
    add(`fild m${f}`, pushing((b) => `fild${SUFFIX[f]} ${memoryValue(b, f)}`));
    add(`fistp m${f}`, any((b) => `fistp${SUFFIX[f]} ${b.mem()}`));
    if (f !== 'i64') add(`fist m${f}`, any((b) => `fist${SUFFIX[f]} ${b.mem()}`));
  }
  add('fbld m80bcd', pushing((b) => `fbld ${memoryValue(b, 'bcd')}`));
  add('fbstp m80bcd', any((b) => `fbstp ${b.mem()}`));
  add('fld st(i)', pushing((b) => `fld %st(${b.rng.nextBelow(7)})`));
  for (const op of ['fst', 'fstp', 'fxch', 'ffree']) add(`${op} st(i)`, any((b) => `${op} %st(${b.rng.nextBelow(8)})`));
  add('ffreep st(i)', any((b) => `.byte 0xdf, 0x${(0xc0 + b.rng.nextBelow(8)).toString(16)}`));
  for (const k of ['fld1', 'fldz', 'fldpi', 'fldl2e', 'fldl2t', 'fldlg2', 'fldln2']) add(k, pushing(() => k));
  // Arithmetic: memory, ST(0) op ST(i), ST(i) op ST(0), and the popping forms.
  for (const op of ARITH) {
    for (const f of ['f32', 'f64'] as const) add(`f${op} m${f}`, any((b) => `f${op}${SUFFIX[f]} ${memoryValue(b, f)}`));
    for (const f of ['i16', 'i32'] as const) add(`fi${op} m${f}`, any((b) => `fi${op}${SUFFIX[f]} ${memoryValue(b, f)}`));
    add(`f${op} st(i),st`, any((b) => `f${op} %st(${b.rng.nextBelow(8)}), %st`));
    add(`f${op} st,st(i)`, any((b) => `f${op} %st, %st(${b.rng.nextBelow(8)})`));
    add(`f${op}p st,st(i)`, any((b) => `f${op}p %st, %st(${1 + b.rng.nextBelow(7)})`));
  }
  // Comparisons.
  for (const op of ['fcom', 'fcomp', 'fucom', 'fucomp']) add(`${op} st(i)`, any((b) => `${op} %st(${b.rng.nextBelow(8)})`));
  for (const op of ['fcom', 'fcomp']) {
    for (const f of ['f32', 'f64'] as const) add(`${op} m${f}`, any((b) => `${op}${SUFFIX[f]} ${memoryValue(b, f)}`));
    add(`fi${op.slice(1)} mi32`, any((b) => `fi${op.slice(1)}l ${memoryValue(b, "i32")}`));
  }
  for (const op of ['fcompp', 'fucompp', 'ftst', 'fxam', 'fchs', 'fabs']) add(op, any(() => op));
  // OF, SF, AF: cleared by the hardware, kept by QEMU.
  for (const op of ['fcomi', 'fcomip', 'fucomi', 'fucomip']) add(`${op} st(i)`, any((b) => `${op} %st(${b.rng.nextBelow(8)}), %st`), { undefinedFlags: 0x890 });
  for (const cc of ['b', 'e', 'be', 'u', 'nb', 'ne', 'nbe', 'nu']) add(`fcmov${cc}`, any((b) => `fcmov${cc} %st(${b.rng.nextBelow(8)}), %st`));
  // Square root, rounding, scaling, remainders.
  add('fsqrt', any(() => 'fsqrt'), { undefinedStatus: C0 | C2 | C3 });
  add('frndint', any(() => 'frndint'));
  add('fxtract', pushing(() => 'fxtract'));
  add('fscale', withState(FULL, () => 'fscale', 'any', (b) => [value(b), b.rng.nextBelow(4) ? rawFromDouble(b.rng.nextBelow(200) - 100 + (b.rng.nextBelow(2) ? 0.5 : 0)) : value(b)]));
  for (const op of ['fprem', 'fprem1']) {
    add(op, withState(FULL, () => op, 'any', (b) => {
      const divisor = value(b, 'moderate');
      const exponent = (divisor[0] & 0x7fff) + b.rng.nextBelow(63);
      const dividend: Raw80 = [(b.rng.nextBelow(2) << 15) | exponent, (1n << 63n) | BigInt(b.rng.nextUint32()) << 8n];
      return [dividend, divisor];
    }), { undefinedStatus: op === 'fprem1' ? C0 | C3 | SW_C1 : 0 });
  }
  // Stack and control.
  for (const op of ['fincstp', 'fdecstp', 'fnop', 'fnclex', 'fninit']) add(op, any(() => op), op.endsWith('stp') ? { undefinedStatus: C0 | C2 | C3 } : {});
  // C1 as the round-up indicator: qemu-i386 does not report it (test/cpu/x87.test.ts checks it), so it is not compared
  // but where QEMU sets C1 itself (fxam: the sign; fprem: a quotient bit).
  for (const form of forms) if (!/^(fxam|fprem)$/.test(form.name)) form.undefinedStatus = (form.undefinedStatus ?? 0) | SW_C1;
  add('fnstsw ax', any(() => 'fnstsw %ax'));
  add('fnstsw m16', any((b) => `fnstsw ${b.mem()}`));
  add('fnstcw m16', any((b) => `fnstcw ${b.mem()}`));
  add('fldcw m16', any((b) => {
    const at = 2 * b.rng.nextBelow(100);
    const cw = 0x7f | (b.rng.nextBelow(4) << 8) | (b.rng.nextBelow(4) << 10) | (b.rng.nextBelow(2) << 12);
    b.state.mem[at] = cw & 0xff;
    b.state.mem[at + 1] = cw >> 8;
    return `fldcw scratch+${at}`;
  }));
  // Sine, cosine, tangent: compared to 40 bits.
  for (const op of ['fsin', 'fcos']) add(op, withState(FULL, () => op, 'moderate'), { approximate: true });
  for (const op of ['fsincos', 'fptan']) add(op, withState(ROOM_FOR_ONE, () => op, 'moderate'), { approximate: true });
  // Logarithm, exponential, arctangent: bit for bit (memvisor and QEMU both compute them beyond 64 bits and round once).
  const rounding = { undefinedStatus: SW_C1 };
  const oneNaN = (b: CaseBuilder): Raw80[] => {
    const x = value(b, 'supported');
    return [x, value(b, (x[0] & 0x7fff) === 0x7fff && x[1] !== 1n << 63n ? 'moderate' : 'supported')];
  };
  add('f2xm1', withState(FULL, () => 'f2xm1', 'unit'), rounding);
  add('fyl2x', withState(FULL, () => 'fyl2x', 'supported', oneNaN), rounding);
  add('fyl2x near 1', withState(FULL, () => 'fyl2x', 'supported', (b) => [[16383 - b.rng.nextBelow(2), (1n << 63n) | BigInt(b.rng.nextUint32()) << BigInt(b.rng.nextBelow(32))], value(b, 'moderate')]), rounding);
  add('fyl2xp1', withState(FULL, () => 'fyl2xp1', 'supported', (b) => [[(b.rng.nextBelow(2) << 15) | (16380 - b.rng.nextBelow(70)), (1n << 63n) | BigInt(b.rng.nextUint32())] /* |x| < 1 - sqrt(2)/2 */, value(b, 'moderate')]), rounding);
  add('fpatan', withState(FULL, () => 'fpatan', 'supported', oneNaN), rounding);
  return forms;
}
