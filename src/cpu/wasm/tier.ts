/**
 * The WebAssembly tier of one CPU (the default block tier: see "How the CPU runs code" in the
 * README for where it wins and where it does not). A block's JavaScript source, as
 * compile.ts writes it, is parsed (parse.ts) and translated (translate.ts) into a
 * WebAssembly function; translations wait for a module of several (BATCH, or WAIT
 * instructions), whose functions go into one table. A dispatch loop written in
 * WebAssembly runs translated blocks one after another while it finds them in its block
 * table (the block cache's slots, in the state area) and the batch has room; anything else
 * goes back to the JavaScript dispatcher. The CPU's fields that blocks use are copied into
 * the state area's slots when WebAssembly is entered and back when it is left, and around
 * every call out to JavaScript. A source the translator refuses stays a JavaScript block.
 */
import { divAcc, doubleShift, shift } from '../alu.js';
import type { BlockCode } from '../compile.js';
import type { CPU } from '../cpu.js';
import { STATE_BLOCK_SLOTS, STATE_BLOCKS, STATE_REGISTERS, STATE_SELECTORS, STATE_SUCCESSOR_SLOTS, STATE_SUCCESSORS } from '../memory.js';
import { Code, I32, ModuleBuilder, Op, type ValueType } from './encoder.js';
import { parseBlock, ParseError } from './parse.js';
import { INLINE, RUNTIME_FUNCTIONS, runtimeModule } from './runtime.js';
import { SLOT_COUNT, SLOTS, translateBlock, TranslateError, type ImportTable, type StateLayout } from './translate.js';

interface ImportSignature {
  name: string;
  params: number;
  returns: boolean;
  /** The same as WebAssembly value types: `params` int32s, and an int32 result if it `returns`. */
  paramTypes: readonly ValueType[];
  results: readonly ValueType[];
}

/** What translated blocks may call, the same list (and function indices) in every module. */
const IMPORTS: readonly ImportSignature[] = [
  ['rdw', 2, true], ['wr8', 2, false], ['wr16', 2, false], ['wr32', 2, false],
  ['step', 0, false], ['sti', 0, false], ['gp', 1, false], ['cond', 1, true], ['getCF', 0, true], ['getEflags', 0, true],
  ['setArith', 1, false], ['materializeFlags', 0, false], ['szp', 2, true], ['sbbFlags', 5, true], ['adcFlags', 5, true],
  ['imul32Flags', 3, true], ['inc', 2, true], ['dec', 2, true], ['shift', 4, true], ['doubleShift', 5, true],
  ['mulAcc', 3, false], ['divAcc', 3, false], ['stepRun', 2, true], ['portIn', 2, true], ['portOut', 3, false],
].map(([name, params, returns]) => ({
  name: name as string, params: params as number, returns: returns as boolean,
  paramTypes: Array<ValueType>(params as number).fill(I32), results: returns ? [I32] : [],
}));

/**
 * A new module for blocks: a memory of `pages` and the table of what blocks call out to
 * (IMPORTS, in order), called through call_indirect. Its types start with the calls'
 * signatures, in IMPORTS order, so a translation names them by the same index in every
 * module (IMPORT_TYPES). Not imported functions: V8 (11.3) compiles a wrapper for calling
 * JavaScript for each signature of a module's imported functions when it compiles the
 * module, whatever is imported at instantiation: ten signatures cost 0.5 ms of the 0.55 ms
 * `new WebAssembly.Module` took for a module of 16 blocks.
 */
function blockModule(pages: number): ModuleBuilder {
  const m = new ModuleBuilder();
  for (const s of IMPORTS) m.type(s.paramTypes, s.results);
  m.importMemory('env', 'memory', pages, pages);
  m.importTable('env', 'calls', IMPORTS.length);
  return m;
}
/** The type index of each of IMPORTS in a block module. */
const IMPORT_TYPES = ((m: ModuleBuilder) => IMPORTS.map((s) => m.type(s.paramTypes, s.results)))(blockModule(1));

/** Translations by state-area address and source, for every tier of the process. */
const translated = new Map<string, { code: Code } | null>();
/**
 * The module each translation went into, for every tier of the process: a new machine
 * (each benchmark or campaign run) that needs a translation made before instantiates that
 * module, with the code V8 has compiled for it, and has every translation in it at once
 * (making modules is most of what translating costs: 150 ms of a usertests run's 410, and
 * a later run meets the same translations in other batches).
 */
interface MadeModule {
  /** The module's bytes, and the module, compiled when first instantiated (one read from disk may never be). */
  bytes: Uint8Array<ArrayBuffer>;
  module: WebAssembly.Module | null;
  /** The memory's size in pages (the module imports a memory of exactly that size). */
  pages: number;
  /** The translations' keys, by function (export `b${i}`). */
  keys: readonly string[];
}
const moduleOf = new Map<string, MadeModule>();

/** A module of translations as the block cache on disk keeps it (src/block-cache.ts): each function's state area and source. */
export interface ModuleRecord {
  bytes: Uint8Array<ArrayBuffer>;
  pages: number;
  functions: TranslationRecord[];
}
/** A translation's source, and the address of the state area it was translated for. */
export interface TranslationRecord {
  registers: number;
  source: string;
}

/** A translation's key: the code depends only on the source and where the state area is. */
const keyOf = (registers: number, source: string) => `${registers}:${source}`;
const functionOf = (key: string) => {
  const colon = key.indexOf(':');
  return { registers: Number(key.slice(0, colon)), source: key.slice(colon + 1) };
};

/**
 * Every module of translations made before (by this process or read from disk), oldest
 * first, and the translations the translator refused.
 */
export function moduleRecords(): { modules: ModuleRecord[]; refused: TranslationRecord[] } {
  const modules = [...new Set(moduleOf.values())].map((m) => ({ bytes: m.bytes, pages: m.pages, functions: m.keys.map(functionOf) }));
  const refused = [...translated].filter(([, made]) => made === null).map(([key]) => functionOf(key));
  return { modules, refused };
}

/**
 * Modules and refusals an earlier process made: a translation whose key is in one is not
 * made again (its block is instantiated from the module), one refused is not tried again.
 * Keys already known here keep their own module.
 */
export function addModuleRecords(modules: readonly ModuleRecord[], refused: readonly TranslationRecord[]): void {
  for (const r of modules) {
    const keys = r.functions.map((f) => keyOf(f.registers, f.source));
    if (keys.every((key) => moduleOf.has(key))) continue;
    const made: MadeModule = { bytes: r.bytes, module: null, pages: r.pages, keys };
    for (const key of keys) if (!moduleOf.has(key)) moduleOf.set(key, made);
  }
  for (const f of refused) {
    const key = keyOf(f.registers, f.source);
    if (!translated.has(key)) translated.set(key, null);
  }
}

/** Translations waiting for a module: made when this many wait… */
const BATCH = 16;
/** …or when the oldest has waited this many instructions. */
const WAIT = 20_000;
/** …or when the dispatcher has met waiting blocks this many times (see needed). */
const NEEDED = 64;

/** A block's translation: its code until its module is made, then its block. */
export interface Translation {
  /** Null when the key is in a module made before (by an earlier machine or process) for this memory size. */
  code: Code | null;
  key: string;
  block: WasmBlock | null;
  /** Block cache entries to give the block to when it is made. */
  waiting: unknown[];
}

export interface WasmTierStats {
  /** Sources translated, and refused (those blocks stay JavaScript). */
  translated: number;
  refused: number;
  /** Entries into the dispatch loop from the JavaScript dispatcher. */
  dispatches: number;
}

/** A translated block: its entry for the JavaScript dispatcher (the dispatch loop from EIP) and its index in the function table. */
export interface WasmBlock {
  run: BlockCode;
  index: number;
}

export class WasmTier {
  readonly layout: StateLayout;
  private readonly s: Int32Array;
  private readonly cache = new Map<string, Translation | null>();
  /** This tier's blocks by translation key, for every module instantiated here. */
  private readonly madeHere = new Map<string, WasmBlock>();
  private readonly pending: Translation[] = [];
  /** Instruction count when the oldest waiting translation was made. */
  private oldest = 0;
  private readonly importTable: ImportTable;
  /** What blocks call out to, by index in IMPORTS: the runtime module's functions and the hub's. */
  private readonly calls = new WebAssembly.Table({ element: 'anyfunc', initial: IMPORTS.length });
  readonly stats: WasmTierStats = { translated: 0, refused: 0, dispatches: 0 };
  /** Every translated block's function, by index; the dispatch loop calls them through it. */
  private readonly table = new WebAssembly.Table({ element: 'anyfunc', initial: 64 });
  private readonly blocks: WasmBlock[] = [];
  /** The block table in memory: (host, eip, index, pass) per block-cache slot; host -1 is empty. */
  private readonly entries: Int32Array;
  /** The successor cache (see dispatchCode), in memory: (host, eip, index, pass) per block function index modulo STATE_SUCCESSOR_SLOTS. */
  private readonly successors: Int32Array;
  private readonly loop: () => void;
  /** The lazy-flag methods in WebAssembly (runtime.ts), imported by blocks in place of the CPU's. */
  private readonly runtime: Record<string, (...args: number[]) => number | void>;

  constructor(private readonly cpu: CPU) {
    const registers = cpu.mem.stateBase + STATE_REGISTERS;
    this.layout = { registers, slots: registers + 32, selectors: cpu.mem.stateBase + STATE_SELECTORS };
    this.s = new Int32Array(cpu.mem.wasm.buffer, this.layout.slots, SLOT_COUNT);
    this.entries = new Int32Array(cpu.mem.wasm.buffer, cpu.mem.stateBase + STATE_BLOCKS, STATE_BLOCK_SLOTS * 4).fill(-1);
    this.successors = new Int32Array(cpu.mem.wasm.buffer, cpu.mem.stateBase + STATE_SUCCESSORS, STATE_SUCCESSOR_SLOTS * 4).fill(-1);
    const m = new ModuleBuilder();
    const pages = cpu.mem.wasm.buffer.byteLength / 65536;
    m.importMemory('env', 'memory', pages, pages);
    m.importTable('env', 'table', 0);
    m.function([], [], this.dispatchCode(m.type([], [])), 'dispatch');
    const instance = new WebAssembly.Instance(new WebAssembly.Module(m.encode()), { env: { memory: cpu.mem.wasm, table: this.table } });
    this.loop = instance.exports.dispatch as () => void;
    const runtime = new WebAssembly.Instance(new WebAssembly.Module(runtimeModule(this.layout, pages)), { env: { memory: cpu.mem.wasm } });
    this.runtime = runtime.exports as Record<string, (...args: number[]) => number | void>;
    // Calls out to JavaScript go through one hub instance, whose WebAssembly functions the
    // blocks' modules call through their table (`calls`): only the hub imports JavaScript,
    // so V8 compiles its wrappers for calling JavaScript once, not for every module.
    const hub = new ModuleBuilder();
    const outward = IMPORTS.filter((i) => !(RUNTIME_FUNCTIONS as readonly string[]).includes(i.name));
    outward.forEach((i) => hub.importFunction('js', i.name, i.paramTypes, i.results));
    outward.forEach((i, index) => {
      const code = new Code(i.params);
      for (let p = 0; p < i.params; p++) code.get(p);
      code.call(index);
      hub.function(i.paramTypes, i.results, code, i.name);
    });
    const js: Record<string, (...args: number[]) => number | void> = {};
    for (const i of outward) js[i.name] = this.importFor(i.name);
    const hubExports = new WebAssembly.Instance(new WebAssembly.Module(hub.encode()), { js }).exports as Record<string, (...args: number[]) => number | void>;
    IMPORTS.forEach((i, index) => this.calls.set(index, (RUNTIME_FUNCTIONS as readonly string[]).includes(i.name) ? this.runtime[i.name]! : hubExports[i.name]!));
    this.importTable = {
      call: (code, name, literals, returns) => {
        const i = IMPORTS.findIndex((s) => s.name === name);
        if (i < 0 || IMPORTS[i]!.params !== literals.length || IMPORTS[i]!.returns !== returns) throw new TranslateError(`no import ${name}/${literals.length}`);
        if (!INLINE[name]?.(code, this.layout, literals)) code.i32(i).callIndirect(IMPORT_TYPES[i]!);
      },
    };
  }

  /**
   * The dispatch loop, in WebAssembly: while the CPU is flat, EIP's page is in the TLB, a
   * block is in the table at its host and linear address and the batch has room for it,
   * run it; stop at the batch's end, when an event is pending or when a block left before
   * an instruction for the interpreter (stepNext). Anything else goes back to the
   * JavaScript dispatcher (which looks up, compiles, interprets). The block that followed
   * the one just run last time is looked for first in a small successor cache, by that
   * one's function index, before the block table: the table has an entry per block-cache
   * slot (4 MiB), and its look-up was the loop's most sampled instruction (a cache miss).
   */
  private dispatchCode(voidType: number): Code {
    const c = new Code(0);
    const [eip, t, host, e, left, prev, idx, pass, sp] = [c.local(), c.local(), c.local(), c.local(), c.local(), c.local(), c.local(), c.local(), c.local()];
    const slot = (name: keyof typeof SLOTS) => this.layout.slots + SLOTS[name] * 4;
    const entriesBase = this.cpu.mem.stateBase + STATE_BLOCKS;
    const succ = this.cpu.mem.stateBase + STATE_SUCCESSORS;
    c.i32(-1).set(prev);
    c.open(Op.loop);
    c.i32(0).mem(Op.i32Load, 2, slot('flat')).op(Op.i32Eqz).open(Op.if).op(Op.return).end();
    c.i32(0).mem(Op.i32Load, 2, slot('eip')).set(eip);
    c.i32(0).mem(Op.i32Load, 2, slot('tlbR')).get(eip).i32(12).op(Op.i32ShrU).i32(2).op(Op.i32Shl).op(Op.i32Add).mem(Op.i32Load, 2, 0).set(t);
    c.get(t).i32(1).op(Op.i32And).open(Op.if).op(Op.return).end();
    c.get(t).get(eip).op(Op.i32Xor).set(host);
    // The successor the block run last had last time (its byte address in the successor cache).
    c.get(prev).i32(STATE_SUCCESSOR_SLOTS - 1).op(Op.i32And).i32(4).op(Op.i32Shl).set(sp);
    c.get(prev).i32(0).op(Op.i32GeS)
      .get(sp).mem(Op.i32Load, 2, succ).get(host).op(Op.i32Eq).op(Op.i32And)
      .get(sp).mem(Op.i32Load, 2, succ + 4).get(eip).op(Op.i32Eq).op(Op.i32And);
    c.open(Op.if);
    c.get(sp).mem(Op.i32Load, 2, succ + 8).set(idx);
    c.get(sp).mem(Op.i32Load, 2, succ + 12).set(pass);
    c.op(Op.else);
    // The block cache's slot (blocks.ts slotOf), as the entry's byte address.
    c.get(host).get(host).get(eip).op(Op.i32Xor).i32(12).op(Op.i32ShrU).i32(0x9e3779b1 | 0).op(Op.i32Mul).i32(26).op(Op.i32ShrU).i32(12).op(Op.i32Shl)
      .op(Op.i32Xor).i32(STATE_BLOCK_SLOTS - 1).op(Op.i32And).i32(4).op(Op.i32Shl).set(e);
    c.get(e).mem(Op.i32Load, 2, entriesBase).get(host).op(Op.i32Ne).open(Op.if).op(Op.return).end();
    c.get(e).mem(Op.i32Load, 2, entriesBase + 4).get(eip).op(Op.i32Ne).open(Op.if).op(Op.return).end();
    c.get(e).mem(Op.i32Load, 2, entriesBase + 8).set(idx);
    c.get(e).mem(Op.i32Load, 2, entriesBase + 12).set(pass);
    c.get(prev).i32(0).op(Op.i32GeS).open(Op.if);
    c.get(sp).get(host).mem(Op.i32Store, 2, succ);
    c.get(sp).get(eip).mem(Op.i32Store, 2, succ + 4);
    c.get(sp).get(idx).mem(Op.i32Store, 2, succ + 8);
    c.get(sp).get(pass).mem(Op.i32Store, 2, succ + 12);
    c.end();
    c.end();
    c.i32(0).mem(Op.i32Load, 2, slot('batchLeft')).set(left);
    c.get(pass).get(left).op(Op.i32GtS).open(Op.if).op(Op.return).end();
    c.i32(0).i32(0).mem(Op.i32Store, 2, slot('codeChanged'));
    c.get(idx).set(prev);
    c.get(idx).callIndirect(voidType);
    c.i32(0).mem(Op.i32Load, 2, slot('batchLeft')).op(Op.i32Eqz).open(Op.if).op(Op.return).end();
    c.i32(0).mem(Op.i32Load, 2, slot('eventPending')).open(Op.if).op(Op.return).end();
    c.i32(0).mem(Op.i32Load, 2, slot('stepNext')).open(Op.if).op(Op.return).end();
    c.br(0);
    c.end();
    return c;
  }

  /** Runs blocks in the dispatch loop from the CPU's EIP (see dispatchCode); the CPU's fields are current after. */
  dispatch(): void {
    this.stats.dispatches++;
    this.push();
    try {
      this.loop();
    } catch (e) {
      // The block that threw stored its registers, startEip and batchLeft before the call (compile.ts).
      this.pull();
      throw e;
    }
    this.pull();
  }

  /** Puts a block in the dispatch loop's table at block-cache slot `slot`. */
  install(slot: number, host: number, eip: number, block: WasmBlock, pass: number): void {
    const e = this.entries, i = slot * 4;
    e[i] = host;
    e[i + 1] = eip;
    e[i + 2] = block.index;
    e[i + 3] = pass;
  }

  /** Takes the block at `slot` out of the table, if it is the one at host/eip. */
  remove(slot: number, host: number, eip: number): void {
    const e = this.entries, i = slot * 4;
    if (e[i] !== host || e[i + 1] !== eip) return;
    e[i] = -1;
    // (Only blocks found in the table get into the successor cache; any entry may be this one.)
    this.successors.fill(-1);
  }

  private tlbR: Int32Array | null = null;
  private tlbROffset = 0;
  private tlbW: Int32Array | null = null;
  private tlbWOffset = 0;

  /** The CPU's fields into the slots. */
  push(): void {
    const c = this.cpu, s = this.s;
    s[SLOTS.batchLeft] = c.batchLeft;
    s[SLOTS.eip] = c.eip;
    s[SLOTS.startEip] = c.startEip;
    s[SLOTS.lfOp] = c.lfOp;
    s[SLOTS.lfA] = c.lfA;
    s[SLOTS.lfB] = c.lfB;
    s[SLOTS.lfR] = c.lfR;
    s[SLOTS.lfSize] = c.lfSize;
    s[SLOTS.lfCarry] = c.lfCarry;
    s[SLOTS.flags] = c.flags;
    s[SLOTS.cpl] = c.cpl;
    s[SLOTS.eventPending] = c.eventPending ? 1 : 0;
    s[SLOTS.codeChanged] = c.codeChanged ? 1 : 0;
    // (byteOffset is a builtin call: the arrays change only with the privilege level.)
    if (c.tlbR !== this.tlbR) {
      this.tlbR = c.tlbR;
      this.tlbROffset = c.tlbR.byteOffset;
    }
    if (c.tlbW !== this.tlbW) {
      this.tlbW = c.tlbW;
      this.tlbWOffset = c.tlbW.byteOffset;
    }
    s[SLOTS.tlbR] = this.tlbROffset;
    s[SLOTS.tlbW] = this.tlbWOffset;
    s[SLOTS.flat] = c.flat ? 1 : 0;
    s[SLOTS.stepNext] = c.stepNext;
    s[SLOTS.stiLeft] = -1;
    s[SLOTS.quiet] = c.interruptsAreQuiet ? 1 : 0;
  }

  /** What a device may have changed of the CPU's fields, into the slots (portIn, portOut). */
  private afterDevice(): void {
    const c = this.cpu, s = this.s;
    if (c.eventPending) s[SLOTS.eventPending] = 1;
    if (c.codeChanged) s[SLOTS.codeChanged] = 1;
    s[SLOTS.quiet] = c.interruptsAreQuiet ? 1 : 0;
  }

  /** The slots that translated code may write back into the CPU's fields. */
  pull(): void {
    const c = this.cpu, s = this.s;
    c.batchLeft = s[SLOTS.batchLeft]!;
    c.eip = s[SLOTS.eip]!;
    c.startEip = s[SLOTS.startEip]!;
    c.lfOp = s[SLOTS.lfOp]!;
    c.lfA = s[SLOTS.lfA]!;
    c.lfB = s[SLOTS.lfB]!;
    c.lfR = s[SLOTS.lfR]!;
    c.lfSize = s[SLOTS.lfSize]!;
    c.lfCarry = s[SLOTS.lfCarry]!;
    c.flags = s[SLOTS.flags]!;
    c.codeChanged = s[SLOTS.codeChanged] !== 0;
    c.stepNext = s[SLOTS.stepNext]!;
    // An STI in WebAssembly (runtime.ts) started a shadow: the CPU records it as its own sti would have.
    const stiLeft = s[SLOTS.stiLeft]!;
    if (stiLeft !== -1) {
      s[SLOTS.stiLeft] = -1;
      c.startShadowAt(stiLeft);
    }
  }

  /**
   * The translation of `source`, or null if the translator refuses it. A new one waits in
   * `pending` for its module: modules are made for several blocks at once (one per block
   * costs 0.57 ms a block to compile and instantiate, one per 16 0.06 ms).
   */
  translate(source: string): Translation | null {
    let t = this.cache.get(source);
    if (t === undefined) {
      t = this.translateNow(source);
      this.cache.set(source, t);
      if (t === null) this.stats.refused++;
      else {
        this.stats.translated++;
        t.block = this.madeBefore(t.key);
        if (t.block !== null) return t;
        this.pending.push(t);
        if (this.pending.length === 1) this.oldest = this.cpu.instructionCount;
        if (this.pending.length >= this.batch) this.flush();
      }
    }
    return t;
  }

  /** Times the dispatcher met a block waiting for its module since the last module was made. */
  private misses = 0;
  /**
   * The dispatcher met a block waiting for its module (it interprets it meanwhile): after
   * NEEDED such meetings the waiting translations are made into a module, rather than only
   * once BATCH wait or the oldest has waited WAIT instructions. (A waiting block's code is
   * interpreted, and addresses inside it count towards blocks of their own.)
   */
  needed(): void {
    if (++this.misses >= NEEDED) this.flush();
  }

  /** Makes the module of the translations waiting, if there are enough or the oldest has waited long enough. */
  tick(): void {
    if (this.pending.length >= this.batch || (this.pending.length > 0 && this.cpu.instructionCount - this.oldest >= this.wait)) this.flush();
  }

  /** How many translations make a module, and how long the oldest may wait (1 and 0: at once, for tests). */
  batch = BATCH;
  wait = WAIT;

  private translateNow(source: string): Translation | null {
    // Kept across machines (every campaign run and benchmark run is a new machine).
    const key = keyOf(this.layout.registers, source);
    let made = translated.get(key);
    // In a module made before for memory of this size (read from disk, say): instantiated, not made again.
    if (made === undefined && moduleOf.get(key)?.pages === this.pages()) return { code: null, key, block: null, waiting: [] };
    if (made === undefined) {
      try {
        made = translateBlock(parseBlock(source), this.layout, this.importTable);
      } catch (e) {
        if (!(e instanceof ParseError || e instanceof TranslateError)) throw e;
        made = null;
      }
      if (translated.size >= 20000) translated.clear();
      translated.set(key, made);
    }
    return made === null ? null : { ...made, key, block: null, waiting: [] };
  }

  /** The block of a translation made into a module before (by this machine or an earlier one), or null. */
  private madeBefore(key: string): WasmBlock | null {
    const here = this.madeHere.get(key);
    if (here !== undefined) return here;
    const made = moduleOf.get(key);
    if (made === undefined || made.pages !== this.pages()) return null;
    this.instantiate(made);
    return this.madeHere.get(key)!;
  }

  private pages(): number {
    return this.cpu.mem.wasm.buffer.byteLength / 65536;
  }

  /** One module for every translation waiting; their blocks take their functions. */
  flush(): void {
    const batch = this.pending.splice(0);
    this.misses = 0;
    if (batch.length === 0) return;
    const pages = this.pages();
    const m = blockModule(pages);
    batch.forEach((t, i) => m.function([], [], t.code!, `b${i}`));
    const bytes = m.encode();
    const made: MadeModule = { bytes, module: new WebAssembly.Module(bytes), pages, keys: batch.map((t) => t.key) };
    if (moduleOf.size >= 20000) moduleOf.clear();
    for (const key of made.keys) moduleOf.set(key, made);
    this.instantiate(made);
    for (const t of batch) {
      const block = this.madeHere.get(t.key)!;
      t.block = block;
      for (const w of t.waiting) this.onReady(w, block);
      t.waiting.length = 0;
    }
  }

  /** A module's instance for this machine: its functions into the table, a block for each. */
  private instantiate(made: MadeModule): void {
    // Exported and put in the table from here: a module that imports the table gets its own
    // copy of it in V8 (11.3), grown with the table, which ran out of memory with
    // thousands of modules.
    const first = this.blocks.length, n = made.keys.length;
    if (first + n > this.table.length) this.table.grow(Math.max(this.table.length, n));
    made.module ??= new WebAssembly.Module(made.bytes);
    const instance = new WebAssembly.Instance(made.module, { env: { memory: this.cpu.mem.wasm, calls: this.calls } });
    made.keys.forEach((key, i) => {
      this.table.set(first + i, instance.exports[`b${i}`] as () => void);
      // Run alone (the JavaScript dispatcher enters the dispatch loop instead): the loop from EIP.
      const block: WasmBlock = { run: () => this.dispatch(), index: first + i };
      this.blocks.push(block);
      this.madeHere.set(key, block);
    });
  }

  /** Called for a block cache entry waiting for `t`'s module when it is made. */
  onReady: (entry: unknown, block: WasmBlock) => void = () => {};

  /**
   * The imported function for a name: the CPU's fields current around the JavaScript it
   * calls. One function literal per import, of the import's arity: a call site in a
   * closure shared by several imports sees all their targets (V8 keeps one feedback
   * vector per literal), and a rest parameter spread into the call allocates.
   */
  private importFor(name: string): (...args: number[]) => number | void {
    const c = this.cpu, s = this.s;
    const wrappers: Record<string, (...args: number[]) => number | void> = {
      // (A read the fast path cannot make leaves the block; writes and reads for writing
      // are made in place only where every write is hooked: compile.ts.)
      rdw: (size, a) => { this.pull(); try { return c.rdw(size, a); } finally { this.push(); } },
      wr8: (a, v) => { this.pull(); try { c.wr8(a, v); } finally { this.push(); } },
      wr16: (a, v) => { this.pull(); try { c.wr16(a, v); } finally { this.push(); } },
      wr32: (a, v) => { this.pull(); try { c.wr32(a, v); } finally { this.push(); } },
      gp: (code) => { this.pull(); try { c.gp(code); } finally { this.push(); } },
      step: () => { this.pull(); try { c.step(); } finally { this.push(); } },
      stepRun: (lengths, n) => { this.pull(); try { return c.stepRun(lengths, n); } finally { this.push(); } },
      // A device reads the clock (the batch) and may raise an interrupt or stop the machine
      // (eventPending, the controllers' quiet state); nothing else of the CPU.
      portIn: (port, size) => { c.batchLeft = s[SLOTS.batchLeft]!; try { return c.portIn(port, size as 1 | 4); } finally { this.afterDevice(); } },
      portOut: (port, size, value) => { c.batchLeft = s[SLOTS.batchLeft]!; try { c.portOut(port, size as 1 | 4, value); } finally { this.afterDevice(); } },
      shift: (kind, a, count, size) => { this.pull(); try { return shift(c, kind, a, count, size); } finally { this.push(); } },
      doubleShift: (left, a, b, count, size) => { this.pull(); try { return doubleShift(c, left !== 0, a, b, count, size); } finally { this.push(); } },
      divAcc: (src, size, signed) => { this.pull(); try { divAcc(c, src, size, signed !== 0); } finally { this.push(); } },
    };
    const w = wrappers[name];
    if (!w) throw new Error(`internal error: no import ${name}`);
    return w;
  }
}

/**
 * The WebAssembly tier of `cpu`'s blocks, made now if it is not yet (blocks make it with
 * the first block when their engine is 'wasm', the default). `eager` makes every
 * translation into a module at once (tests that compile every block at first sight);
 * otherwise translations wait for a module of BATCH, or WAIT instructions.
 */
export function useWasmTier(cpu: CPU, eager = false): WasmTier {
  const blocks = cpu.blocks;
  blocks.engine = 'wasm';
  if (blocks.wasm === null) blocks.useWasm(new WasmTier(cpu));
  const tier = blocks.wasm!;
  if (eager) {
    tier.batch = 1;
    tier.wait = 0;
  }
  return tier;
}
