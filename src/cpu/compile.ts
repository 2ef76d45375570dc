/**
 * The block compiler: turns a run of guest instructions that starts at a hot address into
 * one JavaScript function (`new Function`), so V8 optimises the guest code itself instead
 * of the interpreter's decode loop (../shared/reference/emulator.md §2.1–2.3).
 *
 * A block is a region of code within one 4 KiB page, in flat 32-bit mode (CS, DS, ES, SS
 * based at 0, 32-bit code and stack): up to MAX_INSTRUCTIONS reachable from its start on
 * the page, both sides of conditional jumps, jumps and calls to the page and returns to
 * it going round a switch on the page offset (see BlockWriter). Control transfers off the
 * page, instructions that change the processor's mode, and code the region does not hold
 * leave it.
 *
 * Semantics are the interpreter's, instruction for instruction:
 * - the common integer forms (moves, the eight ALU operations, inc/dec, push/pop,
 *   lea, test, shifts, multiply/divide, movzx/movsx, setcc/cmovcc, jumps, calls, returns)
 *   are written out with the operands decoded once, through the same helpers
 *   (alu.ts) and the same lazy-flag state, guest registers in locals and flag stores
 *   deferred to where they can be read (see WRITE_BACK and BlockWriter.pending);
 * - other harmless instructions (string instructions, 16-bit forms, segment overrides,
 *   bit tests, cmpxchg, port I/O, cli/sti/popf, x87, …) call the interpreter's `step` in place;
 *   so do loads of DS/ES/FS/GS (the block goes on while the mode stays flat) and the
 *   instructions of a trap's way in and out that end a region (iret, int n, a control
 *   register load: the block leaves after them);
 * - memory accesses go through the same TLB arrays: one mask-and-compare; an access the
 *   fast path cannot make (a page walk, a fault, MMIO, a hooked or code page) leaves the
 *   block before its instruction, which the interpreter then runs (CPU.stepNext), so no
 *   path in a block comes back from a call to the CPU's slow path. Where every write is
 *   hooked (`--mirror hardware`), a store's slow path stays in the block instead
 *   (`hookedWrites`): there leaving at every store would leave the block at every store.
 * Instruction counts, EIP, faults (EIP and count at the faulting instruction) and the
 * `eventPending` check after every instruction that took a slow path are exactly the
 * interpreter's, so a run is identical whichever tier executes it. A write to the code
 * of a compiled block sets `codeChanged`: the block stops after that instruction (its
 * remaining code may be stale) and the batch goes on, as it would in the interpreter.
 */
import { adcFlags, dec, divAcc, doubleShift, imul32Flags, inc, mulAcc, sbbFlags, shift, szp } from './alu.js';
import { CF, DF, IF, IOPL, OF, OP_ADD, OP_DEC, OP_INC, OP_LOGIC, OP_SUB, RF, VM } from './flags.js';
import type { CPU } from './cpu.js';
import { PREFIX_BYTE } from './state.js';
import { ANY_INT32 } from './fields.js';
import { REP_CHUNK } from './strings.js';

export const MAX_INSTRUCTIONS = 20;

/** A compiled block: runs from c.eip, leaves c.eip and c.batchLeft at its exit. */
export type BlockCode = (c: CPU) => void;

export interface CompiledSource {
  /** Instructions the region holds. */
  length: number;
  /**
   * The most instructions the block runs before it looks at what is left of its batch: its
   * longest run (a jump between runs, or round a loop, goes on only with this many left).
   * The dispatcher enters the block only with this many left.
   */
  pass: number;
  /** Page offsets [first, end) of the guest code the block was made from. */
  first: number;
  end: number;
  /** The function body; the same guest bytes at the same address give the same text. */
  source: string;
  /** Linear address of every instruction the block holds (its first included). */
  starts: readonly number[];
  /**
   * Those of `starts` that follow a call: the callee's return comes back to them through
   * the dispatcher whenever the callee is not in the block, so they stay entry points.
   */
  returns: readonly number[];
}

/** Helpers the generated code calls, passed in once per compiled function. */
const HELPERS = { adcFlags, dec, divAcc, doubleShift, imul32Flags, inc, mulAcc, sbbFlags, shift, szp };
const HELPER_NAMES = Object.keys(HELPERS);
const HELPER_VALUES = Object.values(HELPERS);

/** Stands for the block's pass (CompiledSource.pass) in code written before it is known. */
const PASS = '$PASS$';
/**
 * Guest registers live in JavaScript locals g0-g7 inside a block (the code is written with
 * r[i] and rewritten at the end). Where the CPU's register file can be read or written
 * (an exit, a fault, the interpreter, mulAcc/divAcc) these stand for writing the locals
 * back and for reloading them after.
 */
const WRITE_BACK = '$WB$';
const RELOAD = '$RL$';
/** WRITE_BACK as the start of a comma expression (each store followed by a comma). */
const WRITE_BACK_EXPR = '$WX$';
/** The marks, replaced in one pass when the block is finished. */
const MARKS = new RegExp([PASS, WRITE_BACK, RELOAD, WRITE_BACK_EXPR].map((m) => m.replaceAll('$', '\\$')).join('|'), 'g');

/**
 * Instructions the interpreter runs in place one right after another in a run (the way
 * into the kernel pushes four segment registers and all eight others, its way out pops
 * them and returns with iret: 83,000 times each in a usertests run) are one call of
 * CPU.stepRun, not one each: every call from a block is the registers written back and
 * reloaded, and in WebAssembly the CPU's fields copied out and back too. The first
 * instruction's code is written as it would be alone; each that joins the group writes the
 * group's code again in its place. At most GROUP_MAX (their lengths, 4 bits each, are one
 * argument), and never across a label.
 */
interface InPlaceGroup {
  /** Index in the body of the group's first line, and the lines before its call (the first instruction's flag stores). */
  line: number;
  pre: string[];
  /** Index of its first instruction (names its local), its start and the address after it. */
  first: number;
  start: number;
  end: number;
  /** The length of each instruction. */
  lengths: number[];
  /** Instructions of the run before the group. */
  count: number;
  /** Whether its last instruction ends the region (the block leaves after the group). */
  leave: boolean;
}
const GROUP_MAX = 8;

/** An instruction the interpreter runs in place, as a whole: where in its code its step starts, and whether the block leaves after it. */
interface InPlace {
  at: number;
  leave: boolean;
}

/** Thrown by the byte reader when an instruction would run past the end of the page. */
const PAGE_END = { pageEnd: true };

interface Operand {
  reg: number;
  /** Register number of a register r/m operand, or -1 for memory. */
  rm: number;
  /** JavaScript expression for the linear address of a memory operand. */
  addr: string;
}

/** The accumulator as a register r/m operand. */
const ACCUMULATOR: Operand = { reg: 0, rm: 0, addr: '' };

/** What the last flag-setting instruction left in named locals (for fused conditions). */
interface KnownFlags {
  kind: number; // OP_ADD, OP_SUB, OP_LOGIC, OP_INC, OP_DEC
  a: string;
  b: string;
  r: string;
  size: number;
}

const SIGN_SHIFT = [0, 24, 16, 0, 0];
const MASK = [0, 0xff, 0xffff, 0, -1];

/**
 * Compiles the block at linear address `eip` whose bytes start at `page[offset]`.
 * Instructions that a jump reaches get a `case` label (flags fused across them are not
 * known there); which ones are reached is only known once the region is written, so it
 * is written again with the labels found until none is missing (exploring the region does
 * not depend on the labels, so this ends, usually after one or two passes).
 * `isBlock(eip)` says whether a compiled block already starts at an address of the page:
 * the region leaves there instead of writing that code again (usertests compiled 33,966
 * instructions for 7,682 distinct ones when regions overlapped freely).
 */
export function compileBlock(page: Uint8Array, offset: number, eip: number, isBlock: (eip: number) => boolean = () => false,
  hookedWrites = false): CompiledSource | null {
  const labels = new Set<number>();
  for (;;) {
    const writer = new BlockWriter(page, offset, eip, labels, isBlock, hookedWrites);
    const compiled = writer.write();
    if (compiled === null) return null;
    const missing = writer.unlabelled();
    if (missing.length === 0) return compiled;
    for (const target of missing) labels.add(target);
  }
}

const functionCache = new Map<string, BlockCode>();

/** The function for a block's source (identical guest code shares one function). */
export function blockFunction(source: string): BlockCode {
  let f = functionCache.get(source);
  if (!f) {
    f = new Function(...HELPER_NAMES, source)(...HELPER_VALUES) as BlockCode;
    if (functionCache.size > 20000) functionCache.clear();
    functionCache.set(source, f);
  }
  return f;
}

/**
 * Writes a region: the code reachable from the start within its page, up to
 * MAX_INSTRUCTIONS. It is written as straight runs of instructions (a conditional jump's
 * fall-through side goes on in the run, its taken side is queued) inside
 * `for (;;) switch (L)`, where L is the page offset of the next instruction: a jump to
 * code on the page, constant or computed (ret, jmp/call through a register), sets L and
 * goes round; code the region does not hold leaves it (`default`).
 *
 * Counting: `done` is the number of instructions run in the runs before the current one;
 * inside a run the count is constant (`this.count`), added to `done` when the run is left
 * for another (jump, or falling into a labelled instruction). Between two jumps the
 * block runs at most one run from where it was entered to the run's end (it falls through
 * labels without a look), so it needs at most `pass` (its longest run) of the batch: the
 * dispatcher enters it only with that much left, and every jump inside checks that the
 * batch still has it, else leaves.
 */
class BlockWriter {
  private readonly out: string[] = [];
  // Every number field starts with a number (an address with ANY_INT32, see fields.ts), so
  // that V8 gives it a number's representation rather than that of `undefined`.
  private pos = 0;
  private readonly startPos: number = 0;
  private eip = ANY_INT32;
  private readonly startEip: number = ANY_INT32;
  /** Linear address of the start of the page. */
  private readonly pageBase: number = ANY_INT32;
  /** Start EIP of every instruction written, by index, and its count in its run. */
  private readonly starts: number[] = [];
  /** Return addresses of the calls written (see CompiledSource.returns). */
  private readonly returnSites = new Set<number>();
  private index = 0;
  /** Linear address of the instruction being written. */
  private start = 0;
  /** Index of the first instruction of the current run (since `done` was last updated). */
  private base = 0;
  private known: KnownFlags | null = null;
  /**
   * The lazy-flag state of the last flag-setting instruction, not yet stored into the CPU
   * (as assignments): flags are stored only where they can be read, at exits, jumps
   * round the switch, slow paths (a fault or a device may look), and before the
   * interpreter or a helper that reads or sets them. An instruction that sets flags
   * again before any of those makes the earlier stores unnecessary.
   */
  private pending: string | null = null;
  /** The instruction that opened the current `case`, its line, and whether a jump loops back to it. */
  private caseEip = ANY_INT32;
  private caseLine = 0;
  private caseLoops = false;
  private touchesMemory = false;
  /** The pending flag stores each slow path of the current instruction makes. */
  private readonly slowFlags: Array<string | null> = [];
  /** Start EIPs of the instructions written. */
  private readonly written = new Set<number>();
  /** Constant jump targets on the page (they need a label if they are written). */
  private readonly targets = new Set<number>();
  /** Targets to write runs from, in order, and those a run was started from. */
  private readonly queue: number[] = [];
  private readonly runs = new Set<number>();
  /** Page offsets of the code read: [lowPos, highPos). */
  private lowPos = 0;
  private highPos = 0;
  /** Set by an instruction the interpreter runs in place: where in `out` its step starts, and whether the block leaves after it. */
  private inPlace: InPlace | null = null;
  /** The group of in-place instructions the current run ends with, if any (see InPlaceGroup). */
  private group: InPlaceGroup | null = null;

  constructor(private readonly page: Uint8Array, offset: number, eip: number, private readonly labels: ReadonlySet<number>,
    private readonly isBlock: (eip: number) => boolean, private readonly hookedWrites: boolean) {
    this.pos = this.startPos = this.lowPos = this.highPos = offset;
    this.eip = eip | 0;
    this.startEip = eip | 0;
    this.pageBase = (eip - offset) | 0;
  }

  /** Instructions of the current run written so far. */
  private get count(): number {
    return this.index - this.base;
  }

  /** Targets that were written without a label (the region must be written again). */
  unlabelled(): number[] {
    return [...this.targets].filter((t) => t !== this.startEip && this.written.has(t) && !this.labels.has(t));
  }

  write(): CompiledSource | null {
    const body: string[] = [];
    let pass = 0;
    this.queue.push(this.startEip);
    while (this.queue.length > 0 && this.index < MAX_INSTRUCTIONS) {
      const at = this.queue.shift()!;
      if (this.written.has(at) || this.runs.has(at)) continue;
      if (at !== this.startEip && this.isBlock(at)) continue;
      this.runs.add(at);
      this.pos = this.startPos + (at - this.startEip);
      this.eip = at;
      this.base = this.index;
      this.known = null;
      this.pending = null;
      this.group = null;
      if (body.length > 0) this.closeCase(body);
      this.openCase(body, at);
      const before = this.index;
      this.run(body);
      // A run falls through its labels into the next case without a look at the batch.
      pass = Math.max(pass, this.index - before);
    }
    if (body.length > 0) this.closeCase(body);
    if (this.index === 0) return null;
    const length = this.index;
    // One pass over the text finds the registers it uses and writes them as locals.
    let usedMask = 0;
    const text = body.join('\n').replace(/\br\[([0-7])\]/g, (_, i: string) => {
      usedMask |= 1 << Number(i);
      return `g${i}`;
    });
    const used = [0, 1, 2, 3, 4, 5, 6, 7].filter((i) => (usedMask & (1 << i)) !== 0);
    const lines = [
      // In parentheses: V8 then compiles the block with the function around it, instead of
      // pre-parsing it now and parsing it again at its first call (a third less time).
      'return (function block(c) {',
      'const R = c.reg, SG = c.sel, tr = c.tlbR, tw = c.tlbW, u8 = c.u8, u16 = c.u16, i32 = c.i32, left = c.batchLeft;',
      `let t = 0, s = 0, done = 0, x = 0, lv = 0, L = ${this.startPos}${used.map((i) => `, g${i} = R[${i}]`).join('')};`,
      'out: for (;;) switch (L) {',
      text,
      `default: { x = (${this.pageBase} + L) | 0; break out; }`,
      '}',
      `${WRITE_BACK} c.eip = x; c.batchLeft = left - done; if (lv !== 0) { c.stepNext = 1; }`,
      '});',
    ];
    const marks: Record<string, string> = {
      [PASS]: String(pass),
      [WRITE_BACK]: used.map((i) => `R[${i}] = g${i};`).join(' '),
      [RELOAD]: used.map((i) => `g${i} = R[${i}];`).join(' '),
      [WRITE_BACK_EXPR]: used.map((i) => `R[${i}] = g${i}, `).join(''),
    };
    const source = lines.join('\n').replace(MARKS, (mark) => marks[mark]!);
    const returns = this.starts.filter((at) => this.returnSites.has(at));
    return { length, pass, first: this.lowPos, end: this.highPos, source, starts: this.starts, returns };
  }

  /**
   * Opens the `case` of the instruction at `eip`. A jump back to the instruction that
   * opened the current case (a loop within the run, the common shape of a hot loop) goes
   * round a loop of its own (`continue` to the case's label) rather than through the
   * switch: closeCase then writes the case as a labelled `for (;;)`.
   */
  private openCase(body: string[], eip: number): void {
    this.caseEip = eip;
    this.caseLine = body.length;
    this.caseLoops = false;
    body.push(`case ${eip - this.pageBase}: {`);
  }
  private closeCase(body: string[]): void {
    if (!this.caseLoops) {
      body.push('}');
      return;
    }
    const label = `l${this.caseEip - this.pageBase}`;
    body[this.caseLine] = `case ${this.caseEip - this.pageBase}: ${label}: for (;;) {`;
    body.push(`break ${label}; }`);
  }

  /** Writes a straight run from this.eip until a control transfer, code already written, or the limit. */
  private run(body: string[]): void {
    const runStart = this.eip;
    for (;;) {
      const here = this.eip;
      if (this.index >= MAX_INSTRUCTIONS) {
        body.push(this.exit(String(here), this.count));
        return;
      }
      if (here !== runStart && this.isBlock(here)) {
        body.push(this.exit(String(here), this.count));
        return;
      }
      if (this.written.has(here)) {
        // Fell into code written earlier: jump to it.
        this.out.length = 0;
        this.touchesMemory = false;
        this.jumpTo(here, this.count);
        body.push(...this.out);
        return;
      }
      if (here !== runStart && this.labels.has(here)) {
        body.push(`${this.flush()}done += ${this.count};`);
        this.closeCase(body);
        this.openCase(body, here);
        this.base = this.index;
        this.known = null;
        this.pending = null;
        this.group = null;
      }
      const savedPos = this.pos;
      let code: string[] | null;
      let terminal = false;
      try {
        this.out.length = 0;
        this.touchesMemory = false;
        this.slowFlags.length = 0;
        this.start = here;
        this.inPlace = null;
        const result = this.instruction();
        code = result === null ? null : this.out.slice();
        terminal = result === 'end';
      } catch (e) {
        if (e !== PAGE_END) throw e;
        code = null;
      }
      if (code === null) {
        this.pos = savedPos;
        this.eip = here;
        body.push(this.exit(String(here), this.count));
        return;
      }
      const inPlace = this.inPlace as InPlace | null;
      const g = this.group;
      if (inPlace !== null && inPlace.at === 0 && g !== null && g.end === here && g.lengths.length < GROUP_MAX) {
        // Run in place right after others, with no code of its own before its step: one call for the group.
        g.lengths.push(this.eip - here);
        g.end = this.eip;
        g.leave = inPlace.leave;
        body.length = g.line;
        body.push(...this.groupCode(g));
      } else {
        this.group = inPlace === null ? null : {
          line: body.length, pre: code.slice(0, inPlace.at), first: this.index, start: here, end: this.eip,
          lengths: [this.eip - here], count: this.count, leave: inPlace.leave,
        };
        body.push(...code);
      }
      if (this.touchesMemory && !terminal) body.push(this.eventCheck(String(this.eip), this.count + 1));
      this.starts.push(here);
      this.written.add(here);
      this.index++;
      if (terminal) return;
    }
  }

  // ---------------------------------------------------------------- byte reader

  private byte(): number {
    if (this.pos >= 4096) throw PAGE_END;
    this.eip = (this.eip + 1) | 0;
    if (this.pos >= this.highPos) this.highPos = this.pos + 1;
    if (this.pos < this.lowPos) this.lowPos = this.pos;
    return this.page[this.pos++]!;
  }
  private imm8s(): number {
    return (this.byte() << 24) >> 24;
  }
  private imm32(): number {
    return this.byte() | (this.byte() << 8) | (this.byte() << 16) | (this.byte() << 24);
  }
  private imm16(): number {
    return this.byte() | (this.byte() << 8);
  }

  /** ModRM with 32-bit addressing; the address expression is flat (no segment base). */
  private modrm(): Operand {
    const m = this.byte();
    const reg = (m >> 3) & 7, mod = m >> 6, rm = m & 7;
    if (mod === 3) return { reg, rm, addr: '' };
    const parts: string[] = [];
    let disp = 0;
    if (rm === 4) {
      const sib = this.byte();
      const base = sib & 7, index = (sib >> 3) & 7, scale = sib >> 6;
      if (index !== 4) parts.push(scale ? `(r[${index}] << ${scale})` : `r[${index}]`);
      if (base === 5 && mod === 0) disp = this.imm32();
      else parts.push(`r[${base}]`);
    } else if (rm === 5 && mod === 0) {
      disp = this.imm32();
    } else parts.push(`r[${rm}]`);
    if (mod === 1) disp = this.imm8s();
    else if (mod === 2) disp = this.imm32();
    if (disp !== 0 || parts.length === 0) parts.push(String(disp));
    return { reg, rm: -1, addr: `(${parts.join(' + ')}) | 0` };
  }

  // ---------------------------------------------------------------- emitters

  private emit(line: string): void {
    this.out.push(line);
  }
  private local(prefix: string): string {
    return `${prefix}${this.index}`;
  }
  /** Leaves the block at `eip` with `count` instructions of this pass done. */
  private exit(eip: string, count: number, flushed = false): string {
    return `{ ${flushed ? '' : this.flush()}x = ${eip}; ${count === 0 ? '' : `done += ${count}; `}break out; }`;
  }
  /**
   * The look at eventPending/codeChanged owed by an instruction whose access took the
   * slow path (`s` set), leaving the block at `eip`. The slow path has stored the flags
   * pending then; they are not stored again if they are still the ones pending.
   */
  private eventCheck(eip: string, count: number): string {
    const stored = this.slowFlags.every((p) => p === this.pending);
    return `if (s !== 0) { s = 0; if (c.eventPending || c.codeChanged) ${this.exit(eip, count, stored)} }`;
  }

  private getReg(size: number, r: number): string {
    if (size === 4) return `r[${r}]`;
    if (size === 2) return `(r[${r}] & 65535)`;
    return r < 4 ? `(r[${r}] & 255)` : `((r[${r - 4}] >> 8) & 255)`;
  }
  private setReg(size: number, r: number, v: string): void {
    if (size === 4) this.emit(`r[${r}] = ${v};`);
    else if (size === 2) this.emit(`r[${r}] = (r[${r}] & -65536) | (${v} & 65535);`);
    else if (r < 4) this.emit(`r[${r}] = (r[${r}] & -256) | (${v} & 255);`);
    else this.emit(`r[${r - 4}] = (r[${r - 4}] & -65281) | ((${v} & 255) << 8);`);
  }

  /** Declares the address of a memory operand in a local and returns its name. */
  private address(op: Operand): string {
    const a = this.local('a');
    this.emit(`const ${a} = ${op.addr};`);
    return a;
  }
  // Memory accesses: the TLB fast path inline. Otherwise the block leaves before the
  // instruction (leaveBefore), except for writes where every write is hooked: there the
  // CPU's own access is called in place (slow), and sets the local `s` so that the
  // instruction ends with a look at eventPending/codeChanged.
  /**
   * Leaves the block before the instruction being written, for the interpreter to run it
   * (CPU.stepNext): the pending flag stores made, the registers stored, EIP the
   * instruction's and the batch as it was before it. Nothing of the instruction has
   * happened yet: its accesses come before any register it writes (a pop's ESP is set
   * after its load), and a read-modify-write's store uses the write entry its load has
   * just passed. No path in the block then comes back from the CPU's slow path, so the
   * engine keeps the TLB arrays, typed-array pointers and register locals where the fast
   * paths left them (a usertests run's blocks in WebAssembly: 1.13 MB of optimised code
   * instead of 1.38 MB).
   */
  private leaveBefore(): string {
    // Through the block's one exit (the registers stored there), with `lv` set: a stub of its
    // own at every access made 37% of the text blocks were written as.
    return `{ ${this.flush()}${this.count > 0 ? `done += ${this.count}; ` : ''}x = ${this.start}; lv = 1; break out; }`;
  }
  /**
   * Before a slow-path access made in place (writes, where every write is hooked): `s`
   * set, the instruction count made exact (a device behind the access may read the
   * clock), the pending flag stores made (a fault there pushes EFLAGS), and the registers
   * and the instruction's address (startEip) stored, so that a fault or a debugger's stop
   * leaves the CPU as the interpreter would: the exception passes through the block,
   * which has no handler (the locals stay valid after it, as nothing there writes the
   * register file).
   */
  private slow(): string {
    this.slowFlags.push(this.pending);
    this.touchesMemory = true;
    return `s = 1, ${WRITE_BACK_EXPR}c.startEip = ${this.start}, ${this.pending === null ? '' : `${this.pending}, `}c.batchLeft = left - done - ${this.count}`;
  }
  /** Where a fault in the instruction being written is taken: its EIP and what is left of the batch before it. */
  private faultState(): string {
    return `c.startEip = ${this.start}; c.batchLeft = left - done - ${this.count};`;
  }
  /** The pending flag stores, as statements. */
  private flush(): string {
    return this.pending === null ? '' : `${this.pending}; `;
  }
  /** Before code that reads the CPU's flags, or sets them itself (helpers, the interpreter). */
  private settleFlags(): void {
    if (this.pending !== null) this.emit(`${this.pending};`);
    this.pending = null;
  }
  private load(size: number, a: string, into: string): void {
    if (size === 4) this.emit(`t = tr[${a} >>> 12]; if (((t | ${a}) & 3) !== 0) ${this.leaveBefore()} const ${into} = i32[(t ^ ${a}) >>> 2];`);
    else if (size === 1) this.emit(`t = tr[${a} >>> 12]; if ((t & 1) !== 0) ${this.leaveBefore()} const ${into} = u8[t ^ ${a}];`);
    else this.emit(`t = tr[${a} >>> 12]; if (((t | ${a}) & 1) !== 0) ${this.leaveBefore()} const ${into} = u16[(t ^ ${a}) >>> 1];`);
  }
  private store(size: number, a: string, v: string): void {
    if (!this.hookedWrites) {
      if (size === 4) this.emit(`t = tw[${a} >>> 12]; if (((t | ${a}) & 3) !== 0) ${this.leaveBefore()} i32[(t ^ ${a}) >>> 2] = ${v};`);
      else if (size === 2) this.emit(`t = tw[${a} >>> 12]; if (((t | ${a}) & 1) !== 0) ${this.leaveBefore()} u16[(t ^ ${a}) >>> 1] = ${v};`);
      else this.emit(`t = tw[${a} >>> 12]; if ((t & 1) !== 0) ${this.leaveBefore()} u8[t ^ ${a}] = ${v};`);
    } else if (size === 4) this.emit(`t = tw[${a} >>> 12]; if (((t | ${a}) & 3) === 0) i32[(t ^ ${a}) >>> 2] = ${v}; else { ${this.slow()}; c.wr32(${a}, ${v}); }`);
    else if (size === 2) this.emit(`t = tw[${a} >>> 12]; if (((t | ${a}) & 1) === 0) u16[(t ^ ${a}) >>> 1] = ${v}; else { ${this.slow()}; c.wr16(${a}, ${v}); }`);
    else this.emit(`t = tw[${a} >>> 12]; if ((t & 1) === 0) u8[t ^ ${a}] = ${v}; else { ${this.slow()}; c.wr8(${a}, ${v}); }`);
  }
  /** Read for read-modify-write: faults as a write when the page is not writable. */
  private loadForWrite(size: number, a: string, into: string): void {
    if (!this.hookedWrites) {
      if (size === 4) this.emit(`t = tw[${a} >>> 12]; if (((t | ${a}) & 3) !== 0) ${this.leaveBefore()} const ${into} = i32[(t ^ ${a}) >>> 2];`);
      else if (size === 2) this.emit(`t = tw[${a} >>> 12]; if (((t | ${a}) & 1) !== 0) ${this.leaveBefore()} const ${into} = u16[(t ^ ${a}) >>> 1];`);
      else this.emit(`t = tw[${a} >>> 12]; if ((t & 1) !== 0) ${this.leaveBefore()} const ${into} = u8[t ^ ${a}];`);
    } else if (size === 4) this.emit(`t = tw[${a} >>> 12]; const ${into} = ((t | ${a}) & 3) === 0 ? i32[(t ^ ${a}) >>> 2] : (${this.slow()}, c.rdw(4, ${a}));`);
    else if (size === 2) this.emit(`t = tw[${a} >>> 12]; const ${into} = ((t | ${a}) & 1) === 0 ? u16[(t ^ ${a}) >>> 1] : (${this.slow()}, c.rdw(2, ${a}));`);
    else this.emit(`t = tw[${a} >>> 12]; const ${into} = (t & 1) === 0 ? u8[t ^ ${a}] : (${this.slow()}, c.rdw(1, ${a}));`);
  }

  /** Reads an r/m operand into a new local. */
  private readRm(size: number, op: Operand, forWrite = false): string {
    const v = this.local('v');
    if (op.rm >= 0) this.emit(`const ${v} = ${this.getReg(size, op.rm)};`);
    else {
      const a = this.address(op);
      if (forWrite) this.loadForWrite(size, a, v);
      else this.load(size, a, v);
    }
    return v;
  }
  /** Writes an r/m operand (memory: to the address readRm declared, or a new one). */
  private writeRm(size: number, op: Operand, v: string, declared: boolean): void {
    if (op.rm >= 0) this.setReg(size, op.rm, v);
    else this.store(size, declared ? this.local('a') : this.address(op), v);
  }

  private lazy(kind: number, a: string, b: string, r: string, size: number): void {
    this.pending = `c.lfOp = ${kind}, c.lfA = ${a}, c.lfB = ${b}, c.lfR = ${r}, c.lfSize = ${size}`;
    this.known = { kind, a, b, r, size };
  }

  /** Local holding CF after the last inline inc/dec (meaningful while `known` is that inc/dec). */
  private carry = '';
  /** CF as an expression over the known flag setter's locals, or null (ask the CPU). */
  private knownCarry(): string | null {
    const k = this.known;
    if (k === null) return null;
    const m = MASK[k.size]!;
    const u = (x: string) => (k.size === 4 ? `(${x} >>> 0)` : `(${x} & ${m})`);
    switch (k.kind) {
      case OP_ADD: return `${u(k.r)} < ${u(k.a)} ? 1 : 0`;
      case OP_SUB: return `${u(k.a)} < ${u(k.b)} ? 1 : 0`;
      case OP_LOGIC: return '0';
      case OP_INC: case OP_DEC: return this.pending !== null && this.carry !== '' ? this.carry : null;
      default: return null;
    }
  }

  /** TEST: flags of `a & b`, nothing written. */
  private test(a: string, b: string, size: number): void {
    const r = this.local('r');
    this.emit(`const ${r} = ${a} & ${b};`);
    this.lazy(OP_LOGIC, '0', '0', r, size);
  }

  /** One of the eight ALU operations on two locals; returns the result's local. */
  private aluOp(kind: number, a: string, b: string, size: number): string {
    const r = this.local('r');
    switch (kind) {
      case 0: this.emit(`const ${r} = (${a} + ${b}) | 0;`); this.lazy(OP_ADD, a, b, r, size); break;
      case 1: this.emit(`const ${r} = ${a} | ${b};`); this.lazy(OP_LOGIC, a, b, r, size); break;
      case 4: this.emit(`const ${r} = ${a} & ${b};`); this.lazy(OP_LOGIC, a, b, r, size); break;
      case 6: this.emit(`const ${r} = ${a} ^ ${b};`); this.lazy(OP_LOGIC, a, b, r, size); break;
      case 5: case 7: this.emit(`const ${r} = (${a} - ${b}) | 0;`); this.lazy(OP_SUB, a, b, r, size); break;
      default: {
        // ADC, SBB: the carry in from the flag setter before them when it is known (the
        // add or sub of a 64-bit pair), their own flags pending like a shift's.
        const carry = this.knownCarry(), f = this.local('f'), sign = kind === 2 ? '+' : '-';
        if (carry === null) this.settleFlags();
        this.emit(`const ${f} = ${carry ?? 'c.getCF()'}; const ${r} = (${a} ${sign} ${b} ${sign} ${f}) | 0;`);
        this.pending = `c.setArith(${kind === 2 ? 'adcFlags' : 'sbbFlags'}(${a}, ${b}, ${r}, ${f}, ${size}))`;
        this.known = null;
        break;
      }
    }
    return r;
  }

  /** ALU r/m, reg (direction 0) or reg, r/m (direction 1). */
  private aluModrm(kind: number, size: number, toReg: boolean): void {
    const op = this.modrm();
    const regVal = this.local('b');
    this.emit(`const ${regVal} = ${this.getReg(size, op.reg)};`);
    if (toReg) {
      const v = this.readRm(size, op);
      const r = this.aluOp(kind, regVal, v, size);
      if (kind !== 7) this.setReg(size, op.reg, r);
    } else {
      const v = this.readRm(size, op, kind !== 7);
      const r = this.aluOp(kind, v, regVal, size);
      if (kind !== 7) this.writeRm(size, op, r, true);
    }
  }

  private aluImmediate(kind: number, size: number, op: Operand, imm: number): void {
    const v = this.readRm(size, op, kind !== 7);
    const b = this.local('b');
    this.emit(`const ${b} = ${imm};`);
    const r = this.aluOp(kind, v, b, size);
    if (kind !== 7) this.writeRm(size, op, r, true);
  }

  /**
   * A 32-bit ROL ROR SHL SHR SAL SAR by a constant, written out as alu.ts's `shift`
   * computes it; its flags go into `pending` (a rotate keeps SF ZF AF PF, so its flags
   * come after the earlier pending ones), and are dropped if no one reads them.
   */
  private shiftInline(kind: number, v: string, n: number, r: string): void {
    this.known = null;
    if (n === 0) {
      this.emit(`const ${r} = ${v};`);
      return;
    }
    const before = this.pending === null ? '' : `${this.pending}, `;
    const rotate = (cf: string, of: string) => {
      this.pending = `${before}c.materializeFlags(), c.flags = (c.flags & ${~(CF | OF)}) | (${cf}) | ((${of}) ? ${OF} : 0)`;
    };
    const arith = (cf: string, of: string) => {
      this.pending = `c.setArith(szp(${r}, 4) | (${cf}) | ((${of}) ? ${OF} : 0))`;
    };
    switch (kind) {
      case 0:
        this.emit(`const ${r} = (${v} << ${n}) | (${v} >>> ${32 - n});`);
        rotate(`${r} & 1`, `(${r} < 0) !== ((${r} & 1) !== 0)`);
        break;
      case 1:
        this.emit(`const ${r} = (${v} >>> ${n}) | (${v} << ${32 - n});`);
        rotate(`${r} < 0 ? 1 : 0`, `(${r} < 0) !== ((${r} & 1073741824) !== 0)`);
        break;
      case 4: case 6:
        this.emit(`const ${r} = ${v} << ${n};`);
        arith(`(${v} >>> ${32 - n}) & 1`, `(${r} < 0) !== (((${v} >>> ${32 - n}) & 1) !== 0)`);
        break;
      case 5:
        this.emit(`const ${r} = ${v} >>> ${n};`);
        arith(`(${v} >>> ${n - 1}) & 1`, `${v} < 0`);
        break;
      default:
        this.emit(`const ${r} = ${v} >> ${n};`);
        arith(`(${v} >> ${n - 1}) & 1`, 'false');
        break;
    }
  }

  private push(v: string): void {
    const a = this.local('s');
    this.emit(`const ${a} = (r[4] - 4) | 0;`);
    this.store(4, a, v);
    this.emit(`r[4] = ${a};`);
  }
  /**
   * PUSHA: the eight registers (ESP as it was) below ESP, which changes only once all eight
   * are written, so that leaving before the instruction at any of the stores (a TLB miss)
   * leaves it to the interpreter to run whole, as a fault would.
   */
  private pushAll(): void {
    const e = this.local('e');
    this.emit(`const ${e} = r[4];`);
    for (let k = 0; k < 8; k++) {
      // (A local of its own for each of the eight: local() names one per prefix and instruction.)
      const a = this.local(`ps${'abcdefgh'[k]}`);
      this.emit(`const ${a} = (${e} - ${4 * (k + 1)}) | 0;`);
      this.store(4, a, k === 4 ? e : `r[${k}]`);
    }
    this.emit(`r[4] = (${e} - 32) | 0;`);
  }
  /** POPA: all eight read (a miss leaves before the instruction) before any register is written; the saved ESP is skipped. */
  private popAll(): void {
    const e = this.local('e');
    this.emit(`const ${e} = r[4];`);
    const values: string[] = [];
    for (let k = 0; k < 8; k++) {
      const a = this.local(`ps${'abcdefgh'[k]}`), v = this.local(`pv${'abcdefgh'[k]}`);
      this.emit(`const ${a} = (${e} + ${4 * k}) | 0;`);
      this.load(4, a, v);
      values.push(v);
    }
    for (let k = 0; k < 8; k++) if (k !== 3) this.emit(`r[${7 - k}] = ${values[k]};`);
    this.emit(`r[4] = (${e} + 32) | 0;`);
  }
  /** Pops into a new local (ESP is updated before the caller writes the destination). */
  private pop(extra = 0): string {
    const a = this.local('s'), v = this.local('p');
    this.emit(`const ${a} = r[4];`);
    this.load(4, a, v);
    this.emit(`r[4] = (${a} + ${4 + extra}) | 0;`);
    return v;
  }

  /** A JavaScript boolean for condition code cc, fused with the last flag setter if known. */
  private condition(cc: number): string {
    const k = this.known;
    let e: string | null = null;
    if (k) {
      const sh = SIGN_SHIFT[k.size]!;
      const sx = (x: string) => (sh ? `(${x} << ${sh})` : x);
      const zf = k.size === 4 ? `${k.r} === 0` : `(${k.r} & ${MASK[k.size]}) === 0`;
      const sf = `${sx(k.r)} < 0`;
      if (k.kind === OP_SUB) {
        const a = sx(k.a), b = sx(k.b);
        switch (cc >> 1) {
          case 1: e = `(${a} >>> 0) < (${b} >>> 0)`; break;
          case 2: e = `${a} === ${b}`; break;
          case 3: e = `(${a} >>> 0) <= (${b} >>> 0)`; break;
          case 4: e = sf; break;
          case 6: e = `${a} < ${b}`; break;
          case 7: e = `${a} <= ${b}`; break;
        }
      } else if (k.kind === OP_LOGIC) {
        switch (cc >> 1) {
          case 0: case 1: e = 'false'; break;
          case 2: case 3: e = zf; break;
          case 4: case 6: e = sf; break;
          case 7: e = `${sx(k.r)} <= 0`; break;
        }
      } else {
        if (cc >> 1 === 2) e = zf;
        else if (cc >> 1 === 4) e = sf;
      }
    }
    if (e === null) {
      if (this.pending !== null) this.emit(`${this.pending};`);
      e = `c.cond(${cc & ~1})`;
    }
    return cc & 1 ? `!(${e})` : e;
  }

  /** Whether linear address `target` is on the region's page. */
  private onPage(target: number): boolean {
    return ((target ^ this.pageBase) >>> 12) === 0;
  }

  /**
   * A jump to a constant target, `count` instructions into the run: round the switch if
   * it is on the page (the target is queued to be written), else out of the region.
   */
  private jumpTo(target: number, count: number): void {
    if (!this.onPage(target)) {
      this.emit(this.exit(String(target), count));
      return;
    }
    this.targets.add(target);
    this.queue.push(target);
    if (target === this.caseEip) {
      this.caseLoops = true;
      this.jumpLocal(String(target), null, count);
    } else this.jumpLocal(String(target), String(target - this.pageBase), count);
  }

  /**
   * Goes round the switch to `eip` (page offset `offset`; null: round the current case's
   * own loop, `eip` being the instruction that opened it), after the event check owed by
   * an instruction that touched memory, if the batch has room for a whole run.
   */
  private jumpLocal(eip: string, offset: string | null, count: number): void {
    if (this.touchesMemory) this.emit(this.eventCheck(eip, count));
    const go = offset === null ? `continue l${this.caseEip - this.pageBase};` : `L = ${offset}; continue out;`;
    this.emit(`${this.flush()}done += ${count}; if (done + ${PASS} > left) ${this.exit(eip, 0, true)} ${go}`);
  }

  /** After a call: the return address is written as a run of its own (its ret comes back there). */
  private returnsHere(): void {
    if (!this.onPage(this.eip)) return;
    this.targets.add(this.eip);
    this.returnSites.add(this.eip);
    this.queue.push(this.eip);
  }

  /** A jump to a computed target (in local `v`): round the switch if it is on the page. */
  private jumpComputed(v: string, count: number): void {
    this.emit(`if (((${v} ^ ${this.pageBase}) >>> 12) === 0) {`);
    this.jumpLocal(v, `${v} & 4095`, count);
    this.emit('}');
    this.emit(this.exit(v, count));
  }

  /** A jcc: the taken side jumps, the fall-through side goes on in the run. */
  private conditionalJump(cc: number, target: number): 'next' {
    this.emit(`if (${this.condition(cc)}) {`);
    this.jumpTo(target | 0, this.count + 1);
    this.emit('}');
    return 'next';
  }

  /**
   * Runs one instruction through the interpreter in place. The block goes on only if
   * the instruction fell through and nothing needs the run loop's attention.
   */
  private interpret(start: number, alsoLeaveIf = ''): 'next' {
    const count = this.count + 1;
    const step = this.stepInPlace(start);
    this.inPlace = { at: this.out.length, leave: false };
    this.emit(`${step} ${RELOAD}`);
    this.emit(`if (c.eip !== ${this.eip} || c.eventPending || c.codeChanged${alsoLeaveIf}) { c.batchLeft = left - done - ${count}; return; }`);
    return 'next';
  }

  /**
   * A segment register other than CS and SS loaded (pop, mov): the interpreter's load
   * with its checks and faults, in place. The block goes on only while the mode is still
   * flat, as the dispatcher would look for a block there only then.
   */
  private segmentLoad(start: number): 'next' {
    return this.interpret(start, ' || !c.flat');
  }

  /**
   * An instruction that ends the region wherever it goes (iret, int n, a control register
   * load): the interpreter runs it in place and the block leaves with EIP where it left it.
   * Privilege, paging and mode may all have changed: the dispatcher looks again.
   */
  private interpretAndLeave(start: number): 'end' {
    const step = this.stepInPlace(start);
    this.inPlace = { at: this.out.length, leave: true };
    this.emit(`${step} c.batchLeft = left - done - ${this.count + 1}; return;`);
    return 'end';
  }

  /**
   * `rep stosb` / `rep movsb` forward, of at most REP_CHUNK bytes within one page each of
   * plain RAM (even TLB entries, a source not overlapping the destination ahead of it): one
   * fill or copy of guest RAM (in WebAssembly, memory.fill and memory.copy), as the
   * interpreter's bulk path makes it, in one instruction. Anything else (DF set, a page
   * crossed, more than a chunk, a TLB miss, a code or hooked page, an overlap) the
   * interpreter runs in place. MemV6's memset and memmove are these: 567,000 calls out of
   * the block a usertests run.
   */
  private repString(start: number, movs: boolean): 'next' {
    const n = this.local('n'), h = this.local('h'), f = this.local('f'), e = this.local('e');
    const within = `(c.flags & ${DF}) === 0 && ${n} >= 0 && ${n} <= ${REP_CHUNK} && ((r[7] & 4095) + ${n}) <= 4096`;
    if (movs) {
      return this.fastOrInPlace(start,
        `t = tw[r[7] >>> 12]; s = tr[r[6] >>> 12]; const ${n} = r[1], ${h} = t ^ r[7], ${f} = s ^ r[6];`,
        `${within} && ((r[6] & 4095) + ${n}) <= 4096 && ((t | s) & 1) === 0 && !(${f} < ${h} && ((${f} + ${n}) | 0) > ${h})`,
        [`const ${e} = (${f} + ${n}) | 0; u8.copyWithin(${h}, ${f}, ${e}); r[6] = (r[6] + ${n}) | 0; r[7] = (r[7] + ${n}) | 0; r[1] = 0;`]);
    }
    return this.fastOrInPlace(start, `t = tw[r[7] >>> 12]; const ${n} = r[1], ${h} = t ^ r[7];`, `${within} && (t & 1) === 0`,
      [`const ${e} = (${h} + ${n}) | 0, ${f} = r[0] & 255; u8.fill(${f}, ${h}, ${e}); r[7] = (r[7] + ${n}) | 0; r[1] = 0;`]);
  }

  /**
   * An instruction written out where `when` holds (after `setup`), else run by the
   * interpreter in place (see interpret). Its flags are settled first, as the interpreter
   * may read them; as a whole it is not an instruction run in place, and joins no group.
   */
  private fastOrInPlace(start: number, setup: string, when: string, fast: string[]): 'next' {
    this.settleFlags();
    this.known = null;
    if (setup !== '') this.emit(setup);
    this.emit(`if (${when}) {`);
    for (const line of fast) this.emit(line);
    this.emit('} else {');
    this.interpret(start);
    this.emit('}');
    this.inPlace = null;
    return 'next';
  }

  /**
   * IN and OUT of a byte or a doubleword where CPL <= IOPL (the kernel's): the port read or
   * written from the block (CPU.portIn/portOut, in WebAssembly an import that copies only
   * the batch in and the event flags out), the batch as the interpreter would have it for
   * a device that reads the clock; the block leaves after it if the device made an event
   * pending. Above IOPL (the TSS's bitmap, #GP) the interpreter runs it in place. MemV6's
   * disk driver and interrupt controllers: 613,000 a usertests run.
   */
  private portIo(start: number, op: number): 'next' {
    const size = op & 1 ? 4 : 1;
    const port = op & 8 ? '(r[2] & 65535)' : String(this.byte());
    const v = this.local('v');
    const access = op & 2 ? `c.portOut(${port}, ${size}, ${size === 4 ? 'r[0]' : '(r[0] & 255)'});`
      : `const ${v} = c.portIn(${port}, ${size}); ${size === 4 ? `r[0] = ${v} | 0;` : `r[0] = (r[0] & -256) | (${v} & 255);`}`;
    return this.fastOrInPlace(start, '', `c.cpl <= ((c.flags & ${IOPL}) >> 12)`, [
      `c.batchLeft = left - done - ${this.count}; ${access}`,
      `if (c.eventPending || c.codeChanged) ${this.exit(String(this.eip), this.count + 1, true)}`,
    ]);
  }

  /**
   * The code of a group of instructions the interpreter runs in place one after another
   * (see InPlaceGroup): one call of the CPU's stepRun for all of them. The block goes on
   * after the group only if all of it ran and fell through, and nothing needs the run
   * loop's attention; the count is the instructions that ran.
   */
  private groupCode(g: InPlaceGroup): string[] {
    const k = `k${g.first}`, lengths = g.lengths.reduce((packed, n, i) => packed | (n << (4 * i)), 0);
    const ran = `c.batchLeft = left - done - ${g.count} - ${k}; return;`;
    return [
      ...g.pre,
      `c.eip = ${g.start}; c.startEip = ${g.start}; c.batchLeft = left - done - ${g.count}; ${WRITE_BACK} const ${k} = c.stepRun(${lengths}, ${g.lengths.length}); ${RELOAD}`,
      g.leave ? ran : `if (${k} !== ${g.lengths.length} || c.eip !== ${g.end} || c.eventPending || c.codeChanged || !c.flat) { ${ran} }`,
    ];
  }

  /**
   * The interpreter's step for the instruction at `start`, the registers written back
   * first. The register file is the truth while it runs: a fault leaves it as the
   * interpreter left it (a string instruction keeps the elements it did).
   */
  private stepInPlace(start: number): string {
    this.settleFlags();
    this.known = null;
    return `c.eip = ${start}; ${this.faultState()} ${WRITE_BACK} c.step();`;
  }

  /**
   * 32-bit IMUL with a truncated product into register `reg`, as alu.ts's imulTrunc
   * computes it; its flags (imul32Flags) pending.
   */
  private multiply(reg: number, a: string, b: string): void {
    const r = this.local('r');
    this.emit(`const ${r} = Math.imul(${a}, ${b}); r[${reg}] = ${r};`);
    this.pending = `c.setArith(imul32Flags(${a}, ${b}, ${r}))`;
    this.known = null;
  }

  /**
   * 32-bit DIV/IDIV of EDX:EAX by local `v`. When EDX holds only EAX's extension (zero, or
   * EAX's sign for IDIV, as after `xor edx, edx` or `cdq`) the quotient is EAX / v in
   * doubles, exactly, written inline (divAcc's own first case, without writing back and
   * reloading the registers); otherwise, or to raise #DE, divAcc (the flags
   * pending stored first: a fault pushes them). DIV leaves the flags as they were.
   */
  private divide(v: string, signed: boolean): void {
    const q = this.local('q'), call = `${this.flush()}${this.faultState()} ${WRITE_BACK} divAcc(c, ${v}, 4, ${signed}); ${RELOAD}`;
    if (signed) {
      this.emit(`if (r[2] === (r[0] >> 31) && ${v} !== 0 && (${v} !== -1 || r[0] !== -2147483648)) { const ${q} = Math.trunc(r[0] / ${v}); r[2] = (r[0] % ${v}) | 0; r[0] = ${q} | 0; } else { ${call} }`);
    } else {
      this.emit(`if (r[2] === 0 && ${v} !== 0) { const ${q} = r[0] >>> 0; r[2] = (${q} % (${v} >>> 0)) | 0; r[0] = Math.floor(${q} / (${v} >>> 0)) | 0; } else { ${call} }`);
    }
  }

  // ---------------------------------------------------------------- instructions

  /** Writes one instruction: 'next' to go on, 'end' after a control transfer, null to stop before it. */
  private instruction(): 'next' | 'end' | null {
    const start = this.eip;
    const startPos = this.pos;
    const op = this.byte();
    if (op === 0x0f) return this.instruction0f(start, startPos);
    if (op < 0x40 && (op & 7) < 6) {
      const kind = op >> 3, size = op & 1 ? 4 : 1;
      switch (op & 7) {
        case 0: case 1: this.aluModrm(kind, size, false); return 'next';
        case 2: case 3: this.aluModrm(kind, size, true); return 'next';
        default: // AL/EAX, immediate
          this.aluImmediate(kind, size, ACCUMULATOR, size === 4 ? this.imm32() : this.byte());
          return 'next';
      }
    }
    switch (op) {
      case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
      case 0x48: case 0x49: case 0x4a: case 0x4b: case 0x4c: case 0x4d: case 0x4e: case 0x4f: {
        const v = this.local('v'), r = this.local('r'), f = this.local('f'), x = op & 7;
        const carry = this.knownCarry();
        if (carry === null) this.settleFlags();
        this.emit(`const ${v} = r[${x}]; const ${f} = ${carry ?? 'c.getCF()'}; const ${r} = (${v} ${op < 0x48 ? '+' : '-'} 1) | 0; r[${x}] = ${r};`);
        this.lazy(op < 0x48 ? OP_INC : OP_DEC, v, '1', r, 4);
        this.pending += `, c.lfCarry = ${f}`;
        this.carry = f;
        return 'next';
      }
      case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57: {
        const v = this.local('v');
        this.emit(`const ${v} = r[${op & 7}];`);
        this.push(v);
        return 'next';
      }
      case 0x58: case 0x59: case 0x5a: case 0x5b: case 0x5c: case 0x5d: case 0x5e: case 0x5f:
        this.emit(`r[${op & 7}] = ${this.pop()};`);
        return 'next';
      case 0x68: this.push(String(this.imm32())); return 'next';
      // PUSH ES/CS/SS/DS: the selector, zero-extended (the interpreter's push of it).
      case 0x06: case 0x0e: case 0x16: case 0x1e: this.push(`SG[${op >> 3}]`); return 'next';
      case 0x60: this.pushAll(); return 'next';
      case 0x61: this.popAll(); return 'next';
      case 0x6a: this.push(String(this.imm8s())); return 'next';
      case 0x69: case 0x6b: {
        const m = this.modrm();
        const v = this.readRm(4, m);
        const imm = op === 0x69 ? this.imm32() : this.imm8s();
        this.multiply(m.reg, v, String(imm));
        return 'next';
      }
      case 0x70: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76: case 0x77:
      case 0x78: case 0x79: case 0x7a: case 0x7b: case 0x7c: case 0x7d: case 0x7e: case 0x7f: {
        const rel = this.imm8s();
        return this.conditionalJump(op & 15, this.eip + rel);
      }
      case 0x80: case 0x81: case 0x83: {
        const size = op === 0x80 ? 1 : 4;
        const m = this.modrm();
        const imm = op === 0x81 ? this.imm32() : op === 0x83 ? this.imm8s() : this.byte();
        this.aluImmediate(m.reg, size, m, imm);
        return 'next';
      }
      case 0x84: case 0x85: {
        const size = op & 1 ? 4 : 1;
        const m = this.modrm();
        this.test(this.readRm(size, m), this.getReg(size, m.reg), size);
        return 'next';
      }
      case 0x86: case 0x87: {
        const size = op & 1 ? 4 : 1;
        const m = this.modrm();
        const v = this.readRm(size, m, true);
        const b = this.local('b');
        this.emit(`const ${b} = ${this.getReg(size, m.reg)};`);
        this.writeRm(size, m, b, true);
        this.setReg(size, m.reg, v);
        return 'next';
      }
      case 0x88: case 0x89: {
        const size = op & 1 ? 4 : 1;
        const m = this.modrm();
        const b = this.local('b');
        this.emit(`const ${b} = ${this.getReg(size, m.reg)};`);
        this.writeRm(size, m, b, false);
        return 'next';
      }
      case 0x8a: case 0x8b: {
        const size = op & 1 ? 4 : 1;
        const m = this.modrm();
        this.setReg(size, m.reg, this.readRm(size, m));
        return 'next';
      }
      case 0x8d: {
        const m = this.modrm();
        if (m.rm >= 0) return this.interpret(start); // #UD
        this.emit(`r[${m.reg}] = ${m.addr};`);
        return 'next';
      }
      case 0x90: return 'next';
      case 0xe4: case 0xe5: case 0xe6: case 0xe7: case 0xec: case 0xed: case 0xee: case 0xef:
        return this.portIo(start, op);
      case 0x07: case 0x1f: return this.segmentLoad(start); // pop es, pop ds
      case 0x8e: {
        // mov es/ds/fs/gs, r/m16 (CS is #UD, SS starts an interrupt shadow: the interpreter, outside)
        const m = this.modrm();
        return m.reg === 0 || (m.reg >= 3 && m.reg <= 5) ? this.segmentLoad(start) : null;
      }
      case 0xcd: this.byte(); return this.interpretAndLeave(start); // int n
      case 0xcf: return this.interpretAndLeave(start); // iret
      case 0x66: return this.instruction16(start, startPos);
      case 0x9c: {
        // pushf, as the interpreter: #GP in virtual-8086 mode below IOPL 3; VM and RF
        // are not pushed. It reads every flag, so the pending flag stores land first.
        this.settleFlags();
        const v = this.local('v');
        this.emit(`if ((c.flags & ${VM}) !== 0 && ((c.flags & ${IOPL}) >> 12) < 3) { ${this.faultState()} ${WRITE_BACK} c.gp(0); } const ${v} = c.getEflags() & ${~(VM | RF)};`);
        this.push(v);
        return 'next';
      }
      case 0xfc: this.emit(`c.flags &= ${~DF};`); return 'next';  // cld (DF is not a lazy flag)
      case 0xfd: this.emit(`c.flags |= ${DF};`); return 'next';   // std
      case 0xf5: case 0xf8: case 0xf9: // cmc, clc, stc
        this.settleFlags();
        this.emit(`c.materializeFlags(); c.flags ${op === 0xf5 ? `^= ${CF}` : op === 0xf8 ? `&= ${~CF}` : `|= ${CF}`};`);
        this.known = null;
        return 'next';
      case 0xfa: case 0xfb: {
        // cli/sti, as the interpreter: #GP above IOPL; sti that sets IF starts the
        // interrupt shadow (CPU.sti), and ends the block if that ends the batch (an
        // interrupt may be taken after the shadowed instruction).
        this.settleFlags();
        this.emit(`if (c.cpl > ((c.flags & ${IOPL}) >> 12)) { ${this.faultState()} ${WRITE_BACK} c.gp(0); }`);
        if (op === 0xfa) this.emit(`c.flags &= ${~IF};`);
        else this.emit(`if ((c.flags & ${IF}) === 0) { c.batchLeft = left - done - ${this.count}; c.sti(); if (c.eventPending) ${this.exit(String(this.eip), this.count + 1)} }`);
        return 'next';
      }
      case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97: {
        const v = this.local('v');
        this.emit(`const ${v} = r[0]; r[0] = r[${op & 7}]; r[${op & 7}] = ${v};`);
        return 'next';
      }
      case 0x98: this.emit('r[0] = (r[0] << 16) >> 16;'); return 'next';
      case 0x99: this.emit('r[2] = r[0] >> 31;'); return 'next';
      case 0xa0: case 0xa1: case 0xa2: case 0xa3: {
        const size = op & 1 ? 4 : 1;
        const a = this.address({ reg: 0, rm: -1, addr: String(this.imm32()) });
        if (op & 2) this.store(size, a, this.getReg(size, 0));
        else {
          const v = this.local('v');
          this.load(size, a, v);
          this.setReg(size, 0, v);
        }
        return 'next';
      }
      case 0xa8: case 0xa9: {
        const size = op & 1 ? 4 : 1;
        this.test(this.getReg(size, 0), String(size === 4 ? this.imm32() : this.byte()), size);
        return 'next';
      }
      case 0xb0: case 0xb1: case 0xb2: case 0xb3: case 0xb4: case 0xb5: case 0xb6: case 0xb7:
        this.setReg(1, op & 7, String(this.byte()));
        return 'next';
      case 0xb8: case 0xb9: case 0xba: case 0xbb: case 0xbc: case 0xbd: case 0xbe: case 0xbf:
        this.emit(`r[${op & 7}] = ${this.imm32()};`);
        return 'next';
      case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
        const size = op & 1 ? 4 : 1;
        const m = this.modrm();
        const v = this.readRm(size, m, true);
        const count = op <= 0xc1 ? String(this.byte()) : op <= 0xd1 ? '1' : '(r[1] & 255)';
        const r = this.local('r');
        if (size === 4 && op !== 0xd3 && m.reg !== 2 && m.reg !== 3) {
          this.shiftInline(m.reg, v, Number(count) & 31, r);
          this.writeRm(size, m, r, true);
          return 'next';
        }
        this.settleFlags();
        this.emit(`const ${r} = shift(c, ${m.reg}, ${v}, ${count}, ${size});`);
        this.writeRm(size, m, r, true);
        this.known = null;
        return 'next';
      }
      case 0xc2: case 0xc3: {
        const extra = op === 0xc2 ? this.imm16() : 0;
        const v = this.pop(extra);
        this.jumpComputed(v, this.count + 1);
        return 'end';
      }
      case 0xc6: case 0xc7: {
        const size = op & 1 ? 4 : 1;
        const m = this.modrm();
        const imm = size === 4 ? this.imm32() : this.byte();
        if (m.reg !== 0) return this.interpret(start); // #UD
        this.writeRm(size, m, String(imm), false);
        return 'next';
      }
      case 0xc9: {
        const a = this.local('s'), v = this.local('v');
        this.emit(`const ${a} = r[5];`);
        this.load(4, a, v);
        this.emit(`r[4] = (${a} + 4) | 0; r[5] = ${v};`);
        return 'next';
      }
      case 0xe8: {
        const rel = this.imm32();
        this.push(String(this.eip));
        this.returnsHere();
        this.jumpTo((this.eip + rel) | 0, this.count + 1);
        return 'end';
      }
      case 0xe9: case 0xeb: {
        const rel = op === 0xe9 ? this.imm32() : this.imm8s();
        const target = (this.eip + rel) | 0;
        if (this.onPage(target) && !this.written.has(target) && this.index + 1 < MAX_INSTRUCTIONS) {
          // Go on writing the run at the target.
          this.targets.add(target);
          this.pos = this.startPos + (target - this.startEip);
          this.eip = target;
          return 'next';
        }
        this.jumpTo(target, this.count + 1);
        return 'end';
      }
      case 0xf6: case 0xf7: return this.group3(op & 1 ? 4 : 1);
      case 0xfe: case 0xff: {
        const size = op & 1 ? 4 : 1;
        const m = this.modrm();
        switch (m.reg) {
          case 0: case 1: {
            const v = this.readRm(size, m, true);
            const r = this.local('r');
            this.settleFlags();
            this.emit(`const ${r} = ${m.reg === 0 ? 'inc' : 'dec'}(c, ${v}, ${size});`);
            this.writeRm(size, m, r, true);
            this.known = { kind: m.reg === 0 ? OP_INC : OP_DEC, a: v, b: '1', r, size };
            return 'next';
          }
          case 2: case 4: {
            if (size !== 4) return this.interpret(start); // #UD
            const v = this.readRm(4, m);
            if (m.reg === 2) {
              this.push(String(this.eip));
              this.returnsHere();
            }
            this.jumpComputed(v, this.count + 1);
            return 'end';
          }
          case 6: {
            if (size !== 4) return this.interpret(start); // #UD
            this.push(this.readRm(4, m));
            return 'next';
          }
          default: return null; // far call/jump: the interpreter, outside the block
        }
      }
      case 0xf3: {
        const next = this.byte();
        if (next === 0xaa || next === 0xa4) return this.repString(start, next === 0xa4);
        // endbr32 (F3 0F 1E FB, at every function's entry in code built for CET): a NOP here.
        if (next === 0x0f && this.byte() === 0x1e && this.byte() === 0xfb) return 'next';
        return this.fallback(start, startPos);
      }
      default:
        return this.fallback(start, startPos);
    }
  }

  /**
   * An instruction after an operand-size prefix (0x66): the 16-bit forms of the ALU
   * operations, test and mov, which the kernel's short and directory-entry fields use;
   * the others (and other prefixes after it) through the interpreter.
   */
  private instruction16(start: number, startPos: number): 'next' | null {
    const op = this.byte();
    if (op < 0x40 && (op & 1) === 1 && (op & 7) < 6) {
      const kind = op >> 3;
      switch (op & 7) {
        case 1: this.aluModrm(kind, 2, false); return 'next';
        case 3: this.aluModrm(kind, 2, true); return 'next';
        default: this.aluImmediate(kind, 2, ACCUMULATOR, this.imm16()); return 'next';
      }
    }
    switch (op) {
      case 0x81: case 0x83: {
        const m = this.modrm();
        this.aluImmediate(m.reg, 2, m, op === 0x81 ? this.imm16() : this.imm8s());
        return 'next';
      }
      case 0x85: {
        const m = this.modrm();
        this.test(this.readRm(2, m), this.getReg(2, m.reg), 2);
        return 'next';
      }
      case 0x89: {
        const m = this.modrm();
        const b = this.local('b');
        this.emit(`const ${b} = ${this.getReg(2, m.reg)};`);
        this.writeRm(2, m, b, false);
        return 'next';
      }
      case 0x8b: {
        const m = this.modrm();
        this.setReg(2, m.reg, this.readRm(2, m));
        return 'next';
      }
      case 0x90: return 'next'; // xchg ax, ax
      case 0xa1: case 0xa3: {
        const a = this.address({ reg: 0, rm: -1, addr: String(this.imm32()) });
        if (op === 0xa3) this.store(2, a, this.getReg(2, 0));
        else {
          const v = this.local('v');
          this.load(2, a, v);
          this.setReg(2, 0, v);
        }
        return 'next';
      }
      case 0xb8: case 0xb9: case 0xba: case 0xbb: case 0xbc: case 0xbd: case 0xbe: case 0xbf:
        this.setReg(2, op & 7, String(this.imm16()));
        return 'next';
      case 0xc7: {
        const m = this.modrm();
        if (m.reg !== 0) return this.fallback(start, startPos); // #UD
        this.writeRm(2, m, String(this.imm16()), false);
        return 'next';
      }
      default:
        return this.fallback(start, startPos);
    }
  }

  private group3(size: number): 'next' {
    const m = this.modrm();
    switch (m.reg) {
      case 0: case 1: {
        const v = this.readRm(size, m);
        this.test(v, String(size === 4 ? this.imm32() : this.byte()), size);
        return 'next';
      }
      case 2: {
        const v = this.readRm(size, m, true);
        this.writeRm(size, m, `~${v}`, true);
        return 'next';
      }
      case 3: {
        const v = this.readRm(size, m, true);
        const r = this.local('r');
        this.emit(`const ${r} = (0 - ${v}) | 0;`);
        this.writeRm(size, m, r, true);
        this.lazy(OP_SUB, '0', v, r, size);
        return 'next';
      }
      default: {
        const v = this.readRm(size, m);
        if (m.reg < 6 || size !== 4) this.settleFlags();
        if (m.reg < 6) this.emit(`${this.faultState()} ${WRITE_BACK} mulAcc(c, ${v}, ${size}, ${m.reg === 5}); ${RELOAD}`);
        else if (size === 4) this.divide(v, m.reg === 7);
        else this.emit(`${this.faultState()} ${WRITE_BACK} divAcc(c, ${v}, ${size}, ${m.reg === 7}); ${RELOAD}`);
        this.known = null;
        return 'next';
      }
    }
  }

  private instruction0f(start: number, startPos: number): 'next' | 'end' | null {
    const op = this.byte();
    // PUSH FS/GS.
    if (op === 0xa0 || op === 0xa8) {
      this.push(`SG[${op === 0xa0 ? 4 : 5}]`);
      return 'next';
    }
    if (op >= 0x80 && op <= 0x8f) {
      const rel = this.imm32();
      return this.conditionalJump(op & 15, this.eip + rel);
    }
    if (op >= 0x40 && op <= 0x4f) {
      const m = this.modrm();
      const v = this.readRm(4, m);
      this.emit(`if (${this.condition(op & 15)}) r[${m.reg}] = ${v};`);
      return 'next';
    }
    if (op >= 0x90 && op <= 0x9f) {
      const m = this.modrm();
      this.writeRm(1, m, `(${this.condition(op & 15)} ? 1 : 0)`, false);
      return 'next';
    }
    if (op >= 0xc8 && op <= 0xcf) {
      const x = op & 7;
      const v = this.local('v');
      this.emit(`const ${v} = r[${x}]; r[${x}] = (${v} >>> 24) | ((${v} >>> 8) & 0xff00) | ((${v} << 8) & 0xff0000) | (${v} << 24);`);
      return 'next';
    }
    switch (op) {
      case 0xb6: case 0xb7: case 0xbe: case 0xbf: {
        const m = this.modrm();
        const v = this.readRm(op & 1 ? 2 : 1, m);
        const value = op === 0xb6 || op === 0xb7 ? v : op === 0xbe ? `((${v} << 24) >> 24)` : `((${v} << 16) >> 16)`;
        this.emit(`r[${m.reg}] = ${value};`);
        return 'next';
      }
      case 0xaf: {
        const m = this.modrm();
        const v = this.readRm(4, m);
        const b = this.local('b');
        this.emit(`const ${b} = r[${m.reg}];`);
        this.multiply(m.reg, b, v);
        return 'next';
      }
      case 0xa4: case 0xa5: case 0xac: case 0xad: {
        // shld/shrd r/m32, r32, imm8 or CL: the interpreter's helper (64-bit arithmetic
        // in 32-bit code uses them for every shift of a long long).
        const m = this.modrm();
        const count = op & 1 ? '(r[1] & 255)' : String(this.byte());
        const v = this.readRm(4, m, true);
        const r = this.local('r');
        this.settleFlags();
        this.emit(`const ${r} = doubleShift(c, ${op < 0xa8}, ${v}, r[${m.reg}], ${count}, 4);`);
        this.writeRm(4, m, r, true);
        this.known = null;
        return 'next';
      }
      case 0x1f:
        this.modrm();
        return 'next';
      case 0xa1: case 0xa9: return this.segmentLoad(start); // pop fs, pop gs
      case 0x00: {
        // sldt, str, lldt, ltr, verr, verw: tables and flags, not the mode or the code
        const m = this.modrm();
        return m.reg < 6 ? this.interpret(start) : null;
      }
      case 0x22: this.byte(); return this.interpretAndLeave(start); // mov crN, r32 (ModRM always a register)
      default:
        return this.fallback(start, startPos);
    }
  }

  /** An instruction written as a call to the interpreter, if it is harmless in a block. */
  private fallback(start: number, startPos: number): 'next' | null {
    const length = harmlessLength(this.page, startPos);
    if (length < 0) return null;
    this.pos = startPos + length;
    this.eip = (start + length) | 0;
    return this.interpret(start);
  }
}

// ---------------------------------------------------------------- lengths of harmless instructions
// (test/cpu/harmless-length.test.ts checks every entry against iced-x86.)

const enum Imm { None = 0, B = 1, Z = 3, ModrmGroup3 = 4, Offset32 = 5 }

/** One-byte opcodes the block may run through the interpreter: [has ModRM, immediate]. */
const ONE_BYTE = new Map<number, [boolean, Imm]>();
for (let op = 0; op < 0x40; op++) {
  if ((op & 7) < 4) ONE_BYTE.set(op, [true, Imm.None]);
  else if ((op & 7) === 4) ONE_BYTE.set(op, [false, Imm.B]);
  else if ((op & 7) === 5) ONE_BYTE.set(op, [false, Imm.Z]);
}
for (const op of [0x06, 0x0e, 0x16, 0x1e, 0x27, 0x2f, 0x37, 0x3f]) ONE_BYTE.set(op, [false, Imm.None]);
for (let op = 0x40; op < 0x62; op++) ONE_BYTE.set(op, [false, Imm.None]);
ONE_BYTE.set(0x68, [false, Imm.Z]);
ONE_BYTE.set(0x6a, [false, Imm.B]);
ONE_BYTE.set(0x69, [true, Imm.Z]);
ONE_BYTE.set(0x6b, [true, Imm.B]);
for (const op of [0x80, 0x82, 0x83, 0xc0, 0xc1, 0xc6]) ONE_BYTE.set(op, [true, Imm.B]);
for (const op of [0x81, 0xc7]) ONE_BYTE.set(op, [true, Imm.Z]);
for (let op = 0x84; op <= 0x8d; op++) ONE_BYTE.set(op, [true, Imm.None]);
ONE_BYTE.set(0x8f, [true, Imm.None]);
for (const op of [0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9c, 0x9e, 0x9f, 0xa4, 0xa5, 0xa6, 0xa7,
  0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xc9, 0xd7, 0xf5, 0xf8, 0xf9, 0xfc, 0xfd]) ONE_BYTE.set(op, [false, Imm.None]);
// Flags and I/O: popf changes only EFLAGS (it sets eventPending when interrupts become
// enabled, which ends the block); port I/O reaches devices, which signal through
// eventPending too.
for (const op of [0x9d, 0x6c, 0x6d, 0x6e, 0x6f, 0xec, 0xed, 0xee, 0xef]) ONE_BYTE.set(op, [false, Imm.None]);
for (const op of [0xe4, 0xe5, 0xe6, 0xe7]) ONE_BYTE.set(op, [false, Imm.B]);
for (const op of [0xa0, 0xa1, 0xa2, 0xa3]) ONE_BYTE.set(op, [false, Imm.Offset32]);
ONE_BYTE.set(0xa8, [false, Imm.B]);
ONE_BYTE.set(0xa9, [false, Imm.Z]);
for (let op = 0xb0; op < 0xb8; op++) ONE_BYTE.set(op, [false, Imm.B]);
for (let op = 0xb8; op < 0xc0; op++) ONE_BYTE.set(op, [false, Imm.Z]);
for (const op of [0xd0, 0xd1, 0xd2, 0xd3]) ONE_BYTE.set(op, [true, Imm.None]);
for (const op of [0xd4, 0xd5]) ONE_BYTE.set(op, [false, Imm.B]);
for (const op of [0xf6, 0xf7]) ONE_BYTE.set(op, [true, Imm.ModrmGroup3]);
ONE_BYTE.set(0xfe, [true, Imm.None]);
// x87 (D8-DF): ModRM, no immediate; they change no control flow (faults and #MF go through the interpreter's exception path).
for (let op = 0xd8; op <= 0xdf; op++) ONE_BYTE.set(op, [true, Imm.None]);

/** 0F opcodes the block may run through the interpreter: [immediate byte]. All have ModRM but 0xa2, 0x31, 0xc8–0xcf. */
const TWO_BYTE = new Map<number, boolean>();
for (const op of [0x0d, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0xa3, 0xa5, 0xab, 0xad, 0xaf, 0xb0, 0xb1, 0xb3,
  0xb6, 0xb7, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf, 0xc0, 0xc1, 0xc7]) TWO_BYTE.set(op, false);
for (let op = 0x40; op < 0x50; op++) TWO_BYTE.set(op, false);
for (let op = 0x90; op < 0xa0; op++) TWO_BYTE.set(op, false);
for (const op of [0xa4, 0xac, 0xba]) TWO_BYTE.set(op, true);
const TWO_BYTE_NO_MODRM = new Set([0x31, 0xa0, 0xa2, 0xa8, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf]);

/**
 * Length of an instruction that cannot change control flow or the processor's mode
 * (so a block may run it through the interpreter and go on), or -1. 32-bit code;
 * the 0x67 prefix is not taken (16-bit addressing stays with the interpreter).
 */
export function harmlessLength(page: Uint8Array, at: number): number {
  let p = at, opsize16 = false;
  const next = () => {
    if (p >= 4096) throw PAGE_END;
    return page[p++]!;
  };
  let op = next();
  for (let n = 0; PREFIX_BYTE[op]; n++) {
    if (n >= 4 || op === 0x67) return -1;
    if (op === 0x66) opsize16 = true;
    op = next();
  }
  let hasModrm: boolean, imm: Imm;
  if (op === 0x0f) {
    op = next();
    if (TWO_BYTE_NO_MODRM.has(op)) return p - at;
    const immByte = TWO_BYTE.get(op);
    if (immByte === undefined) return -1;
    hasModrm = true;
    imm = immByte ? Imm.B : Imm.None;
  } else {
    const entry = ONE_BYTE.get(op);
    if (!entry) return -1;
    [hasModrm, imm] = entry;
  }
  if (hasModrm) {
    const m = next();
    const mod = m >> 6, rm = m & 7, reg = (m >> 3) & 7;
    if (op === 0xfe && reg > 1) return -1;
    if (mod !== 3) {
      if (rm === 4 && (next() & 7) === 5 && mod === 0) p += 4;
      else if (rm === 5 && mod === 0) p += 4;
      p += mod === 1 ? 1 : mod === 2 ? 4 : 0;
    }
    if (imm === Imm.ModrmGroup3) imm = reg < 2 ? (op === 0xf6 ? Imm.B : Imm.Z) : Imm.None;
  }
  p += imm === Imm.B ? 1 : imm === Imm.Z ? (opsize16 ? 2 : 4) : imm === Imm.Offset32 ? 4 : 0;
  if (p > 4096) throw PAGE_END;
  return p - at;
}
