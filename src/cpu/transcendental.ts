/**
 * The x87's logarithm, exponential and arctangent (fyl2x, fyl2xp1, f2xm1, fpatan) to far
 * more than the 64 bits of the result, so the result rounds as the exact value would (the
 * hardware is within one unit of the last place; QEMU computes them in extended precision
 * too). Series on BigInt fixed-point numbers with P fraction bits; values near zero keep
 * their relative precision by carrying the exact rational argument alongside the series.
 *
 * Each function takes finite, non-zero operands (the caller handles zeros, infinities and
 * NaNs) and returns the result as mantissa × 2^exponent, with a signed BigInt mantissa,
 * for `round` to finish.
 */
import { bitLength, type Num } from './float80.js';

/** Fraction bits of the fixed-point series. */
const P = 192;
const ONE = 1n << BigInt(P);

export interface Approx {
  m: bigint;
  e: number;
}

/** Σ u^k / (2k+1) for fixed-point u in [0, 1/4]: atanh(t) = t × this with u = t². */
function oddSeries(u: bigint, alternating: boolean): bigint {
  let sum = ONE, power = ONE;
  for (let k = 1n; ; k++) {
    power = (power * u) >> BigInt(P);
    if (power === 0n) return sum;
    const term = power / (2n * k + 1n);
    sum += alternating && k % 2n ? -term : term;
  }
}

/** ln 2 and π in fixed point. */
const LN2 = (2n * oddSeries(ONE / 9n, false)) / 3n; // 2 atanh(1/3)
const atanOfInverse = (n: bigint) => oddSeries(ONE / (n * n), true) / n; // atan(1/n)
const PI = 16n * atanOfInverse(5n) - 4n * atanOfInverse(239n);

/** ln(1 + N/D) as a rational [num, den], for |N/D| ≤ 0.3 and D > 0: 2 atanh(t) with t = N / (2D + N). */
function log1pRational(n: bigint, d: bigint): [bigint, bigint] {
  const tn = n, td = 2n * d + n;
  const u = (tn * tn * ONE) / (td * td);
  return [2n * tn * oddSeries(u, false), td * ONE];
}

/** A positive finite value as [m, e]. */
const parts = (x: Num): [bigint, number] => [x.m, x.e];

/** y × log2(x), x > 0. */
export function yLog2X(y: Num, x: Num): Approx {
  const [m, e] = parts(x);
  // x = r × 2^k with r = m / 2^j in [1/√2, √2): ln r = ln(1 + (m - 2^j) / 2^j).
  let j = bitLength(m) - 1;
  if (m * m > 2n << BigInt(2 * j)) j++;
  const k = BigInt(e + j);
  const [ln, lnDen] = log1pRational(m - (1n << BigInt(j)), 1n << BigInt(j));
  // log2 x = k + ln / (lnDen × ln2): one fraction.
  return scaled((k * lnDen * LN2 + ln * ONE) * (y.sign ? -y.m : y.m), lnDen * LN2, y.e);
}

/** y × log2(1 + x), |x| < 1 - √2/2. */
export function yLog2XPlus1(y: Num, x: Num): Approx {
  const [m, e] = parts(x);
  const n = x.sign ? -m : m;
  // x = n / 2^-e (e < 0 here: |x| < 1).
  const [ln, lnDen] = log1pRational(n, 1n << BigInt(-e));
  return scaled(ln * ONE * (y.sign ? -y.m : y.m), lnDen * LN2, y.e);
}

/** 2^x - 1, |x| ≤ 1: z × Σ z^k / (k+1)! with z = x ln 2. */
export function exp2Minus1(x: Num): Approx {
  const signedM = x.sign ? -x.m : x.m;
  // z in fixed point: m × LN2 × 2^e (LN2 carries the 2^P).
  const z = x.e >= 0 ? (signedM * LN2) << BigInt(x.e) : (signedM * LN2) >> BigInt(-x.e);
  let sum = ONE, term = ONE;
  for (let k = 2n; ; k++) {
    term = (term * z) / (k * ONE);
    if (term === 0n) break;
    sum += term;
  }
  return { m: signedM * LN2 * sum, e: x.e - 2 * P };
}

/** atan2(y, x) for finite non-zero y and x. */
export function arctangent2(y: Num, x: Num): Approx {
  const swap = compareMagnitude(y, x) > 0;
  const [a, b] = swap ? [x, y] : [y, x]; // |a| ≤ |b|: t = |a| / |b| ≤ 1
  const tn = a.m << BigInt(Math.max(0, a.e - b.e)), td = b.m << BigInt(Math.max(0, b.e - a.e));
  let angle: Approx;
  if (tn * 4n <= td && !swap && !x.sign) {
    // Small t and no quadrant change: keep t exact for its relative precision.
    angle = scaled(tn * oddSeries((tn * tn * ONE) / (td * td), true), td * ONE, 0);
  } else {
    angle = { m: atanFixed((tn * ONE) / td), e: -P };
    if (swap) angle.m = (PI >> 1n) - angle.m;
    if (x.sign) angle.m = PI - angle.m;
  }
  if (y.sign) angle.m = -angle.m;
  return angle;
}

/** atan2 where an operand is zero or infinite: a multiple of π/4 (`quarters`), signed. */
export function quarterTurns(quarters: number, sign: number): Approx {
  const m = (BigInt(quarters) * PI) / 4n;
  return { m: sign ? -m : m, e: -P };
}

/** atan(t) in fixed point for t in [0, 1]: halve the angle while t > 1/4, then the series. */
function atanFixed(t: bigint): bigint {
  let doublings = 0n;
  while (t * 4n > ONE) {
    t = (t * ONE) / (ONE + sqrtFixed(ONE * ONE + t * t));
    doublings++;
  }
  return ((t * oddSeries((t * t) >> BigInt(P), true)) >> BigInt(P)) << doublings;
}

function sqrtFixed(v: bigint): bigint {
  let x = 1n << BigInt((bitLength(v) >> 1) + 1);
  for (;;) {
    const next = (x + v / x) >> 1n;
    if (next >= x) return x;
    x = next;
  }
}

function compareMagnitude(a: Num, b: Num): number {
  const ta = a.e + bitLength(a.m), tb = b.e + bitLength(b.m);
  if (ta !== tb) return ta - tb;
  const shift = a.e - b.e;
  const ma = shift >= 0 ? a.m << BigInt(shift) : a.m, mb = shift >= 0 ? b.m : b.m << BigInt(-shift);
  return ma === mb ? 0 : ma > mb ? 1 : -1;
}

/** num / den × 2^e with at least 80 significant bits in the mantissa. */
function scaled(num: bigint, den: bigint, e: number): Approx {
  const magnitude = num < 0n ? -num : num;
  const g = Math.max(0, 80 + bitLength(den) - bitLength(magnitude));
  return { m: (num << BigInt(g)) / den, e: e - g };
}
