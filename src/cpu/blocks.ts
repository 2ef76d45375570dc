/**
 * The compiled-block cache: blocks keyed by the host-physical address of their first
 * instruction *and* its linear address, compiled once an address has been reached
 * `threshold` times, and forgotten when their page is written (self-modifying code, a page
 * reused for data, the hypervisor rewriting a frame).
 *
 * The linear address is part of the key because a block's code embeds it (EIP at every
 * exit and fault, return addresses pushed by call): one frame mapped at two linear
 * addresses (copy-on-write fork, shared code) runs two different blocks. The mode is
 * the third part of the key, as in v86: blocks are only looked up in flat 32-bit mode
 * (`CPU.flat`), and what else they depend on (CPL, IOPL, IF) is read at run time.
 * The slot is the host offset's, moved by a hash of the linear page's distance from the
 * host page (zero for identity-mapped code), so that the two mappings of a shared frame
 * do not evict each other.
 *
 * Pages holding compiled code are marked PAGE_CODE in guest-physical memory and the
 * 64-byte lines the blocks were made from are recorded: the TLB keeps such pages readable
 * and writable, but their write entries fail the fast path, and a write that touches a
 * code line reports here (data sharing a page with code costs a check, not a recompile).
 * The write itself completes; the CPU sets `codeChanged`, so a running block stops
 * after that instruction and no stale block runs the rest of a modified instruction
 * stream (the batch goes on: interrupts come exactly when they would without blocks).
 */
import { blockFunction, compileBlock, type BlockCode, type CompiledSource } from './compile.js';
import type { CPU } from './cpu.js';
import { WasmTier, type WasmBlock } from './wasm/tier.js';

const SLOT_BITS = 18;
const SLOT_MASK = (1 << SLOT_BITS) - 1;
const slotOf = (host: number, eip: number) => (host ^ ((Math.imul((host ^ eip) >>> 12, 0x9e3779b1) >>> 26) << 12)) & SLOT_MASK;

export interface Block {
  /** Host byte offset of the first instruction. */
  readonly host: number;
  /** Linear address of the first instruction (the code embeds it). */
  readonly eip: number;
  /** Where the block is in the cache. */
  readonly slot: number;
  /** Instructions the block holds. */
  readonly length: number;
  /**
   * The most it runs before it looks at its batch (CompiledSource.pass): the dispatcher needs
   * this many left. (Set when a block waiting for its WebAssembly module gets it.)
   */
  pass: number;
  run: BlockCode;
  /**
   * The block the dispatcher entered after this one last time (most exits go to the same
   * place): it is taken without a look-up when it starts at the next EIP's host and
   * linear address and is still live.
   */
  next: Block | null;
  /** True while the block is in its slot: false once forgotten (frame written) or evicted (slot taken). */
  live: boolean;
  /** Translated into WebAssembly, and in the WebAssembly tier's block table. */
  wasm: boolean;
}

/**
 * Blocks written before, by the linear address of their first instruction, kept across
 * machines: a new machine (each campaign run, each benchmark run) compiles the same code
 * again, and writing a block's source costs as much as running it hundreds of times. One
 * is reused only when the guest bytes it was made from are the same and every "does a
 * block start at …" question the writer asked has the same answer now: then compileBlock
 * would write the same source. Earlier processes' blocks join them from the block cache on
 * disk (src/block-cache.ts: writtenRecords, addWrittenRecords), under the same checks.
 */
interface Written {
  code: Uint8Array;
  questions: Map<number, boolean>;
  /** Written for a machine whose every write is hooked (compileBlock's `hookedWrites`). */
  hookedWrites: boolean;
  compiled: CompiledSource;
  /** The JavaScript function, made when first asked for (a block the WebAssembly tier takes does not need it). */
  run: BlockCode | null;
  /** Read from the block cache on disk (an earlier process wrote it), not written by this one. */
  fromDisk: boolean;
}

function runOf(w: Written): BlockCode {
  return (w.run ??= blockFunction(w.compiled.source));
}
const written = new Map<number, Written[]>();
let writtenCount = 0;
const WRITTEN_PER_ADDRESS = 8;
/** Executions of an address before a block written before for it is looked for. */
const REUSE_AFTER = 50;

/** A block written before for these guest bytes and these answers, if there is one. */
function knownBlock(page: Uint8Array, eip: number, isBlock: (eip: number) => boolean, hookedWrites: boolean): Written | undefined {
  for (const w of written.get(eip) ?? []) {
    if (w.hookedWrites !== hookedWrites) continue;
    let same = sameBytes(page.subarray(w.compiled.first, w.compiled.end), w.code);
    if (same) for (const [at, answer] of w.questions) if (isBlock(at) !== answer) { same = false; break; }
    if (same) return w;
  }
  return undefined;
}

function writeBlock(page: Uint8Array, eip: number, isBlock: (eip: number) => boolean, hookedWrites: boolean): Written | null {
  const known = knownBlock(page, eip, isBlock, hookedWrites);
  if (known) return known;
  const questions = new Map<number, boolean>();
  const compiled = compileBlock(page, eip & 0xfff, eip, (at) => {
    const answer = isBlock(at);
    questions.set(at, answer);
    return answer;
  }, hookedWrites);
  if (compiled === null) return null;
  const w: Written = { code: page.slice(compiled.first, compiled.end), questions, compiled, hookedWrites, run: null, fromDisk: false };
  remember(eip, w);
  writtenHere++;
  return w;
}

function remember(eip: number, w: Written): void {
  if (++writtenCount > 20000) { written.clear(); writtenCount = 1; }
  const list = written.get(eip);
  if (!list) written.set(eip, [w]);
  else {
    // A few versions per address (programs loaded at the same address, code rewritten):
    // code rewritten over and over must not make every lookup there longer.
    if (list.length >= WRITTEN_PER_ADDRESS) list.shift();
    list.push(w);
  }
}

/** Blocks this process (this thread) has written itself. */
let writtenHere = 0;

/**
 * A block written before, as the block cache on disk keeps it (src/block-cache.ts): what
 * `written` holds for it, in plain data.
 */
export interface WrittenRecord {
  eip: number;
  code: Uint8Array;
  questions: Array<[number, boolean]>;
  hookedWrites: boolean;
  compiled: CompiledSource;
}

/** Every block written before (by this process or read from disk), oldest first, and how many this process wrote. */
export function writtenRecords(): { records: WrittenRecord[]; writtenHere: number } {
  const records: WrittenRecord[] = [];
  for (const [eip, list] of written) {
    for (const w of list) records.push({ eip, code: w.code, questions: [...w.questions], hookedWrites: w.hookedWrites, compiled: w.compiled });
  }
  return { records, writtenHere };
}

/**
 * Blocks an earlier process wrote, taken as if written here (the same checks decide whether
 * one is reused: its guest bytes and answers). One already known is not added twice.
 */
export function addWrittenRecords(records: readonly WrittenRecord[]): void {
  for (const r of records) {
    const known = written.get(r.eip)?.some((w) => w.hookedWrites === r.hookedWrites && w.compiled.source === r.compiled.source && sameBytes(w.code, r.code));
    if (known) continue;
    remember(r.eip, { code: r.code, questions: new Map(r.questions), hookedWrites: r.hookedWrites, compiled: r.compiled, run: null, fromDisk: true });
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Recorded for an address whose first instruction the compiler leaves to the interpreter. */
const NOT_COMPILED = 0x7fffffff;
/** A block waiting for its WebAssembly module: longer than any batch, so it is not run yet. */
export const WAITING = 0x7ffffffe;
const nothing: BlockCode = () => {};

export interface BlockStats {
  compiled: number;
  invalidated: number;
  /** Of `compiled`, blocks an earlier process wrote (read from the block cache on disk). */
  fromDisk: number;
}

export class BlockCache {
  /**
   * Executions of an address before a new block is written for it; 0 turns the compiled
   * tier off. A block written before for the same bytes (by an earlier machine, see
   * `written`) is taken sooner, after REUSE_AFTER: taking one costs a comparison of its
   * bytes, writing one a parse and an optimising compile that code run fewer times does
   * not pay back (usertests' first run: 3.49-3.58 s with 50, 3.24-3.35 s with 1,000,
   * the same from 1,000 to 6,000).
   */
  threshold = 1000;
  /**
   * What blocks run as: translated into WebAssembly where the translator takes them (the
   * default: src/cpu/wasm/tier.ts, made with the first block), or JavaScript functions
   * only (`--js-blocks`; a region the translator refuses is one in either case). Set it
   * before the CPU runs.
   */
  engine: 'wasm' | 'js' = 'wasm';
  /** The WebAssembly tier, once made (engine 'wasm'). */
  wasm: WasmTier | null = null;
  /**
   * Every write of the machine is hooked (`--mirror hardware`): blocks make a write's slow
   * path in place instead of leaving before its instruction (compileBlock's `hookedWrites`),
   * and stay JavaScript, whose optimising compiler makes code for the paths taken only
   * (usertests with the hardware mirror: 6.4-7.4 s on JavaScript blocks, 7.7-9.0 s in
   * WebAssembly, where every store's call and the register reloads after it are code).
   */
  hookedWrites = false;
  readonly stats: BlockStats = { compiled: 0, invalidated: 0, fromDisk: 0 };
  private readonly slots: Array<Block | undefined> = new Array<Block | undefined>(1 << SLOT_BITS).fill(undefined);
  private readonly heat = new Uint16Array(1 << SLOT_BITS);
  private readonly byFrame = new Map<number, Block[]>();

  constructor(private readonly cpu: CPU) {
    cpu.mem.onCodeWrite = (frame) => this.invalidateFrame(frame);
  }

  /** Turns the WebAssembly tier on (see useWasmTier). */
  useWasm(tier: WasmTier): void {
    this.wasm = tier;
    tier.onReady = (entry, wasmBlock) => {
      const { block, pass } = entry as { block: Block; pass: number };
      this.ready(block, wasmBlock, pass);
    };
  }

  /** A block's WebAssembly function is made: it runs from now on, if it is still in its slot. */
  private ready(block: Block, wasmBlock: WasmBlock, pass: number): void {
    if (!block.live) return;
    block.pass = pass;
    block.run = wasmBlock.run;
    block.wasm = true;
    this.wasm!.install(block.slot, block.host, block.eip, wasmBlock, pass);
  }

  /**
   * The block starting at host offset `host` (linear address `eip`), compiling it when
   * it has become hot; null while the interpreter should go on.
   */
  find(host: number, eip: number): Block | null {
    const slot = slotOf(host, eip);
    const block = this.slots[slot];
    if (block !== undefined && block.host === host && block.eip === eip) return block;
    if (this.threshold === 0) return null;
    const heat = ++this.heat[slot]!;
    if (heat >= this.threshold || heat === REUSE_AFTER) {
      const compiled = this.compile(host, eip, slot, heat >= this.threshold);
      if (compiled !== null) this.heat[slot] = 0;
      return compiled;
    }
    return null;
  }

  /** The block at `host`/`eip`, written now if `write`, else only if one was written before (null if not). */
  private compile(host: number, eip: number, slot: number, write: boolean): Block | null {
    const frame = host >>> 12;
    const page = this.cpu.u8.subarray(frame << 12, (frame + 1) << 12);
    // A region stops where another compiled block of this page starts (its code is not written twice).
    const isBlock = (at: number) => {
      const atHost = host + (at - eip);
      const other = this.slots[slotOf(atHost, at)];
      return other !== undefined && other.host === atHost && other.eip === at && other.length !== NOT_COMPILED;
    };
    const w = write ? writeBlock(page, eip, isBlock, this.hookedWrites) : knownBlock(page, eip, isBlock, this.hookedWrites);
    if (w === undefined) return null;
    const compiled = w === null ? null : w.compiled;
    // With the WebAssembly tier, a translated block waits for its module (WAITING: the
    // dispatcher leaves it to the interpreter) unless it is made already.
    if (this.wasm === null && this.engine === 'wasm' && !this.hookedWrites) this.useWasm(new WasmTier(this.cpu));
    const translated = w === null || this.wasm === null ? null : this.wasm.translate(w.compiled.source);
    const run = w === null || translated !== null ? nothing : runOf(w);
    const block: Block = {
      host, eip, slot, length: compiled === null ? NOT_COMPILED : compiled.length,
      pass: compiled === null ? NOT_COMPILED : translated !== null ? WAITING : compiled.pass, run, next: null, live: true, wasm: false,
    };
    if (translated !== null) {
      if (translated.block !== null) this.ready(block, translated.block, compiled!.pass);
      else translated.waiting.push({ block, pass: compiled!.pass });
    }
    if (compiled !== null) {
      this.stats.compiled++;
      if (w!.fromDisk) this.stats.fromDisk++;
      // The instructions inside the block were interpreted as often as its start, so their
      // addresses are as hot; but from now on the dispatcher meets them only where control
      // enters the block's code from elsewhere. They start counting again: else each would
      // soon get a block of its own that runs a few times, if ever (usertests' first run
      // wrote 1,215 blocks, 716 of which then ran fewer than 10 times; now 471). Not so
      // the return addresses of calls: a callee outside the block returns to them through
      // the dispatcher every time, and counting again kept the code after a call to
      // another page in the interpreter for another thousand returns each time a block
      // around it was written.
      const returns = new Set(compiled.returns);
      for (const at of compiled.starts) if (at !== eip && !returns.has(at)) this.heat[slotOf(host + (at - eip), at)] = 0;
    }
    const evicted = this.slots[slot];
    if (evicted !== undefined) {
      evicted.live = false;
      this.wasm?.remove(slot, evicted.host, evicted.eip);
    }
    this.slots[slot] = block;
    const list = this.byFrame.get(frame);
    if (list) list.push(block);
    else this.byFrame.set(frame, [block]);
    const base = frame << 12;
    this.cpu.protectCode(compiled === null ? host : base + compiled.first, compiled === null ? host + 1 : base + compiled.end);
    return block;
  }

  /** Forgets every block compiled from host frame `frame`. */
  invalidateFrame(frame: number): void {
    const list = this.byFrame.get(frame);
    if (!list) return;
    this.byFrame.delete(frame);
    for (const block of list) {
      if (this.slots[block.slot] === block) this.slots[block.slot] = undefined;
      this.wasm?.remove(block.slot, block.host, block.eip);
      block.live = false;
    }
    this.stats.invalidated += list.length;
    this.cpu.unprotectCode(frame);
    this.cpu.codeChanged = true;
  }

  /** Forgets everything (state restored from a snapshot, memory replaced). */
  clear(): void {
    for (const frame of [...this.byFrame.keys()]) this.invalidateFrame(frame);
    this.heat.fill(0);
  }
}
