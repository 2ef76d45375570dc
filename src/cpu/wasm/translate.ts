/**
 * Translates a block as compile.ts writes it (parsed by parse.ts) into a WebAssembly
 * function body: the same statements in the same order, guest registers in WebAssembly
 * locals, the CPU's fields that blocks read and write in slots of the state area (copied
 * from and back to the JavaScript CPU when WebAssembly is entered and left), guest memory,
 * the TLB and the register file in the one memory (see memory.ts), and every call into the
 * CPU or a helper an imported function.
 *
 * JavaScript numbers and WebAssembly's i32 agree on everything the block compiler writes
 * (each arithmetic result is taken `| 0`, or is a small count) except where `>>> 0` makes
 * an unsigned value: such values are typed here, compared unsigned with each other, and
 * anything that would mix them with signed ones is refused (TranslateError), as is any
 * form the translator does not know: the region then stays JavaScript.
 *
 * Before a call that may throw (a fault in a slow path, the interpreter's step) the
 * block's own text stores the registers, startEip and batchLeft (compile.ts), so the
 * translation does no more than the text says; the JavaScript side copies the slots back
 * into the CPU when the exception passes (WasmTier.dispatch).
 */
import { Code, I32, Op, VOID } from './encoder.js';
import type { Expr, ParsedBlock, Stmt } from './parse.js';

export class TranslateError extends Error {}

/** The CPU's fields a block reads or writes, as int32 slots of the state area (index × 4 from `slots`). */
export const SLOTS = {
  batchLeft: 0, eip: 1, startEip: 2, lfOp: 3, lfA: 4, lfB: 5, lfR: 6, lfSize: 7, lfCarry: 8, flags: 9, cpl: 10,
  eventPending: 11, codeChanged: 12,
  /** Byte addresses of the TLB arrays for the current privilege level (the CPU's tlbR and tlbW). */
  tlbR: 13, tlbW: 14,
  /** The CPU's `flat` (the dispatch loop runs blocks only while it is 1). */
  flat: 15,
  stepNext: 16,
  /**
   * The batch as it was at the last STI that set IF in WebAssembly (runtime.ts), -1 if none
   * since the CPU's fields were last taken (WasmTier.pull starts the shadow from it); and
   * whether the interrupt controllers have said they have nothing (CPU.interruptsAreQuiet).
   */
  stiLeft: 17, quiet: 18,
} as const;
export type SlotName = keyof typeof SLOTS;
export const SLOT_COUNT = 19;

/** Byte addresses in the memory: the register file and the slots. */
export interface StateLayout {
  registers: number;
  slots: number;
  /** The segment selectors (CPU.sel). */
  selectors: number;
}

/**
 * The functions translated code calls out to: writes the call of one by name, its arguments
 * on the stack (`literals`: one per argument, its value where the text gives a constant).
 */
export interface ImportTable {
  call(code: Code, name: string, literals: readonly (number | null)[], returns: boolean): void;
}

/** Calls that return an int32 (or a boolean, as 0 or 1); the others return nothing. */
const RETURNS = new Set(['rdw', 'stepRun', 'portIn', 'cond', 'getCF', 'getEflags', 'szp', 'sbbFlags', 'adcFlags', 'imul32Flags',
  'inc', 'dec', 'shift', 'doubleShift']);

/** Slots only the JavaScript side writes (WasmTier.pull does not copy them back). */
const JS_OWNED = new Set(['cpl', 'eventPending', 'codeChanged', 'tlbR', 'tlbW', 'flat', 'stiLeft', 'quiet']);

type Type = 'i32' | 'u32' | 'bool';

interface Target {
  kind: 'block' | 'loop';
  /** The JavaScript label that `break` (block) or `continue` (loop) names, if any. */
  label: string | null;
}

/** Names bound to the CPU's arrays by the block's first declaration (`const R = c.reg, …`). */
type Alias = 'reg' | 'sel' | 'tlbR' | 'tlbW' | 'u8' | 'u16' | 'i32';
const ALIASES = new Set<string>(['reg', 'sel', 'tlbR', 'tlbW', 'u8', 'u16', 'i32']);

export interface TranslatedBlock {
  code: Code;
}

export function translateBlock(parsed: ParsedBlock, layout: StateLayout, imports: ImportTable): TranslatedBlock {
  return new Translator(parsed, layout, imports).translate();
}

class Translator {
  private readonly code = new Code(0);
  private readonly locals = new Map<string, number>();
  private readonly declared = new Set<string>();
  /** Local types beyond i32 (an unsigned value in a local keeps its type). */
  private readonly localTypes = new Map<string, Type>();
  private readonly aliases = new Map<string, Alias>();
  /** Locals holding the TLB arrays' byte addresses (read from their slots at entry). */
  private readonly tlbLocals = new Map<string, number>();
  private readonly control: Target[] = [];
  private readonly c: string;

  constructor(private readonly parsed: ParsedBlock, private readonly layout: StateLayout, private readonly imports: ImportTable) {
    this.c = parsed.param;
  }

  translate(): TranslatedBlock {
    for (const s of this.parsed.body) this.statement(s);
    return { code: this.code };
  }

  // ---------------------------------------------------------------- helpers

  private local(name: string): number {
    let l = this.locals.get(name);
    if (l === undefined) {
      l = this.code.local(I32);
      this.locals.set(name, l);
    }
    return l;
  }
  private slot(name: string): number {
    if (!(name in SLOTS)) throw new TranslateError(`the CPU field ${name}`);
    return this.layout.slots + SLOTS[name as SlotName] * 4;
  }
  /** Depth of the innermost target matching. */
  private depth(kind: 'block' | 'loop', label: string | null): number {
    for (let i = this.control.length - 1; i >= 0; i--) {
      const t = this.control[i]!;
      if (t.kind === kind && t.label === label) return this.control.length - 1 - i;
    }
    throw new TranslateError(`no target for ${kind} ${label}`);
  }
  private open(kind: 'block' | 'loop', label: string | null): void {
    this.code.open(kind === 'block' ? Op.block : Op.loop);
    this.control.push({ kind, label });
  }
  private close(): void {
    this.code.end();
    this.control.pop();
  }

  // ---------------------------------------------------------------- statements

  private statement(s: Stmt): void {
    const code = this.code;
    switch (s.k) {
      case 'decl':
        for (const [name, init] of s.decls) this.declare(name, init);
        return;
      case 'expr':
        this.expression(s.e, false);
        return;
      case 'block':
        for (const b of s.body) this.statement(b);
        return;
      case 'if':
        this.condition(s.test);
        code.open(Op.if);
        this.control.push({ kind: 'block', label: null });
        this.statement(s.yes);
        if (s.no) {
          code.op(Op.else);
          this.statement(s.no);
        }
        this.close();
        return;
      case 'break':
        code.br(this.depth('block', s.label));
        return;
      case 'continue':
        code.br(this.depth('loop', s.label));
        return;
      case 'return':
        code.op(Op.return);
        return;
      case 'loop':
        this.open('block', s.label);
        this.open('loop', s.label);
        this.statement(s.body);
        code.br(0);
        this.close();
        this.close();
        return;
      case 'switch':
        this.switchStatement(s);
        return;
    }
  }

  private declare(name: string, init: Expr): void {
    // Every name the block compiler declares is its own (a prefix and the instruction's
    // index); two of one name would be one local here where JavaScript has two variables
    // (or a syntax error).
    if (this.declared.has(name)) throw new TranslateError(`${name} declared twice`);
    this.declared.add(name);
    if (init.k === 'member' && init.obj === this.c && ALIASES.has(init.prop)) {
      const alias = init.prop as Alias;
      this.aliases.set(name, alias);
      if (alias === 'tlbR' || alias === 'tlbW') {
        const l = this.local(name);
        this.tlbLocals.set(name, l);
        this.code.i32(0).mem(Op.i32Load, 2, this.slot(alias)).set(l);
      }
      return;
    }
    const type = this.expression(init, true);
    this.localTypes.set(name, type);
    this.code.set(this.local(name));
  }

  /**
   * `switch (L) { case a: … case b: … default: … }`, cases falling through as in
   * JavaScript: one block per case, nested, a br_table picking the block whose end is
   * followed by the case's code.
   */
  private switchStatement(s: Extract<Stmt, { k: 'switch' }>): void {
    const code = this.code;
    const m = s.cases.length;
    const fallback = s.cases.findIndex((c) => c.test === null);
    this.open('block', null);  // the switch's end
    for (let i = m - 1; i >= 0; i--) this.open('block', null);
    // The case index of L: a chain of selects (cases are few).
    const disc = this.code.local(I32);
    this.value(s.disc);
    code.set(disc);
    code.i32(fallback >= 0 ? fallback : m);
    const acc = this.code.local(I32);
    for (let i = m - 1; i >= 0; i--) {
      const t = s.cases[i]!.test;
      if (t === null) continue;
      // select(i, the index so far, L === t)
      code.set(acc).i32(i).get(acc).get(disc).i32(t).op(Op.i32Eq).op(Op.select);
    }
    code.brTable(Array.from({ length: m }, (_, i) => i), m);
    for (let i = 0; i < m; i++) {
      this.close();
      for (const b of s.cases[i]!.body) this.statement(b);
    }
    this.close();
  }

  // ---------------------------------------------------------------- expressions

  /** An expression whose value is wanted as an i32 (booleans as 0/1). */
  private value(e: Expr): Type {
    return this.expression(e, true);
  }
  /** A condition: any type, 0 is false. */
  private condition(e: Expr): void {
    this.expression(e, true);
  }

  /** Emits `e`; leaves its value on the stack if `want`, and returns its type. */
  private expression(e: Expr, want: boolean): Type {
    const code = this.code;
    const done = (t: Type): Type => {
      if (!want) code.op(Op.drop);
      return t;
    };
    switch (e.k) {
      case 'num':
        if (!want) return 'i32';
        code.i32(e.v | 0);
        return e.v > 0x7fffffff ? 'u32' : 'i32';
      case 'bool':
        if (!want) return 'bool';
        code.i32(e.v ? 1 : 0);
        return 'bool';
      case 'id': {
        if (!want) return 'i32';
        if (this.aliases.has(e.name)) throw new TranslateError(`the array ${e.name} as a value`);
        code.get(this.local(e.name));
        return this.localTypes.get(e.name) ?? 'i32';
      }
      case 'member':
        if (e.obj !== this.c) throw new TranslateError(`${e.obj}.${e.prop}`);
        code.i32(0).mem(Op.i32Load, 2, this.slot(e.prop));
        return done(e.prop === 'eventPending' || e.prop === 'codeChanged' ? 'bool' : 'i32');
      case 'index':
        this.load(e);
        return done('i32');
      case 'call':
        return this.call(e, want);
      case 'unary': {
        if (e.op === '!') {
          this.value(e.e);
          code.op(Op.i32Eqz);
          return done('bool');
        }
        if (e.op === '~') {
          this.signed(e.e);
          code.i32(-1).op(Op.i32Xor);
          return done('i32');
        }
        code.i32(0);
        this.signed(e.e);
        code.op(Op.i32Sub);
        return done('i32');
      }
      case 'binary':
        return done(this.binary(e));
      case 'cond': {
        this.condition(e.test);
        code.open(Op.if, I32);
        const a = this.value(e.yes);
        code.op(Op.else);
        const b = this.value(e.no);
        code.end();
        if (a !== b && (a === 'u32' || b === 'u32')) throw new TranslateError('a conditional of signed and unsigned values');
        return done(a);
      }
      case 'seq': {
        let t: Type = 'i32';
        e.list.forEach((item, i) => { t = this.expression(item, want && i === e.list.length - 1); });
        return t;
      }
      case 'assign':
        return this.assign(e, want);
      case 'array':
        throw new TranslateError('an array');
    }
  }

  /** An operand of an operation that treats its value as signed int32 bits (bitwise, add). */
  private signed(e: Expr): void {
    this.value(e);
  }

  private binary(e: Extract<Expr, { k: 'binary' }>): Type {
    const code = this.code;
    const simple: Record<string, number> = {
      '|': Op.i32Or, '&': Op.i32And, '^': Op.i32Xor, '<<': Op.i32Shl, '>>': Op.i32ShrS, '+': Op.i32Add, '-': Op.i32Sub,
    };
    if (e.op in simple) {
      this.signed(e.a);
      this.signed(e.b);
      code.op(simple[e.op]!);
      return 'i32';
    }
    if (e.op === '>>>') {
      this.signed(e.a);
      this.signed(e.b);
      code.op(Op.i32ShrU);
      // By one or more the result is below 2^31: a signed int32 as well.
      return e.b.k === 'num' && (e.b.v & 31) !== 0 ? 'i32' : 'u32';
    }
    if (e.op === '&&' || e.op === '||') {
      this.condition(e.a);
      code.open(Op.if, I32);
      if (e.op === '&&') {
        this.condition(e.b);
        code.i32(0).op(Op.i32Ne).op(Op.else).i32(0);
      } else {
        code.i32(1).op(Op.else);
        this.condition(e.b);
        code.i32(0).op(Op.i32Ne);
      }
      code.end();
      return 'bool';
    }
    const compare: Record<string, [number, number]> = {
      '===': [Op.i32Eq, Op.i32Eq], '!==': [Op.i32Ne, Op.i32Ne],
      '<': [Op.i32LtS, Op.i32LtU], '<=': [Op.i32LeS, Op.i32LeU], '>': [Op.i32GtS, Op.i32GtU], '>=': [Op.i32GeS, Op.i32GeU],
    };
    if (e.op === '%') return this.division(e, 'rem');
    const ops = compare[e.op];
    if (!ops) throw new TranslateError(`the operator ${e.op}`);
    const a = this.value(e.a), b = this.value(e.b);
    const unsigned = a === 'u32' || b === 'u32';
    if (unsigned && !(this.unsignedOperand(e.a, a) && this.unsignedOperand(e.b, b))) throw new TranslateError(`${e.op} of signed and unsigned values`);
    code.op(unsigned ? ops[1] : ops[0]);
    return 'bool';
  }

  /** Whether an operand may be compared as unsigned: it is, or it is a constant that means the same both ways. */
  private unsignedOperand(e: Expr, t: Type): boolean {
    return t === 'u32' || (e.k === 'num' && e.v >= 0);
  }

  private assign(e: Extract<Expr, { k: 'assign' }>, want: boolean): Type {
    const code = this.code;
    const target = e.target;
    const compound = e.op === '=' ? null : e.op.slice(0, -1);
    const valueOf = (): Type => {
      if (compound === null) return this.value(e.value);
      return this.binary({ k: 'binary', op: compound, a: target, b: e.value });
    };
    if (target.k === 'id') {
      const t = valueOf();
      this.localTypes.set(target.name, t);
      if (want) code.tee(this.local(target.name));
      else code.set(this.local(target.name));
      return t;
    }
    if (target.k === 'member') {
      if (target.obj !== this.c || JS_OWNED.has(target.prop)) throw new TranslateError(`${target.obj}.${target.prop} =`);
      const temp = want ? this.code.local(I32) : -1;
      code.i32(0);
      valueOf();
      if (want) code.tee(temp);
      code.mem(Op.i32Store, 2, this.slot(target.prop));
      if (want) code.get(temp);
      return 'i32';
    }
    // An element: R[i], or a guest memory store through a TLB entry.
    if (compound !== null) throw new TranslateError('a compound assignment to an element');
    const temp = want ? this.code.local(I32) : -1;
    const store = this.address(target as Extract<Expr, { k: 'index' }>);
    this.value(e.value);
    if (want) code.tee(temp);
    code.mem(store.op, store.align, store.offset);
    if (want) code.get(temp);
    return 'i32';
  }

  /** Pushes the byte address of an element and returns how to load or store it. */
  private address(e: Extract<Expr, { k: 'index' }>): { op: number; load: number; align: number; offset: number } {
    const code = this.code;
    const alias = this.aliases.get(e.arr);
    switch (alias) {
      case 'reg':
        if (e.index.k !== 'num' || e.index.v > 7) throw new TranslateError('a register index that is not a constant');
        code.i32(0);
        return { op: Op.i32Store, load: Op.i32Load, align: 2, offset: this.layout.registers + e.index.v * 4 };
      case 'sel':
        if (e.index.k !== 'num' || e.index.v > 5) throw new TranslateError('a selector index that is not a constant');
        code.i32(0);
        return { op: Op.i32Store, load: Op.i32Load, align: 2, offset: this.layout.selectors + e.index.v * 4 };
      case 'tlbR': case 'tlbW':
        code.get(this.tlbLocals.get(e.arr)!);
        this.signed(e.index);
        code.i32(2).op(Op.i32Shl).op(Op.i32Add);
        return { op: Op.i32Store, load: Op.i32Load, align: 2, offset: 0 };
      case 'i32':
        this.signed(e.index);
        code.i32(2).op(Op.i32Shl);
        return { op: Op.i32Store, load: Op.i32Load, align: 2, offset: 0 };
      case 'u16':
        this.signed(e.index);
        code.i32(1).op(Op.i32Shl);
        return { op: Op.i32Store16, load: Op.i32Load16U, align: 1, offset: 0 };
      case 'u8':
        this.signed(e.index);
        return { op: Op.i32Store8, load: Op.i32Load8U, align: 0, offset: 0 };
      default:
        throw new TranslateError(`an element of ${e.arr}`);
    }
  }

  private load(e: Extract<Expr, { k: 'index' }>): void {
    const a = this.address(e);
    this.code.mem(a.load, a.align, a.offset);
  }

  /**
   * `a % b`, or `a / b` as the argument of Math.trunc or Math.floor: 32-bit division's
   * remainder or quotient, signed for two signed values (the quotient truncated), unsigned
   * for two unsigned ones, which is what the double arithmetic gives for 32-bit values. The
   * block compiler writes them only behind a divisor that is neither 0 nor, for a signed
   * division of -2^31, -1 (where WebAssembly traps).
   */
  private division(e: Extract<Expr, { k: 'binary' }>, kind: 'rem' | 'trunc' | 'floor'): Type {
    const a = this.value(e.a), b = this.value(e.b);
    const unsigned = this.unsignedOperand(e.a, a) && this.unsignedOperand(e.b, b);
    if (!unsigned && (a === 'u32' || b === 'u32' || kind === 'floor')) throw new TranslateError(`${e.op} of signed and unsigned values`);
    this.code.op(kind === 'rem' ? (unsigned ? Op.i32RemU : Op.i32RemS) : unsigned ? Op.i32DivU : Op.i32DivS);
    return unsigned ? 'u32' : 'i32';
  }

  /**
   * u8.fill(value, from, to) and u8.copyWithin(to, from, end) on guest RAM (the memory from
   * address 0), as statements: memory.fill and memory.copy (which, as copyWithin, copies as
   * if through a buffer). Their operands must be names or numbers (each is read twice).
   */
  private bulkMemory(kind: 'fill' | 'copyWithin', args: Expr[], want: boolean): void {
    if (want) throw new TranslateError(`the value of u8.${kind}`);
    if (args.length !== 3 || args.some((a) => a.k !== 'id' && a.k !== 'num')) throw new TranslateError(`u8.${kind} of other than three names or numbers`);
    const [a, b, c] = args as [Expr, Expr, Expr];
    const code = this.code;
    // fill: destination `from`, value, length; copy: destination `to`, source `from`, length.
    for (const e of kind === 'fill' ? [b, a, c, b] : [a, b, c, b]) this.signed(e);
    code.op(Op.i32Sub);
    if (kind === 'fill') code.memoryFill();
    else code.memoryCopy();
  }

  private call(e: Extract<Expr, { k: 'call' }>, want: boolean): Type {
    const code = this.code;
    const callee = e.callee;
    const only = e.args[0];
    if (callee.k === 'member' && callee.obj === 'Math' && (callee.prop === 'floor' || callee.prop === 'trunc') && e.args.length === 1 &&
      only!.k === 'binary' && only!.op === '/') {
      const t = this.division(only!, callee.prop);
      if (!want) code.op(Op.drop);
      return t;
    }
    if (callee.k === 'member' && callee.obj === 'Math' && callee.prop === 'imul' && e.args.length === 2) {
      this.signed(e.args[0]!);
      this.signed(e.args[1]!);
      code.op(Op.i32Mul);
      if (!want) code.op(Op.drop);
      return 'i32';
    }
    if (callee.k === 'member' && this.aliases.get(callee.obj) === 'u8' && (callee.prop === 'fill' || callee.prop === 'copyWithin')) {
      this.bulkMemory(callee.prop, e.args, want);
      return 'i32';
    }
    let name: string, args = e.args;
    if (callee.k === 'member' && callee.obj === this.c) name = callee.prop;
    else if (callee.k === 'id') {
      name = callee.name;
      // helper(c, …): the import has the CPU already.
      if (args[0]?.k === 'id' && args[0].name === this.c) args = args.slice(1);
    } else throw new TranslateError('a call of an expression');
    if (args.some((a) => a.k === 'id' && a.name === this.c)) throw new TranslateError(`${name} given the CPU elsewhere than first`);
    const returns = RETURNS.has(name);
    for (const a of args) this.value(a);
    this.imports.call(code, name, args.map((a) => (a.k === 'num' ? a.v : null)), returns);
    if (!returns) {
      if (want) throw new TranslateError(`the value of ${name}, which returns nothing`);
      return 'i32';
    }
    if (!want) code.op(Op.drop);
    return name === 'cond' ? 'bool' : 'i32';
  }
}

export { VOID };
