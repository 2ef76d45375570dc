/**
 * The CPU methods translated blocks call most, written in WebAssembly over the state
 * area's slots, so that a block calls them without leaving WebAssembly: the lazy flags
 * (getCF, cond, materializeFlags, getEflags, setArith), as cpu.ts computes them, and STI
 * (CPU.sti: MemV6's popcli makes 2.2 million a usertests run); and the ALU helpers blocks
 * call (alu.ts): the flags of a result, of ADC, SBB and a truncated IMUL, INC and DEC of a
 * memory operand, and MUL/IMUL of the accumulator (gcc divides by a constant with MUL: 1.4
 * million of these calls a usertests run went out to JavaScript, 300,000 of them copying
 * the CPU's fields out and back).
 * They repeat cpu.ts's and alu.ts's rules in another language: test/cpu/wasm-runtime.test.ts
 * checks each against them on random operands, the differential test and the tier tests
 * on MemV6 against the interpreter.
 */
import { AF, ARITH_FLAGS, CF, IF, OF, OP_ADD, OP_DEC, OP_INC, OP_LOGIC, OP_NONE, OP_SUB, PF, SF, ZF } from '../flags.js';
import { EAX, EDX } from '../state.js';
import { Code, I32, I64, ModuleBuilder, Op } from './encoder.js';
import { SLOTS, type StateLayout } from './translate.js';

/** The functions, by the CPU method's name: what blocks import instead of the JavaScript. */
export const RUNTIME_FUNCTIONS = ['getCF', 'cond', 'materializeFlags', 'getEflags', 'setArith', 'sti',
  'szp', 'adcFlags', 'sbbFlags', 'imul32Flags', 'inc', 'dec', 'mulAcc'] as const;

export function runtimeModule(layout: StateLayout, pages: number): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder();
  m.importMemory('env', 'memory', pages, pages);
  const { store } = slotAccess(layout);

  const getCF = new Code(0);
  emitGetCF(getCF, layout);
  const GET_CF = m.function([], [I32], getCF, 'getCF');

  // cond(cc): the general rule of cpu.ts's cond (its fast path for sub gives the same
  // answers), the same code a block writes in place for a constant cc (emitCondOfBits).
  const cond = new Code(1);
  {
    const bits = cond.local(), v = cond.local();
    emitArithBits(cond, layout);
    cond.set(bits);
    cond.open(Op.block);
    for (let i = 7; i >= 0; i--) cond.open(Op.block);
    cond.get(0).i32(1).op(Op.i32ShrU).brTable([0, 1, 2, 3, 4, 5, 6, 7], 7);
    for (let i = 0; i < 8; i++) {
      cond.end();
      emitCondOfBits(cond, bits, 2 * i);
      cond.set(v).br(7 - i);
    }
    cond.end();
    // cc & 1 inverts
    cond.get(v).get(0).i32(1).op(Op.i32And).op(Op.i32Xor);
  }
  m.function([I32], [I32], cond, 'cond');

  const materialize = new Code(0);
  emitMaterialize(materialize, layout);
  m.function([], [], materialize, 'materializeFlags');

  const getEflags = new Code(0);
  emitGetEflags(getEflags, layout);
  m.function([], [I32], getEflags, 'getEflags');

  const setArith = new Code(1);
  emitSetArith(setArith, layout, 0);
  const SET_ARITH = m.function([I32], [], setArith, 'setArith');

  const sti = new Code(0);
  emitSti(sti, layout);
  m.function([], [], sti, 'sti');

  // The ALU helpers (alu.ts).
  const szp = new Code(2);
  emitSzp(szp, 0, 1);
  const SZP = m.function([I32, I32], [I32], szp, 'szp');

  // adcFlags(a, b, r, cin, size) and sbbFlags(a, b, r, cin, size): the six flags of r = a ± b ± cin.
  for (const name of ['adcFlags', 'sbbFlags'] as const) {
    const c = new Code(5);
    const [a, b, r, cin, size] = [0, 1, 2, 3, 4];
    const mk = c.local();
    sizedBy(c, size, 0xff, 0xffff, -1); c.set(mk);
    c.get(r).get(size).call(SZP);
    // CF: with a carry in, the result is at most a (ADC) / a at most b (SBB); without, below.
    const [x, y] = name === 'adcFlags' ? [r, a] : [a, b];
    c.get(x).get(mk).op(Op.i32And).get(y).get(mk).op(Op.i32And).op(Op.i32LeU);
    c.get(x).get(mk).op(Op.i32And).get(y).get(mk).op(Op.i32And).op(Op.i32LtU);
    c.get(cin).op(Op.select).op(Op.i32Or);
    // OF: (a ^ r) & (b ^ r) (ADC) or (a ^ b) & (a ^ r) (SBB), at the sign bit.
    if (name === 'adcFlags') c.get(a).get(r).op(Op.i32Xor).get(b).get(r).op(Op.i32Xor);
    else c.get(a).get(b).op(Op.i32Xor).get(a).get(r).op(Op.i32Xor);
    c.op(Op.i32And); sizedBy(c, size, 0x80, 0x8000, -0x80000000); c.op(Op.i32And).i32(0).op(Op.i32Ne).i32(OF).op(Op.i32Mul).op(Op.i32Or);
    c.get(a).get(b).op(Op.i32Xor).get(r).op(Op.i32Xor).i32(AF).op(Op.i32And).op(Op.i32Or);
    m.function([I32, I32, I32, I32, I32], [I32], c, name);
  }

  // imul32Flags(a, b, r): szp of r, and CF = OF when the whole product is not r.
  const imul = new Code(3);
  imul.get(2).i32(4).call(SZP);
  imul.get(0).op(Op.i64ExtendI32S).get(1).op(Op.i64ExtendI32S).op(Op.i64Mul).get(2).op(Op.i64ExtendI32S).op(Op.i64Ne)
    .i32(CF | OF).op(Op.i32Mul).op(Op.i32Or);
  m.function([I32, I32, I32], [I32], imul, 'imul32Flags');

  // inc(a, size) / dec(a, size): the lazy INC/DEC state, CF kept in lfCarry.
  for (const [name, op] of [['inc', OP_INC], ['dec', OP_DEC]] as const) {
    const c = new Code(2);
    const cf = c.local(), r = c.local();
    c.call(GET_CF).set(cf);
    c.get(0).i32(1).op(op === OP_INC ? Op.i32Add : Op.i32Sub).set(r);
    store(c, 'lfOp', (c) => c.i32(op));
    store(c, 'lfA', (c) => c.get(0));
    store(c, 'lfB', (c) => c.i32(1));
    store(c, 'lfR', (c) => c.get(r));
    store(c, 'lfSize', (c) => c.get(1));
    store(c, 'lfCarry', (c) => c.get(cf));
    c.get(r);
    m.function([I32, I32], [I32], c, name);
  }

  // mulAcc(src, size, signed): MUL/IMUL of the accumulator (AX, DX:AX, EDX:EAX), in the register file.
  const mul = new Code(3);
  {
    const [src, size, signed] = [0, 1, 2];
    const p = mul.local(), high = mul.local(), over = mul.local(), wide = mul.local(I64);
    const eax = layout.registers + EAX * 4, edx = layout.registers + EDX * 4;
    const accumulator = (c: Code) => c.i32(0).mem(Op.i32Load, 2, eax);
    mul.get(size).i32(4).op(Op.i32Eq).open(Op.if);
    // The 64-bit product: EAX its low half, EDX its high half; over when the high half is not
    // the low half's sign (IMUL) or not zero (MUL).
    accumulator(mul).op(Op.i64ExtendI32S).get(src).op(Op.i64ExtendI32S).op(Op.i64Mul);
    accumulator(mul).op(Op.i64ExtendI32U).get(src).op(Op.i64ExtendI32U).op(Op.i64Mul);
    mul.get(signed).op(Op.select).set(wide);
    mul.get(wide).op(Op.i32WrapI64).set(p);
    mul.get(wide).i64(32).op(Op.i64ShrU).op(Op.i32WrapI64).set(high);
    mul.i32(0).get(p).mem(Op.i32Store, 2, eax);
    mul.i32(0).get(high).mem(Op.i32Store, 2, edx);
    mul.get(high).get(p).i32(31).op(Op.i32ShrS).op(Op.i32Ne);
    mul.get(high).i32(0).op(Op.i32Ne);
    mul.get(signed).op(Op.select).set(over);
    mul.op(Op.else);
    mul.get(size).i32(2).op(Op.i32Eq).open(Op.if);
    // AX times the low 16 bits: the product (at most 32 bits) in DX:AX.
    accumulator(mul).op(Op.i32Extend16S).get(src).op(Op.i32Extend16S).op(Op.i32Mul);
    accumulator(mul).i32(0xffff).op(Op.i32And).get(src).i32(0xffff).op(Op.i32And).op(Op.i32Mul);
    mul.get(signed).op(Op.select).set(p);
    mul.get(p).op(Op.i32Extend16S).get(p).op(Op.i32Ne);
    mul.get(p).i32(0xffff0000 | 0).op(Op.i32And).i32(0).op(Op.i32Ne);
    mul.get(signed).op(Op.select).set(over);
    mul.i32(0).i32(0).mem(Op.i32Load, 2, edx).i32(~0xffff).op(Op.i32And).get(p).i32(16).op(Op.i32ShrS).i32(0xffff).op(Op.i32And).op(Op.i32Or)
      .mem(Op.i32Store, 2, edx);
    mul.op(Op.else);
    // AL times the low 8 bits: the product in AX.
    accumulator(mul).op(Op.i32Extend8S).get(src).op(Op.i32Extend8S).op(Op.i32Mul);
    accumulator(mul).i32(0xff).op(Op.i32And).get(src).i32(0xff).op(Op.i32And).op(Op.i32Mul);
    mul.get(signed).op(Op.select).set(p);
    mul.get(p).op(Op.i32Extend8S).get(p).op(Op.i32Ne);
    mul.get(p).i32(0xff00).op(Op.i32And).i32(0).op(Op.i32Ne);
    mul.get(signed).op(Op.select).set(over);
    mul.end();
    // AX (both narrow sizes) is the product's low 16 bits.
    mul.i32(0).i32(0).mem(Op.i32Load, 2, eax).i32(~0xffff).op(Op.i32And).get(p).i32(0xffff).op(Op.i32And).op(Op.i32Or)
      .mem(Op.i32Store, 2, eax);
    mul.end();
    // setArith(szp(low half, size) | CF and OF when over).
    mul.get(p).get(size).call(SZP).get(over).i32(CF | OF).op(Op.i32Mul).op(Op.i32Or).call(SET_ARITH);
  }
  m.function([I32, I32, I32], [], mul, 'mulAcc');

  return m.encode();
}

/** Reads and writes of the state area's slots for code over `layout`. */
function slotAccess(layout: StateLayout) {
  const slot = (name: keyof typeof SLOTS) => layout.slots + SLOTS[name] * 4;
  return {
    load: (c: Code, name: keyof typeof SLOTS) => c.i32(0).mem(Op.i32Load, 2, slot(name)),
    store: (c: Code, name: keyof typeof SLOTS, value: (c: Code) => void) => {
      c.i32(0);
      value(c);
      c.mem(Op.i32Store, 2, slot(name));
    },
  };
}

/** SIZE_MASK / SIZE_SIGN of the operand size in local `size` (1, 2 or 4). */
function sizedBy(c: Code, size: number, one: number, two: number, four: number): void {
  c.i32(one).i32(two).i32(four);
  c.get(size).i32(2).op(Op.i32Eq).op(Op.select);
  c.get(size).i32(1).op(Op.i32Eq).op(Op.select);
}

/**
 * The six arithmetic flags of the lazy state, left on the stack (EFLAGS' own when nothing
 * is pending), in one pass, each field loaded once: through cpu.ts's six getters, a
 * function each, a PUSHF cost 35 ns (MemV6's pushcli and popcli make 3 million a usertests
 * run).
 */
function emitArithBits(c: Code, layout: StateLayout): number {
  const { load } = slotAccess(layout);
  const [op, a, b, r, size, mk, s, rm, bits] = [c.local(), c.local(), c.local(), c.local(), c.local(), c.local(), c.local(), c.local(), c.local()];
  load(c, 'flags').i32(ARITH_FLAGS).op(Op.i32And).set(bits);
  load(c, 'lfOp').set(op);
  c.get(op).i32(OP_NONE).op(Op.i32Ne).open(Op.if);
  load(c, 'lfA').set(a);
  load(c, 'lfB').set(b);
  load(c, 'lfR').set(r);
  load(c, 'lfSize').set(size);
  sizedBy(c, size, 0xff, 0xffff, -1); c.set(mk);
  sizedBy(c, size, 0x80, 0x8000, -0x80000000); c.set(s);
  c.get(r).get(mk).op(Op.i32And).set(rm);
  // ZF, SF, PF of the result, whatever the operation.
  emitSzp(c, r, size);
  c.set(bits);
  // CF, OF and AF by operation (logic: none of them).
  c.get(op).i32(OP_LOGIC).op(Op.i32Ne).open(Op.if);
  c.get(bits).get(a).get(b).op(Op.i32Xor).get(r).op(Op.i32Xor).i32(AF).op(Op.i32And).op(Op.i32Or).set(bits);
  c.get(op).i32(OP_ADD).op(Op.i32Eq).open(Op.if);
  c.get(bits).get(rm).get(a).get(mk).op(Op.i32And).op(Op.i32LtU).op(Op.i32Or);
  c.get(a).get(r).op(Op.i32Xor).get(b).get(r).op(Op.i32Xor).op(Op.i32And).get(s).op(Op.i32And).i32(0).op(Op.i32Ne).i32(OF).op(Op.i32Mul).op(Op.i32Or).set(bits);
  c.op(Op.else);
  c.get(op).i32(OP_SUB).op(Op.i32Eq).open(Op.if);
  c.get(bits).get(a).get(mk).op(Op.i32And).get(b).get(mk).op(Op.i32And).op(Op.i32LtU).op(Op.i32Or);
  c.get(a).get(b).op(Op.i32Xor).get(a).get(r).op(Op.i32Xor).op(Op.i32And).get(s).op(Op.i32And).i32(0).op(Op.i32Ne).i32(OF).op(Op.i32Mul).op(Op.i32Or).set(bits);
  c.op(Op.else);
  // INC and DEC keep the carry they found; OF when the result is the sign bit alone (INC) or all but it (DEC).
  c.get(bits);
  load(c, 'lfCarry').op(Op.i32Or);
  c.get(rm).get(s).get(s).i32(-1).op(Op.i32Xor).get(mk).op(Op.i32And).get(op).i32(OP_INC).op(Op.i32Eq).op(Op.select).op(Op.i32Eq)
    .i32(OF).op(Op.i32Mul).op(Op.i32Or).set(bits);
  c.end();
  c.end();
  c.end();
  c.end();
  c.get(bits);
  return op;
}

/** getCF: the carry of the lazy state (0 or 1; INC and DEC give the one they kept), left on the stack. */
function emitGetCF(c: Code, layout: StateLayout): void {
  const { load } = slotAccess(layout);
  const op = c.local(), size = c.local(), mk = c.local();
  load(c, 'lfOp').set(op);
  c.get(op).i32(OP_NONE).op(Op.i32Eq).open(Op.if, I32);
  load(c, 'flags').i32(CF).op(Op.i32And);
  c.op(Op.else);
  c.get(op).i32(OP_ADD).op(Op.i32Eq).get(op).i32(OP_SUB).op(Op.i32Eq).op(Op.i32Or).open(Op.if, I32);
  load(c, 'lfSize').set(size);
  sizedBy(c, size, 0xff, 0xffff, -1); c.set(mk);
  // ADD: the result below an operand; SUB: the first operand below the second.
  load(c, 'lfR'); load(c, 'lfA'); c.get(op).i32(OP_ADD).op(Op.i32Eq).op(Op.select).get(mk).op(Op.i32And);
  load(c, 'lfA'); load(c, 'lfB'); c.get(op).i32(OP_ADD).op(Op.i32Eq).op(Op.select).get(mk).op(Op.i32And);
  c.op(Op.i32LtU);
  c.op(Op.else);
  c.i32(0);
  load(c, 'lfCarry');
  c.get(op).i32(OP_LOGIC).op(Op.i32Eq).op(Op.select);
  c.end();
  c.end();
}

/** materializeFlags: the lazy state folded into EFLAGS. */
function emitMaterialize(c: Code, layout: StateLayout): void {
  const { load, store } = slotAccess(layout);
  const bits = c.local();
  const op = emitArithBits(c, layout);
  c.set(bits);
  c.get(op).i32(OP_NONE).op(Op.i32Ne).open(Op.if);
  store(c, 'flags', (c) => { load(c, 'flags').i32(~ARITH_FLAGS).op(Op.i32And).get(bits).op(Op.i32Or); });
  store(c, 'lfOp', (c) => c.i32(OP_NONE));
  c.end();
}

/** getEflags: the lazy state folded into EFLAGS, and EFLAGS (bit 1 set) left on the stack. */
function emitGetEflags(c: Code, layout: StateLayout): void {
  emitMaterialize(c, layout);
  slotAccess(layout).load(c, 'flags').i32(2).op(Op.i32Or);
}

/** Condition `cc` (0-15, the jcc/setcc encoding) of the flags in local `bits`, 0 or 1 on the stack. */
function emitCondOfBits(c: Code, bits: number, cc: number): void {
  const bit = (flag: number) => c.get(bits).i32(flag).op(Op.i32And).i32(0).op(Op.i32Ne);
  const lt = () => { bit(SF); bit(OF); c.op(Op.i32Ne); };
  switch (cc >> 1) {
    case 0: bit(OF); break;
    case 1: bit(CF); break;
    case 2: bit(ZF); break;
    case 3: bit(CF); bit(ZF); c.op(Op.i32Or); break;
    case 4: bit(SF); break;
    case 5: bit(PF); break;
    case 6: lt(); break;
    default: bit(ZF); lt(); c.op(Op.i32Or); break;
  }
  if (cc & 1) c.i32(1).op(Op.i32Xor);
}

/** setArith(bits), bits in local `bits`: the six flags set eagerly. */
function emitSetArith(c: Code, layout: StateLayout, bits: number): void {
  const { load, store } = slotAccess(layout);
  store(c, 'flags', (c) => { load(c, 'flags').i32(~ARITH_FLAGS).op(Op.i32And).get(bits).i32(ARITH_FLAGS).op(Op.i32And).op(Op.i32Or); });
  store(c, 'lfOp', (c) => c.i32(OP_NONE));
}

/**
 * CPU.sti: IF set; if it was clear, the next instruction is in its shadow, and the batch
 * ends after it unless the interrupt controllers have said they have nothing (`quiet`).
 * The shadow's instruction is the JavaScript side's to record: `stiLeft` keeps the batch
 * as it was at this STI, and WasmTier.pull gives it to CPU.startShadowAt.
 */
function emitSti(c: Code, layout: StateLayout): void {
  const { load, store } = slotAccess(layout);
  load(c, 'flags').i32(IF).op(Op.i32And).op(Op.i32Eqz).open(Op.if);
  store(c, 'flags', (c) => { load(c, 'flags').i32(IF).op(Op.i32Or); });
  store(c, 'stiLeft', (c) => { load(c, 'batchLeft'); });
  load(c, 'quiet').op(Op.i32Eqz).open(Op.if);
  store(c, 'eventPending', (c) => c.i32(1));
  c.end();
  c.end();
}

/** szp(r, size) of locals `r` and `size`, left on the stack: ZF, SF and PF of a result. */
function emitSzp(c: Code, r: number, size: number): void {
  const v = c.local();
  c.get(r); sizedBy(c, size, 0xff, 0xffff, -1); c.op(Op.i32And).set(v);
  c.get(v).op(Op.i32Eqz).i32(ZF).op(Op.i32Mul);
  c.get(v); sizedBy(c, size, 0x80, 0x8000, -0x80000000); c.op(Op.i32And).i32(0).op(Op.i32Ne).i32(SF).op(Op.i32Mul).op(Op.i32Or);
  c.get(v).i32(0xff).op(Op.i32And).op(Op.i32Popcnt).i32(1).op(Op.i32And).op(Op.i32Eqz).i32(PF).op(Op.i32Mul).op(Op.i32Or);
}

/**
 * The runtime functions a block writes in place of calling them, their arguments on the
 * stack as for the call (`literals`: those that are constants in the block's text): the
 * small ones blocks call most, where the call through the table (8-10 ns in V8 11.3) was
 * most of what they cost. A usertests run makes 4.5 million getEflags, 2.2 million sti,
 * 1.35 million each of setArith and szp, 818,000 cond (written in place for a constant
 * condition, as blocks write it) and 598,000 getCF. Each returns false if it leaves the
 * call to be made.
 */
export const INLINE: Readonly<Record<string, (c: Code, layout: StateLayout, literals: readonly (number | null)[]) => boolean>> = {
  getEflags: (c, layout) => {
    emitGetEflags(c, layout);
    return true;
  },
  setArith: (c, layout) => {
    const bits = c.local();
    c.set(bits);
    emitSetArith(c, layout, bits);
    return true;
  },
  sti: (c, layout) => {
    emitSti(c, layout);
    return true;
  },
  szp: (c) => {
    const r = c.local(), size = c.local();
    c.set(size).set(r);
    emitSzp(c, r, size);
    return true;
  },
  getCF: (c, layout) => {
    emitGetCF(c, layout);
    return true;
  },
  // A constant condition (as blocks write it), the flags computed in place and tested.
  cond: (c, layout, [cc]) => {
    if (typeof cc !== 'number') return false;
    const bits = c.local();
    c.op(Op.drop);
    emitArithBits(c, layout);
    c.set(bits);
    emitCondOfBits(c, bits, cc & 15);
    return true;
  },
};
