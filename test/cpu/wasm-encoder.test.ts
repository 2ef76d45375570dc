/**
 * The WebAssembly writer (src/cpu/wasm/encoder.ts) against V8's own WebAssembly: integer
 * encodings against the specification's examples, modules that must validate and compute
 * what JavaScript computes (random i32 expressions, control flow, memory, imports).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bytes, Code, I32, ModuleBuilder, Op } from '../../src/cpu/wasm/encoder.js';

const hex = (b: Bytes) => [...b.view()].map((x) => x.toString(16).padStart(2, '0')).join(' ');

test('LEB128: unsigned and signed 32-bit encodings', () => {
  assert.equal(hex(new Bytes().u32(0)), '00');
  assert.equal(hex(new Bytes().u32(127)), '7f');
  assert.equal(hex(new Bytes().u32(128)), '80 01');
  assert.equal(hex(new Bytes().u32(624485)), 'e5 8e 26');
  assert.equal(hex(new Bytes().u32(0xffffffff)), 'ff ff ff ff 0f');
  assert.equal(hex(new Bytes().s32(0)), '00');
  assert.equal(hex(new Bytes().s32(63)), '3f');
  assert.equal(hex(new Bytes().s32(64)), 'c0 00');
  assert.equal(hex(new Bytes().s32(-1)), '7f');
  assert.equal(hex(new Bytes().s32(-64)), '40');
  assert.equal(hex(new Bytes().s32(-65)), 'bf 7f');
  assert.equal(hex(new Bytes().s32(-123456)), 'c0 bb 78');
  assert.equal(hex(new Bytes().s32(0x7fffffff)), 'ff ff ff ff 07');
  assert.equal(hex(new Bytes().s32(-0x80000000)), '80 80 80 80 78');
  assert.equal(hex(new Bytes().s32(0x80100000)), '80 80 c0 80 78', 'a kernel address is taken as an int32');
});

function instantiate(m: ModuleBuilder, imports: WebAssembly.Imports = {}): WebAssembly.Exports {
  const bytes = m.encode();
  assert.ok(WebAssembly.validate(bytes), 'the module validates');
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), imports).exports;
}

/** A seeded generator (xorshift32). */
function random(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return x >>> 0;
  };
}

const BINARY: Array<[number, (a: number, b: number) => number]> = [
  [Op.i32Add, (a, b) => (a + b) | 0], [Op.i32Sub, (a, b) => (a - b) | 0], [Op.i32Mul, (a, b) => Math.imul(a, b)],
  [Op.i32And, (a, b) => a & b], [Op.i32Or, (a, b) => a | b], [Op.i32Xor, (a, b) => a ^ b],
  [Op.i32Shl, (a, b) => a << b], [Op.i32ShrS, (a, b) => a >> b], [Op.i32ShrU, (a, b) => (a >>> b) | 0],
  [Op.i32Rotl, (a, b) => (a << (b & 31)) | (a >>> (32 - (b & 31)))], [Op.i32LtU, (a, b) => Number(a >>> 0 < b >>> 0)],
  [Op.i32GtS, (a, b) => Number(a > b)], [Op.i32Eq, (a, b) => Number(a === b)],
];
const EDGES = [0, 1, -1, 31, 32, 0x7fffffff, -0x80000000, 0x80100000 | 0, 0xffff, 0x80];

test('random i32 expressions of two parameters compute what JavaScript computes (seeded)', () => {
  const next = random(20261205);
  const m = new ModuleBuilder();
  const expected: Array<(a: number, b: number) => number> = [];
  for (let f = 0; f < 200; f++) {
    const code = new Code(2);
    // A chain of operations, each on the result so far and a parameter or a constant.
    let js = (a: number, _b: number) => a;
    code.get(0);
    for (let k = 0; k < 1 + (next() % 6); k++) {
      const [op, fn] = BINARY[next() % BINARY.length]!;
      const pick = next() % 3;
      const constant = next() % 2 ? EDGES[next() % EDGES.length]! : next() | 0;
      if (pick === 0) code.get(0);
      else if (pick === 1) code.get(1);
      else code.i32(constant);
      code.op(op);
      const before = js;
      js = (a, b) => fn(before(a, b), pick === 0 ? a : pick === 1 ? b : constant);
    }
    m.function([I32, I32], [I32], code, `f${f}`);
    expected.push(js);
  }
  const exports = instantiate(m);
  for (let f = 0; f < expected.length; f++) {
    const fn = exports[`f${f}`] as (a: number, b: number) => number;
    for (const [a, b] of [[0, 0], [1, -1], [0x80100000 | 0, 4], [next() | 0, next() % 40], [next() | 0, next() | 0]] as const) {
      assert.equal(fn(a, b), expected[f]!(a, b), `function ${f} (${a}, ${b})`);
    }
  }
});

test('control flow: a loop, br_table and if/else with a result; locals', () => {
  const m = new ModuleBuilder();
  // sum(n) = 1 + 2 + ... + n with a loop.
  const sum = new Code(1);
  const acc = sum.local();
  sum.open(Op.block).open(Op.loop)
    .get(0).op(Op.i32Eqz).brIf(1)
    .get(acc).get(0).op(Op.i32Add).set(acc)
    .get(0).i32(1).op(Op.i32Sub).set(0)
    .br(0).end().end().get(acc);
  m.function([I32], [I32], sum, 'sum');
  // pick(i) = [10, 20, 30][i], else 99, through br_table.
  const pick = new Code(1);
  pick.open(Op.block).open(Op.block).open(Op.block).open(Op.block)
    .get(0).brTable([0, 1, 2], 3)
    .end().i32(10).op(Op.return)
    .end().i32(20).op(Op.return)
    .end().i32(30).op(Op.return)
    .end().i32(99);
  m.function([I32], [I32], pick, 'pick');
  // sign(x) = x < 0 ? -1 : 1, with if/else leaving a value.
  const sign = new Code(1);
  sign.get(0).i32(0).op(Op.i32LtS).open(Op.if, I32).i32(-1).op(Op.else).i32(1).end();
  m.function([I32], [I32], sign, 'sign');
  const e = instantiate(m);
  assert.equal((e.sum as (n: number) => number)(100), 5050);
  assert.deepEqual([0, 1, 2, 3, -1].map((i) => (e.pick as (i: number) => number)(i)), [10, 20, 30, 99, 99]);
  assert.deepEqual([-5, 0, 7].map((x) => (e.sign as (x: number) => number)(x)), [-1, 1, 1]);
});

test('an imported memory and imported functions: loads, stores and calls as JavaScript sees them', () => {
  const m = new ModuleBuilder();
  const note = m.importFunction('env', 'note', [I32, I32], [I32]);
  m.importMemory('env', 'memory', 1);
  // copy(from, to): stores at `to` the 32-bit word at `from`, then the sign-extended byte
  // and the zero-extended 16-bit word at `from` at to+4 and to+8; returns note(from, to).
  const copy = new Code(2);
  copy.get(1).get(0).mem(Op.i32Load, 2).mem(Op.i32Store, 2)
    .get(1).get(0).mem(Op.i32Load8S, 0).mem(Op.i32Store, 2, 4)
    .get(1).get(0).mem(Op.i32Load16U, 1).mem(Op.i32Store, 2, 8)
    .get(0).get(1).call(note);
  m.function([I32, I32], [I32], copy, 'copy');
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  const seen: number[][] = [];
  const e = instantiate(m, { env: { memory, note: (a: number, b: number) => { seen.push([a, b]); return a + b; } } });
  const view = new DataView(memory.buffer);
  view.setInt32(100, 0x8010ff85, true);
  assert.equal((e.copy as (a: number, b: number) => number)(100, 200), 300);
  assert.deepEqual(seen, [[100, 200]]);
  assert.equal(view.getInt32(200, true), 0x8010ff85 | 0);
  assert.equal(view.getInt32(204, true), -123, 'byte 0x85 sign-extended');
  assert.equal(view.getInt32(208, true), 0xff85, '16-bit word zero-extended');
});

test('the builder refuses an import after a function and code made for another arity', () => {
  const m = new ModuleBuilder();
  m.function([], [I32], new Code(0).i32(1), 'one');
  assert.throws(() => m.importFunction('env', 'late', []), /imports must come before/);
  assert.throws(() => m.function([I32], [], new Code(0)), /another number of parameters/);
});
