/**
 * 32-bit DIV and IDIV (EDX:EAX by a 32-bit divisor), which the CPU computes in doubles by
 * 16-bit digits, against BigInt arithmetic: the quotient and remainder, and #DE exactly
 * when the quotient does not fit; and the same instructions run by each CPU tier (compiled
 * blocks divide inline when EDX is only EAX's extension, as after cdq). Values are drawn
 * around the edges (0, 1, powers of two, the signed limits) as well as at random, from a
 * printed seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CPU, CpuFault, PhysicalMemory } from '../../src/cpu/index.js';
import { divAcc } from '../../src/cpu/alu.js';
import { EAX, EDX, VEC_DE } from '../../src/cpu/state.js';
import { CPU_TIERS } from '../support/build.js';

const SEED = Number(process.env.MEMVISOR_SEED ?? 20261203);
const CASES = 20000;

/** xorshift32: the same values from the same seed. */
function generator(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return x >>> 0;
  };
}

const EDGES = [0, 1, 2, 3, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff];

function reference(hi: number, lo: number, divisor: number, signed: boolean): { q: number; r: number } | 'DE' {
  const n = signed ? BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)) : (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  const d = signed ? BigInt(divisor | 0) : BigInt(divisor >>> 0);
  if (d === 0n) return 'DE';
  const q = n / d, r = n % d; // BigInt division truncates toward zero, as IDIV does
  if (signed ? q < -(1n << 31n) || q >= 1n << 31n : q >= 1n << 32n) return 'DE';
  return { q: Number(BigInt.asUintN(32, q)), r: Number(BigInt.asUintN(32, r)) };
}

test(`32-bit div and idiv match BigInt arithmetic (seed ${SEED})`, () => {
  const cpu = new CPU(new PhysicalMemory(1 << 16), { read: () => 0xff, write: () => {} });
  const next = generator(SEED);
  const pick = () => (next() & 3) === 0 ? EDGES[next() % EDGES.length]! ^ (next() & 1) : next();
  for (let i = 0; i < CASES; i++) {
    const signed = (i & 1) === 1;
    let hi = pick(), lo = pick(), divisor = pick();
    // Half the cases with a quotient that fits: the dividend's high half below the divisor.
    if ((i & 2) === 0 && divisor !== 0) {
      if (signed) hi = ((next() & 1) ? -1 : 0) ^ (next() % Math.max(1, Math.abs(divisor | 0) >>> 1));
      else hi = next() % divisor;
    }
    const want = reference(hi, lo, divisor, signed);
    cpu.reg[EDX] = hi;
    cpu.reg[EAX] = lo;
    let got: { q: number; r: number } | 'DE';
    try {
      divAcc(cpu, divisor | 0, 4, signed);
      got = { q: cpu.reg[EAX]! >>> 0, r: cpu.reg[EDX]! >>> 0 };
    } catch (e) {
      assert.ok(e instanceof CpuFault, `unexpected ${String(e)}`);
      assert.equal(e.vector, VEC_DE);
      got = 'DE';
    }
    const h = (v: number) => `0x${(v >>> 0).toString(16)}`;
    assert.deepEqual(got, want, `${signed ? 'idiv' : 'div'} ${h(hi)}:${h(lo)} / ${h(divisor)} (case ${i}, MEMVISOR_SEED=${SEED})`);
  }
});

test(`32-bit div and idiv run by every CPU tier match BigInt arithmetic (seed ${SEED})`, () => {
  const CODE = 0x1000;
  for (const signed of [false, true]) {
    // S: div ecx (or idiv ecx); jmp S
    const code = [0xf7, signed ? 0xf9 : 0xf1, 0xeb, 0xfc];
    for (const [tier, threshold] of CPU_TIERS) {
      const mem = new PhysicalMemory(1 << 16);
      const cpu = new CPU(mem, { read: () => 0xff, write: () => {} });
      if (threshold !== undefined) cpu.blocks.threshold = threshold;
      mem.loadBytes(CODE, Uint8Array.from(code));
      cpu.enterFlatProtectedMode(0);
      const next = generator(SEED + (signed ? 1 : 0));
      const pick = () => (next() & 3) === 0 ? EDGES[next() % EDGES.length]! ^ (next() & 1) : next();
      let compared = 0;
      for (let i = 0; i < 4000; i++) {
        let lo = pick(), divisor = pick();
        if ((i & 7) === 0) lo = next() & 0xffff;
        // EDX as EAX's extension (the inline path), or else a high half below the divisor.
        let hi = signed ? (lo | 0) >> 31 : 0;
        if ((i & 3) === 3 && divisor !== 0) hi = signed ? ((lo | 0) >> 31) ^ (next() & 1) : next() % divisor;
        const want = reference(hi, lo, divisor, signed);
        if (want === 'DE') continue;
        cpu.eip = CODE;
        cpu.reg[EDX] = hi;
        cpu.reg[EAX] = lo;
        cpu.reg[1] = divisor;
        cpu.run(2);
        const h = (v: number) => `0x${(v >>> 0).toString(16)}`;
        assert.deepEqual({ q: cpu.reg[EAX]! >>> 0, r: cpu.reg[EDX]! >>> 0 }, want,
          `${tier}: ${signed ? 'idiv' : 'div'} ${h(hi)}:${h(lo)} / ${h(divisor)} (case ${i}, MEMVISOR_SEED=${SEED})`);
        compared++;
      }
      assert.ok(compared > 2000, `${tier}: only ${compared} cases without #DE`);
      if (threshold !== 0) assert.ok(cpu.blocks.find(cpu.mem.hostOffset(CODE), CODE) !== null, `${tier}: the division was not compiled`);
    }
  }
});
