/**
 * The numbers of the x87: 80-bit extended precision (sign, 15-bit exponent, 64-bit
 * significand with its integer bit explicit), and IEEE single and double in memory.
 *
 * Arithmetic is exact, then rounded once: a finite value is `m × 2^e` with `m` a BigInt,
 * so a sum, product, quotient (with a sticky bit) or square root is computed exactly and
 * `round` gives the one result the hardware gives for the precision (24, 53 or 64 bits),
 * exponent range and rounding mode, with the exception flags (inexact, underflow after
 * rounding, overflow) and whether it rounded up (C1). BigInt costs, but only the x87
 * pays it: the integer paths never see this file.
 */

export const enum Kind { Zero = 0, Finite = 1, Inf = 2, NaN = 3 }

/** An unpacked number: for Finite, the value is (-1)^sign × m × 2^e with m > 0. NaN: m holds the 64-bit significand. */
export interface Num {
  kind: Kind;
  sign: number;
  m: bigint;
  e: number;
}

/** x87 status-word exception bits. */
export const FE_INVALID = 0x01, FE_DENORMAL = 0x02, FE_ZERODIVIDE = 0x04, FE_OVERFLOW = 0x08, FE_UNDERFLOW = 0x10, FE_INEXACT = 0x20;
/** Not an exception bit: set in `Rounded.flags` when the result's magnitude was rounded up (the x87 reports it in C1). */
export const ROUNDED_UP = 0x200;

/** A format's precision and exponent range (of normal numbers, unbiased). */
export interface Format {
  bits: number;
  emin: number;
  emax: number;
}
export const EXTENDED: Format = { bits: 64, emin: -16382, emax: 16383 };
export const DOUBLE: Format = { bits: 53, emin: -1022, emax: 1023 };
export const SINGLE: Format = { bits: 24, emin: -126, emax: 127 };

/** Rounding modes, as the control word's RC field numbers them. */
export const RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_ZERO = 3;

const TOP_BIT = 1n << 63n;
const QUIET_BIT = 1n << 62n;
/** The default NaN ("real indefinite"): negative, quiet, significand 0xC000… */
export const INDEFINITE: Num = { kind: Kind.NaN, sign: 1, m: TOP_BIT | QUIET_BIT, e: 0 };
export const ZERO: Num = { kind: Kind.Zero, sign: 0, m: 0n, e: 0 };

export function bitLength(m: bigint): number {
  let n = 0;
  while (m >= 1n << 64n) { m >>= 64n; n += 64; }
  while (m >= 1n << 16n) { m >>= 16n; n += 16; }
  while (m > 0n) { m >>= 1n; n++; }
  return n;
}

export function num(kind: Kind, sign: number, m = 0n, e = 0): Num {
  return { kind, sign, m, e };
}

export function isSignalingNaN(a: Num): boolean {
  return a.kind === Kind.NaN && (a.m & QUIET_BIT) === 0n;
}

export function quiet(a: Num): Num {
  return a.kind === Kind.NaN ? num(Kind.NaN, a.sign, a.m | QUIET_BIT | TOP_BIT) : a;
}

export interface Rounded {
  value: Num;
  /** FE_* bits raised, plus ROUNDED_UP. */
  flags: number;
}

/** Rounds (-1)^sign × m × 2^e to `bits` significant bits (fewer for denormals) in the format's range. */
export function round(sign: number, m: bigint, e: number, format: Format, rc: number, bits = format.bits): Rounded {
  if (m === 0n) return { value: num(Kind.Zero, sign), flags: 0 };
  const exponent = e + bitLength(m) - 1;
  let quantum = Math.max(exponent, format.emin) - (bits - 1);
  let [kept, flagsOut] = roundAt(sign, m, e, quantum, rc);
  if (bitLength(kept) > bits) { // rounded up to the next power of two
    kept >>= 1n;
    quantum++;
  }
  if (kept === 0n) return { value: num(Kind.Zero, sign), flags: flagsOut | FE_UNDERFLOW };
  const resultExponent = quantum + bitLength(kept) - 1;
  if (resultExponent > format.emax) return overflow(sign, format, rc, bits);
  if (exponent < format.emin && flagsOut & FE_INEXACT) {
    // Tiny after rounding: rounded to `bits` with an unbounded exponent, still below the smallest normal.
    const [unbounded] = roundAt(sign, m, e, exponent - (bits - 1), rc);
    if (exponent - (bits - 1) + bitLength(unbounded) - 1 < format.emin) flagsOut |= FE_UNDERFLOW;
  }
  return { value: num(Kind.Finite, sign, kept, quantum), flags: flagsOut };
}

/** m × 2^e rounded to a multiple of 2^quantum: [m', flags] with the result m' × 2^quantum. */
function roundAt(sign: number, m: bigint, e: number, quantum: number, rc: number): [bigint, number] {
  if (e >= quantum) return [m << BigInt(e - quantum), 0];
  const shift = BigInt(quantum - e);
  let kept = m >> shift;
  const rest = m - (kept << shift);
  if (rest === 0n) return [kept, 0];
  const half = 1n << (shift - 1n);
  let up: boolean;
  switch (rc) {
    case RC_NEAREST: up = rest > half || (rest === half && (kept & 1n) === 1n); break;
    case RC_DOWN: up = sign === 1; break;
    case RC_UP: up = sign === 0; break;
    default: up = false;
  }
  if (up) kept += 1n;
  return [kept, FE_INEXACT | (up ? ROUNDED_UP : 0)];
}

function overflow(sign: number, format: Format, rc: number, bits: number): Rounded {
  const toInfinity = rc === RC_NEAREST || (rc === RC_UP && sign === 0) || (rc === RC_DOWN && sign === 1);
  const flags = FE_OVERFLOW | FE_INEXACT;
  if (toInfinity) return { value: num(Kind.Inf, sign), flags: flags | ROUNDED_UP };
  return { value: num(Kind.Finite, sign, (1n << BigInt(bits)) - 1n, format.emax - (bits - 1)), flags };
}

// ---------------------------------------------------------------- packing

/** Unpacks an 80-bit register; unnormals and pseudo-NaN/infinities are `null` (invalid operands). */
export function unpack80(signExp: number, mant: bigint): Num | null {
  const sign = signExp >> 15, exp = signExp & 0x7fff;
  if (exp === 0) return mant === 0n ? num(Kind.Zero, sign) : num(Kind.Finite, sign, mant, EXTENDED.emin - 63);
  if (!(mant & TOP_BIT)) return null;
  if (exp === 0x7fff) return mant === TOP_BIT ? num(Kind.Inf, sign) : num(Kind.NaN, sign, mant);
  return num(Kind.Finite, sign, mant, exp - 16383 - 63);
}

/** Whether an 80-bit register holds a denormal (the DE exception on use). */
export function isDenormal80(signExp: number, mant: bigint): boolean {
  return (signExp & 0x7fff) === 0 && mant !== 0n;
}

/** Packs a value that fits the extended format: [signExp, significand]. */
export function pack80(a: Num): [number, bigint] {
  const s = a.sign << 15;
  switch (a.kind) {
    case Kind.Zero: return [s, 0n];
    case Kind.Inf: return [s | 0x7fff, TOP_BIT];
    case Kind.NaN: return [s | 0x7fff, a.m];
    default: {
      const n = bitLength(a.m);
      const exponent = a.e + n - 1;
      if (exponent < EXTENDED.emin) return [s, a.m << BigInt(a.e - (EXTENDED.emin - 63))];
      return [s | (exponent + 16383), a.m << BigInt(64 - n)];
    }
  }
}

/** An IEEE single or double (as a BigInt of its bits) unpacked; `flags` gets FE_INVALID for a signaling NaN, FE_DENORMAL for a denormal. */
export function unpackIeee(bits: bigint, format: Format): { value: Num; flags: number } {
  const fraction = format.bits - 1, width = format === SINGLE ? 32 : 64;
  const expBits = width - 1 - fraction;
  const sign = Number(bits >> BigInt(width - 1));
  const exp = Number((bits >> BigInt(fraction)) & ((1n << BigInt(expBits)) - 1n));
  const frac = bits & ((1n << BigInt(fraction)) - 1n);
  const bias = format.emax;
  if (exp === 0) {
    if (frac === 0n) return { value: num(Kind.Zero, sign), flags: 0 };
    return { value: num(Kind.Finite, sign, frac, format.emin - fraction), flags: FE_DENORMAL };
  }
  if (exp === (1 << expBits) - 1) {
    if (frac === 0n) return { value: num(Kind.Inf, sign), flags: 0 };
    const mant = TOP_BIT | (frac << BigInt(63 - fraction));
    const signaling = (mant & QUIET_BIT) === 0n;
    return { value: num(Kind.NaN, sign, mant | QUIET_BIT), flags: signaling ? FE_INVALID : 0 };
  }
  return { value: num(Kind.Finite, sign, frac | (1n << BigInt(fraction)), exp - bias - fraction), flags: 0 };
}

/** Rounds and packs to an IEEE single or double: the bits and the flags. */
export function packIeee(a: Num, format: Format, rc: number): { bits: bigint; flags: number } {
  const fraction = format.bits - 1, width = format === SINGLE ? 32 : 64;
  const expBits = width - 1 - fraction;
  const sign = BigInt(a.sign) << BigInt(width - 1);
  const expAll = (1n << BigInt(expBits)) - 1n;
  switch (a.kind) {
    case Kind.Zero: return { bits: sign, flags: 0 };
    case Kind.Inf: return { bits: sign | (expAll << BigInt(fraction)), flags: 0 };
    case Kind.NaN: {
      const flags = a.m & QUIET_BIT ? 0 : FE_INVALID;
      const frac = ((a.m | QUIET_BIT) >> BigInt(63 - fraction)) & ((1n << BigInt(fraction)) - 1n);
      return { bits: sign | (expAll << BigInt(fraction)) | frac, flags };
    }
    default: {
      const r = round(a.sign, a.m, a.e, format, rc);
      const v = r.value;
      if (v.kind === Kind.Zero) return { bits: sign, flags: r.flags };
      if (v.kind === Kind.Inf) return { bits: sign | (expAll << BigInt(fraction)), flags: r.flags };
      const n = bitLength(v.m);
      const exponent = v.e + n - 1;
      if (exponent < format.emin) return { bits: sign | (v.m << BigInt(v.e - (format.emin - fraction))), flags: r.flags };
      const frac = (v.m << BigInt(format.bits - n)) & ((1n << BigInt(fraction)) - 1n);
      return { bits: sign | (BigInt(exponent + format.emax) << BigInt(fraction)) | frac, flags: r.flags };
    }
  }
}

// ---------------------------------------------------------------- exact operations

/**
 * The NaN an operation on NaN operands returns (x87 rule: a quiet NaN over a signaling one, else the larger significand;
 * on a tie the positive one), quieted. INDEFINITE itself (not an equal value) stands for an invalid operand — an unnormal
 * or an empty register — whose masked response, the indefinite NaN, is the result.
 */
export function propagateNaN(a: Num, b: Num): Num {
  if (a === INDEFINITE || b === INDEFINITE) return INDEFINITE;
  if (a.kind !== Kind.NaN) return quiet(b);
  if (b.kind !== Kind.NaN) return quiet(a);
  if (isSignalingNaN(a) !== isSignalingNaN(b)) return isSignalingNaN(a) ? b : a;
  const ma = a.m | QUIET_BIT, mb = b.m | QUIET_BIT;
  if (ma !== mb) return quiet(ma > mb ? a : b);
  return quiet(a.sign <= b.sign ? a : b);
}

/** Operands far apart in exponent: the smaller one only matters as a sticky bit. */
const STICKY_GAP = 160;

/** a + b, exact, then rounded. */
export function add(a: Num, b: Num, format: Format, rc: number, bits: number): Rounded {
  if (a.kind === Kind.Zero && b.kind === Kind.Zero) {
    const sign = a.sign === b.sign ? a.sign : rc === RC_DOWN ? 1 : 0;
    return { value: num(Kind.Zero, sign), flags: 0 };
  }
  if (a.kind === Kind.Zero) return round(b.sign, b.m, b.e, format, rc, bits);
  if (b.kind === Kind.Zero) return round(a.sign, a.m, a.e, format, rc, bits);
  let [x, y] = [a, b];
  const topX = x.e + bitLength(x.m), topY = y.e + bitLength(y.m);
  if (topX < topY) [x, y] = [y, x];
  const top = Math.max(topX, topY);
  if (Math.min(topX, topY) < top - STICKY_GAP) y = num(Kind.Finite, y.sign, 1n, top - STICKY_GAP - 2);
  const e = Math.min(x.e, y.e);
  const mx = x.m << BigInt(x.e - e), my = y.m << BigInt(y.e - e);
  let sum = (x.sign ? -mx : mx) + (y.sign ? -my : my);
  if (sum === 0n) return { value: num(Kind.Zero, rc === RC_DOWN ? 1 : 0), flags: 0 };
  const sign = sum < 0n ? 1 : 0;
  if (sum < 0n) sum = -sum;
  return round(sign, sum, e, format, rc, bits);
}

export function multiply(a: Num, b: Num, format: Format, rc: number, bits: number): Rounded {
  const sign = a.sign ^ b.sign;
  if (a.kind === Kind.Zero || b.kind === Kind.Zero) return { value: num(Kind.Zero, sign), flags: 0 };
  return round(sign, a.m * b.m, a.e + b.e, format, rc, bits);
}

/** a / b for finite non-zero b: the quotient to 66+ bits and a sticky bit. */
export function divide(a: Num, b: Num, format: Format, rc: number, bits: number): Rounded {
  const sign = a.sign ^ b.sign;
  if (a.kind === Kind.Zero) return { value: num(Kind.Zero, sign), flags: 0 };
  const shift = Math.max(0, bitLength(b.m) - bitLength(a.m) + 68);
  const n = a.m << BigInt(shift);
  const q = n / b.m, r = n % b.m;
  return round(sign, (q << 1n) | (r === 0n ? 0n : 1n), a.e - b.e - shift - 1, format, rc, bits);
}

export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLength(n) + 1) >> 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** √a for finite positive a. */
export function squareRoot(a: Num, format: Format, rc: number, bits: number): Rounded {
  let shift = Math.max(0, 140 - bitLength(a.m));
  if ((a.e - shift) & 1) shift++;
  const n = a.m << BigInt(shift);
  const s = isqrt(n);
  const sticky = s * s === n ? 0n : 1n;
  return round(0, (s << 1n) | sticky, (a.e - shift) / 2 - 1, format, rc, bits);
}

/** -1, 0, 1 for finite, zero or infinite values (not NaN). */
export function compare(a: Num, b: Num): number {
  const signed = (x: Num) => (x.kind === Kind.Zero ? 0 : x.sign ? -1 : 1);
  const sa = signed(a), sb = signed(b);
  if (sa !== sb) return sa < sb ? -1 : 1;
  if (sa === 0) return 0;
  const magnitude = compareMagnitude(a, b);
  return sa > 0 ? magnitude : -magnitude;
}

function compareMagnitude(a: Num, b: Num): number {
  if (a.kind === Kind.Inf || b.kind === Kind.Inf) return a.kind === b.kind ? 0 : a.kind === Kind.Inf ? 1 : -1;
  const ta = a.e + bitLength(a.m), tb = b.e + bitLength(b.m);
  if (ta !== tb) return ta < tb ? -1 : 1;
  const e = Math.min(a.e, b.e);
  const ma = a.m << BigInt(a.e - e), mb = b.m << BigInt(b.e - e);
  return ma === mb ? 0 : ma < mb ? -1 : 1;
}

/** A finite value rounded to an integer by `rc`: the BigInt, and whether it was inexact / rounded up. */
export function toInteger(a: Num, rc: number): { value: bigint; flags: number } {
  if (a.kind === Kind.Zero) return { value: 0n, flags: 0 };
  const [kept, flags] = roundAt(a.sign, a.m, a.e, 0, rc);
  return { value: a.sign ? -kept : kept, flags };
}

/** An integer (BigInt) as an exact value. */
export function fromInteger(v: bigint): Num {
  if (v === 0n) return num(Kind.Zero, 0);
  return v < 0n ? num(Kind.Finite, 1, -v, 0) : num(Kind.Finite, 0, v, 0);
}

/** A JavaScript double as an exact value. */
export function fromDouble(x: number): Num {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x, true);
  return unpackIeee(view.getBigUint64(0, true), DOUBLE).value;
}

/** The nearest JavaScript double to a value (for the transcendental instructions). */
export function toDouble(a: Num): number {
  switch (a.kind) {
    case Kind.Zero: return a.sign ? -0 : 0;
    case Kind.Inf: return a.sign ? -Infinity : Infinity;
    case Kind.NaN: return NaN;
    default: {
      const { bits } = packIeee(a, DOUBLE, RC_NEAREST);
      const view = new DataView(new ArrayBuffer(8));
      view.setBigUint64(0, bits, true);
      return view.getFloat64(0, true);
    }
  }
}

/** The unbiased exponent of a finite value's leading bit. */
export function exponentOf(a: Num): number {
  return a.e + bitLength(a.m) - 1;
}
