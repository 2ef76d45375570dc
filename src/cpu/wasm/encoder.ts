/**
 * A WebAssembly binary writer: just what the compiled tier's code generator needs (i32
 * arithmetic, loads and stores on one imported memory, structured control flow, calls to
 * imported functions), in the binary format of the core specification 1.0. Modules are
 * made in the process that runs them, so the writer is small rather than general: no
 * text format, no globals or custom sections; one imported table.
 */

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F64 = 0x7c;
export type ValueType = typeof I32 | typeof I64 | typeof F64;

/** Opcodes used by the code generator (core specification, section 5.4). */
export const Op = {
  unreachable: 0x00, nop: 0x01, block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b,
  br: 0x0c, brIf: 0x0d, brTable: 0x0e, return: 0x0f, call: 0x10, callIndirect: 0x11,
  drop: 0x1a, select: 0x1b,
  localGet: 0x20, localSet: 0x21, localTee: 0x22, globalGet: 0x23, globalSet: 0x24,
  i32Load: 0x28, i32Load8S: 0x2c, i32Load8U: 0x2d, i32Load16S: 0x2e, i32Load16U: 0x2f,
  i32Store: 0x36, i32Store8: 0x3a, i32Store16: 0x3b,
  i32Const: 0x41, i64Const: 0x42,
  i32Eqz: 0x45, i32Eq: 0x46, i32Ne: 0x47, i32LtS: 0x48, i32LtU: 0x49, i32GtS: 0x4a, i32GtU: 0x4b,
  i32LeS: 0x4c, i32LeU: 0x4d, i32GeS: 0x4e, i32GeU: 0x4f,
  i32Clz: 0x67, i32Ctz: 0x68, i32Popcnt: 0x69, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c,
  i32DivS: 0x6d, i32DivU: 0x6e, i32RemS: 0x6f, i32RemU: 0x70, i32And: 0x71, i32Or: 0x72, i32Xor: 0x73,
  i32Shl: 0x74, i32ShrS: 0x75, i32ShrU: 0x76, i32Rotl: 0x77, i32Rotr: 0x78,
  i32Extend8S: 0xc0, i32Extend16S: 0xc1,
  i64Ne: 0x52, i64Mul: 0x7e, i64ShrU: 0x88, i32WrapI64: 0xa7, i64ExtendI32S: 0xac, i64ExtendI32U: 0xad,
} as const;

/** The empty block type (a block, loop or if that leaves nothing on the stack). */
export const VOID = 0x40;

const UTF8 = new TextEncoder();
const NAMES = new Map<string, Uint8Array>();

/** A growable byte buffer with the format's integer encodings. */
export class Bytes {
  private data: Uint8Array<ArrayBuffer> = new Uint8Array(256);
  length = 0;

  byte(b: number): this {
    if (this.length === this.data.length) this.grow(1);
    this.data[this.length++] = b;
    return this;
  }

  /** Room for `more` bytes after the current length. */
  private grow(more: number): void {
    let size = this.data.length * 2;
    while (size < this.length + more) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.data.subarray(0, this.length));
    this.data = bigger;
  }

  /** Unsigned LEB128 of a value in [0, 2^32). */
  u32(value: number): this {
    let v = value >>> 0;
    for (;;) {
      const b = v & 0x7f;
      v >>>= 7;
      if (v === 0) return this.byte(b);
      this.byte(b | 0x80);
    }
  }

  /** Signed LEB128 of a 32-bit integer (any number; taken modulo 2^32 as an int32). */
  s32(value: number): this {
    let v = value | 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) return this.byte(b);
      this.byte(b | 0x80);
    }
  }

  bytes(other: Bytes | Uint8Array): this {
    const src = other instanceof Bytes ? other.view() : other;
    if (this.length + src.length > this.data.length) this.grow(src.length);
    this.data.set(src, this.length);
    this.length += src.length;
    return this;
  }

  /** A name: its UTF-8 length, then its bytes (every module names the same imports: encoded once). */
  name(text: string): this {
    let utf8 = NAMES.get(text);
    if (utf8 === undefined) {
      utf8 = UTF8.encode(text);
      if (NAMES.size < 10_000) NAMES.set(text, utf8);
    }
    return this.u32(utf8.length).bytes(utf8);
  }

  /** A vector: its length, then what `each` writes for every item. */
  vector<T>(items: readonly T[], each: (item: T) => void): this {
    this.u32(items.length);
    for (const item of items) each(item);
    return this;
  }

  view(): Uint8Array<ArrayBuffer> {
    return this.data.subarray(0, this.length);
  }
}

/** A function body: its locals beyond the parameters and its instructions. */
export class Code extends Bytes {
  /** Locals declared beyond the parameters, by type, in order. */
  readonly locals: ValueType[] = [];

  constructor(readonly params: number) {
    super();
  }

  /** A new local of type `type`; returns its index. */
  local(type: ValueType = I32): number {
    this.locals.push(type);
    return this.params + this.locals.length - 1;
  }

  op(opcode: number): this {
    return this.byte(opcode);
  }
  get(local: number): this {
    return this.byte(Op.localGet).u32(local);
  }
  set(local: number): this {
    return this.byte(Op.localSet).u32(local);
  }
  tee(local: number): this {
    return this.byte(Op.localTee).u32(local);
  }
  i32(value: number): this {
    return this.byte(Op.i32Const).s32(value);
  }
  /** An i64 constant that fits in an int32 (its signed LEB128 is the same bytes). */
  i64(value: number): this {
    return this.byte(Op.i64Const).s32(value);
  }
  /** A load or store with its alignment (log2 of the access size, a hint) and constant offset. */
  mem(opcode: number, align: number, offset = 0): this {
    return this.byte(opcode).u32(align).u32(offset);
  }
  /** block, loop or if with the empty type (or one result type). */
  open(opcode: typeof Op.block | typeof Op.loop | typeof Op.if, result: ValueType | typeof VOID = VOID): this {
    return this.byte(opcode).byte(result);
  }
  end(): this {
    return this.byte(Op.end);
  }
  br(depth: number): this {
    return this.byte(Op.br).u32(depth);
  }
  brIf(depth: number): this {
    return this.byte(Op.brIf).u32(depth);
  }
  /** br_table: `targets[i]` for an index i in range, else `otherwise` (all as label depths). */
  brTable(targets: readonly number[], otherwise: number): this {
    this.byte(Op.brTable).vector(targets, (t) => this.u32(t));
    return this.u32(otherwise);
  }
  call(func: number): this {
    return this.byte(Op.call).u32(func);
  }
  /** memory.fill (bulk memory): destination, byte value and length on the stack. */
  memoryFill(): this {
    return this.byte(0xfc).u32(11).byte(0);
  }
  /** memory.copy (bulk memory, as if through a buffer): destination, source and length on the stack. */
  memoryCopy(): this {
    return this.byte(0xfc).u32(10).byte(0).byte(0);
  }
  /** call_indirect through table 0 with the function type `type` (the callee's index on the stack). */
  callIndirect(type: number): this {
    return this.byte(Op.callIndirect).u32(type).byte(0);
  }

  /** The body as the code section holds it (its size is added by the module). */
  encode(): Bytes {
    const out = new Bytes();
    // Runs of locals of one type share an entry.
    const runs: Array<[number, ValueType]> = [];
    for (const t of this.locals) {
      const last = runs[runs.length - 1];
      if (last && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    out.vector(runs, ([count, type]) => out.u32(count).byte(type));
    out.bytes(this);
    out.byte(Op.end);
    return out;
  }
}

interface FuncType {
  params: readonly ValueType[];
  results: readonly ValueType[];
}

interface ImportedFunc {
  module: string;
  name: string;
  type: number;
}

interface DefinedFunc {
  type: number;
  code: Code;
  export?: string;
}

/**
 * A module: function types (shared), imported functions (numbered first), one imported
 * memory, defined functions and their exports.
 */
export class ModuleBuilder {
  private readonly types: FuncType[] = [];
  private readonly typeKeys = new Map<string, number>();
  private readonly imports: ImportedFunc[] = [];
  private readonly funcs: DefinedFunc[] = [];
  private memory: { module: string; name: string; pages: number; maximum: number } | null = null;
  private table: { module: string; name: string; minimum: number } | null = null;
  /** An active element segment: the defined functions, from the first, into table 0 at `offset`. */
  private elements: { offset: number; count: number } | null = null;
  private sealedImports = false;

  /** The index of the function type with these parameters and results. */
  type(params: readonly ValueType[], results: readonly ValueType[] = []): number {
    const key = `${params.join(',')}:${results.join(',')}`;
    let index = this.typeKeys.get(key);
    if (index === undefined) {
      index = this.types.length;
      this.types.push({ params, results });
      this.typeKeys.set(key, index);
    }
    return index;
  }

  /** Imports a function (before any function is defined: imports are numbered first). */
  importFunction(module: string, name: string, params: readonly ValueType[], results: readonly ValueType[] = []): number {
    if (this.sealedImports) throw new Error('internal error: imports must come before the functions');
    this.imports.push({ module, name, type: this.type(params, results) });
    return this.imports.length - 1;
  }

  /** Imports the memory: at least `pages` 64 KiB pages, at most `maximum`. */
  importMemory(module: string, name: string, pages: number, maximum = pages): void {
    this.memory = { module, name, pages, maximum };
  }

  /** Imports a table of functions (funcref) of at least `minimum` entries: table 0, for call_indirect. */
  importTable(module: string, name: string, minimum: number): void {
    this.table = { module, name, minimum };
  }

  /** Places the first `count` defined functions in the imported table from entry `offset` when instantiated. */
  placeInTable(offset: number, count: number): void {
    this.elements = { offset, count };
  }

  /** Defines a function; returns its index (after the imported ones). */
  function(params: readonly ValueType[], results: readonly ValueType[], code: Code, exportName?: string): number {
    if (code.params !== params.length) throw new Error('internal error: the code was made for another number of parameters');
    this.sealedImports = true;
    this.funcs.push({ type: this.type(params, results), code, export: exportName });
    return this.imports.length + this.funcs.length - 1;
  }

  encode(): Uint8Array<ArrayBuffer> {
    const out = new Bytes();
    out.bytes(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
    const section = (id: number, write: (s: Bytes) => void) => {
      const s = new Bytes();
      write(s);
      out.byte(id).u32(s.length).bytes(s);
    };
    section(1, (s) => s.vector(this.types, (t) => {
      s.byte(0x60).vector(t.params, (p) => s.byte(p)).vector(t.results, (r) => s.byte(r));
    }));
    const importCount = this.imports.length + (this.memory ? 1 : 0) + (this.table ? 1 : 0);
    if (importCount > 0) {
      section(2, (s) => {
        s.u32(importCount);
        for (const i of this.imports) s.name(i.module).name(i.name).byte(0x00).u32(i.type);
        if (this.memory) s.name(this.memory.module).name(this.memory.name).byte(0x02).byte(0x01).u32(this.memory.pages).u32(this.memory.maximum);
        if (this.table) s.name(this.table.module).name(this.table.name).byte(0x01).byte(0x70).byte(0x00).u32(this.table.minimum);
      });
    }
    section(3, (s) => s.vector(this.funcs, (f) => s.u32(f.type)));
    const exported = this.funcs.map((f, i) => ({ name: f.export, index: this.imports.length + i })).filter((e) => e.name !== undefined);
    if (exported.length > 0) section(7, (s) => s.vector(exported, (e) => s.name(e.name!).byte(0x00).u32(e.index)));
    const elements = this.elements;
    if (elements) {
      // One active segment for table 0: flags 0, offset (i32.const offset; end), function indices.
      section(9, (s) => {
        s.u32(1).u32(0).byte(Op.i32Const).s32(elements.offset).byte(Op.end);
        s.vector(Array.from({ length: elements.count }, (_, i) => this.imports.length + i), (f) => s.u32(f));
      });
    }
    section(10, (s) => s.vector(this.funcs, (f) => {
      const body = f.code.encode();
      s.u32(body.length).bytes(body);
    }));
    return out.view().slice();
  }
}
