/**
 * The WebAssembly runtime (src/cpu/wasm/runtime.ts) repeats the CPU's lazy flags (cpu.ts)
 * and alu.ts's helpers that blocks call: each, called directly on random operands and a
 * random lazy-flag state, gives what the CPU gives, result, register file and flag state
 * alike. (The differential
 * test checks the same instructions end to end against qemu-i386; this one reaches the
 * operands a few hundred random states rarely do: every size, carry in, lazy operation.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CPU, PhysicalMemory } from '../../src/cpu/index.js';
import { adcFlags, dec, imul32Flags, inc, mulAcc, sbbFlags, szp } from '../../src/cpu/alu.js';
import { ARITH_FLAGS, OP_ADD, OP_DEC, OP_INC, OP_LOGIC, OP_NONE, OP_SUB } from '../../src/cpu/flags.js';
import { INLINE, runtimeModule } from '../../src/cpu/wasm/runtime.js';
import { Code, I32, ModuleBuilder } from '../../src/cpu/wasm/encoder.js';
import { SLOT_COUNT, SLOTS } from '../../src/cpu/wasm/translate.js';
import { useWasmTier } from '../../src/cpu/wasm/tier.js';

const SEED = 20261206;
const CASES = 4000;

/** A small deterministic generator (xorshift32), so a failure names its case. */
function random(seed: number): () => number {
  let s = seed | 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s | 0;
  };
}

const LAZY_FIELDS = ['lfOp', 'lfA', 'lfB', 'lfR', 'lfSize', 'lfCarry', 'flags'] as const;

test('wasm runtime: cond, getCF, getEflags (called and written in place), szp, adcFlags, sbbFlags, imul32Flags, inc, dec and mulAcc give what cpu.ts and alu.ts give, on random operands and lazy states', () => {
  const mem = new PhysicalMemory(1 << 20);
  const cpu = new CPU(mem, { read: () => 0xff, write: () => {} });
  const tier = useWasmTier(cpu, true);
  const pages = mem.wasm.buffer.byteLength / 65536;
  const runtime = new WebAssembly.Instance(new WebAssembly.Module(runtimeModule(tier.layout, pages)), { env: { memory: mem.wasm } })
    .exports as Record<string, (...args: number[]) => number>;
  // The code blocks write in place of a call, each in a function of its own: cond for every
  // constant condition, getCF, getEflags.
  const inPlace = new ModuleBuilder();
  inPlace.importMemory('env', 'memory', pages, pages);
  const write = (name: string, literals: number[], exportName: string) => {
    const c = new Code(0);
    for (const v of literals) c.i32(v);
    assert.ok(INLINE[name]!(c, tier.layout, literals), `${name} was not written in place`);
    inPlace.function([], [I32], c, exportName);
  };
  for (let cc = 0; cc < 16; cc++) write('cond', [cc], `cond${cc}`);
  write('getCF', [], 'getCF');
  write('getEflags', [], 'getEflags');
  const written = new WebAssembly.Instance(new WebAssembly.Module(inPlace.encode()), { env: { memory: mem.wasm } })
    .exports as Record<string, () => number>;
  const slots = new Int32Array(mem.wasm.buffer, tier.layout.slots, SLOT_COUNT);
  const registers = new Int32Array(mem.wasm.buffer, tier.layout.registers, 8);
  const next = random(SEED);
  const pick = <T>(list: readonly T[]): T => list[(next() >>> 0) % list.length]!;
  /** A 32-bit value, often a boundary (0, 1, -1, the sign bits of each size). */
  const operand = () => (next() & 3) === 0 ? pick([0, 1, -1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, -0x80000000]) : next();

  for (let i = 0; i < CASES; i++) {
    const where = `case ${i} (seed ${SEED})`;
    // The same lazy state on both sides, the CPU's fields and the slots: one an instruction
    // leaves (lfR what the operation gives; cond's fast path for SUB relies on it).
    const lfOp = pick([OP_NONE, OP_ADD, OP_SUB, OP_LOGIC, OP_INC, OP_DEC]);
    const lfA = lfOp === OP_LOGIC ? 0 : operand(), lfB = lfOp === OP_INC || lfOp === OP_DEC ? 1 : lfOp === OP_LOGIC ? 0 : operand();
    const lfR = lfOp === OP_ADD || lfOp === OP_INC ? (lfA + lfB) | 0 : lfOp === OP_SUB || lfOp === OP_DEC ? (lfA - lfB) | 0 : operand();
    const state = { lfOp, lfA, lfB, lfR, lfSize: pick([1, 2, 4]), lfCarry: next() & 1, flags: (next() & ARITH_FLAGS) | 0x202 };
    const regs = Array.from({ length: 8 }, operand);
    const load = () => {
      for (const f of LAZY_FIELDS) {
        cpu[f] = state[f];
        slots[SLOTS[f]] = state[f];
      }
      cpu.reg.set(regs);
    };
    /** The CPU's lazy state and registers after alu.ts, then the same after the runtime (the register file is shared: one after the other). */
    const lazyOfCpu = () => ({ ...Object.fromEntries(LAZY_FIELDS.map((f) => [f, cpu[f]])), regs: Array.from(cpu.reg) });
    const lazyOfSlots = () => ({ ...Object.fromEntries(LAZY_FIELDS.map((f) => [f, slots[SLOTS[f]]])), regs: Array.from(registers) });

    // The lazy flags: every condition, and EFLAGS with the state folded in.
    for (let cc = 0; cc < 16; cc++) {
      load();
      const expected = cpu.cond(cc) ? 1 : 0;
      load();
      assert.equal(runtime.cond!(cc), expected, `${where}: cond(${cc}) with ${JSON.stringify(state)}`);
      assert.equal(written[`cond${cc}`]!(), expected, `${where}: cond(${cc}) in place with ${JSON.stringify(state)}`);
    }
    load();
    const carry = cpu.getCF();
    load();
    assert.equal(runtime.getCF!(), carry, `${where}: getCF with ${JSON.stringify(state)}`);
    assert.equal(written.getCF!(), carry, `${where}: getCF in place with ${JSON.stringify(state)}`);
    load();
    const eflags = cpu.getEflags();
    const folded = lazyOfCpu();
    for (const [how, f] of [['', runtime.getEflags!], [' in place', written.getEflags!]] as const) {
      load();
      assert.equal(f(), eflags, `${where}: getEflags${how} with ${JSON.stringify(state)}`);
      assert.deepEqual(lazyOfSlots(), folded, `${where}: getEflags${how} with ${JSON.stringify(state)}: lazy state after`);
    }

    const [a, b, cin, size] = [operand(), operand(), next() & 1, pick([1, 2, 4])];
    const r = pick([(a + b + cin) | 0, (a - b - cin) | 0, Math.imul(a, b), operand()]);
    assert.equal(runtime.szp!(r, size), szp(r, size), `${where}: szp(${r}, ${size})`);
    assert.equal(runtime.adcFlags!(a, b, r, cin, size), adcFlags(a, b, r, cin, size), `${where}: adcFlags(${a}, ${b}, ${r}, ${cin}, ${size})`);
    assert.equal(runtime.sbbFlags!(a, b, r, cin, size), sbbFlags(a, b, r, cin, size), `${where}: sbbFlags(${a}, ${b}, ${r}, ${cin}, ${size})`);
    assert.equal(runtime.imul32Flags!(a, b, r), imul32Flags(a, b, r), `${where}: imul32Flags(${a}, ${b}, ${r})`);

    for (const [name, js] of [['inc', inc], ['dec', dec]] as const) {
      load();
      const expected = js(cpu, a, size);
      const want = lazyOfCpu();
      load();
      assert.equal(runtime[name]!(a, size), expected, `${where}: ${name}(${a}, ${size})`);
      assert.deepEqual(lazyOfSlots(), want, `${where}: ${name}(${a}, ${size}) lazy state`);
    }

    const signed = next() & 1;
    load();
    mulAcc(cpu, b, size, signed !== 0);
    const want = lazyOfCpu();
    load();
    runtime.mulAcc!(b, size, signed);
    assert.deepEqual(lazyOfSlots(), want, `${where}: mulAcc(${b}, ${size}, ${signed}) with eax ${regs[0]}, edx ${regs[2]}`);
  }
});
