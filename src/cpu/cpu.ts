/**
 * The i386 processor: registers, lazy flags, segmentation, paging with a software TLB,
 * exceptions and interrupts, and the run loop. Instruction semantics live in
 * execute.ts (the one-byte map) and execute0f.ts (the 0F map); this file is the
 * machinery they stand on.
 *
 * Memory fast path (see ../shared/reference/emulator.md): four flat Int32Array TLBs
 * (user/supervisor × read/write) indexed by linear page, each entry `hostPage ^ linearPage`
 * so `entry ^ linear` is the host offset; invalid entries are -1, whose low bits also
 * reject misaligned accesses in the same test. RAM entries are filled only for guest pages
 * with no hook flag, so hooked and poisoned pages always reach PhysicalMemory's slow path.
 * A device (MMIO) page gets an odd read entry, `physPage ^ linearPage | 1`: it fails every
 * fast path like -1, and a read then goes straight to the device with no page walk (the
 * local APIC ID and TPR reads of lock-heavy kernels); writes to devices take the slow path.
 * Read fills do not grant writes until the page is dirty, so accessed and dirty bits are
 * exact.
 *
 * Faults throw one pre-allocated object; the run loop restores EIP to the start of the
 * faulting instruction and delivers the exception. Instructions therefore do every
 * access that may fault before changing architectural state.
 */
import type { AccessSize, InterruptSource, IoSpace, MsrHandler } from './bus.js';
import { PAGE_MMIO, READ_CACHEABLE, PhysicalMemory, STATE_REGISTERS, STATE_SELECTORS, STATE_TLB_SUP_R, STATE_TLB_SUP_W, STATE_TLB_USER_R, STATE_TLB_USER_W } from './memory.js';
import { BlockCache, WAITING, type Block } from './blocks.js';
import { DEBUG_BREAK, DebugTraps } from './debug.js';
import { Listeners } from './listeners.js';
import { step } from './execute.js';
import { X87, type X87State } from './x87.js';
import { ANY_INT32 } from './fields.js';
import {
  AC, AF, ARITH_FLAGS, CF, DF, ID, IF, IOPL, NT, OF, OP_ADD, OP_INC, OP_LOGIC, OP_NONE, OP_SUB, PF, RF, SF, TF, VM, ZF,
  SIZE_MASK, SIZE_SIGN, parityOf,
} from './flags.js';
import {
  CR0_ET, CR0_PE, CR0_PG, CR0_WP, CR4_PGE, CR4_PSE, CR4_SUPPORTED, CS, DESC_ACCESSED, DESC_CODE, DESC_CONFORMING, DESC_PRESENT, DESC_RW,
  DESC_S, DS, ES, ESP, EXCEPTION_NAMES, FS, GS, PF_PROTECTION, PF_USER, PF_WRITE, PTE_A, PTE_D, PTE_P, PTE_G, PTE_PS, PTE_U, PTE_W,
  REGISTER_NAMES, SEGMENT_NAMES, SS, VEC_DF, VEC_GP, VEC_NP, VEC_PF, VEC_SS, VEC_TS, exceptionHasErrorCode,
  CPUID_SIGNATURE, EDX,
} from './state.js';

/** Thrown (one shared instance) when an instruction raises an exception. */
export class CpuFault {
  vector = 0;
  errorCode = -1;
}
export const FAULT = new CpuFault();

const TLB_LIST_MAX = 16384;

/** The four TLB arrays (user/supervisor × read/write), one entry per linear page; -1 is empty. */
export interface TlbArrays {
  userR: Int32Array;
  userW: Int32Array;
  supR: Int32Array;
  supW: Int32Array;
}
/**
 * An interrupt's frame (SS, ESP, EFLAGS, CS, EIP, error code), all written before any state
 * changes; one for every CPU: a delivery that faults is abandoned, never resumed.
 */
const interruptFrame = new Int32Array(6);
/** The segment registers a return to an outer level nulls when their DPL is too high for it. */
const DATA_SEGMENTS = [ES, DS, FS, GS] as const;

/** What the CPU does with an exception a hook did not take. */
export type ExceptionHook = (vector: number, errorCode: number) => boolean;

/** The version of CpuSnapshot's shape (a snapshot part): change it when a field is added or changes meaning. */
export const CPU_STATE_VERSION = 2;

export interface CpuSnapshot {
  regs: number[]; eip: number; eflags: number; cpl: number;
  sel: number[]; base: number[]; limit: number[]; access: number[]; big: number[];
  cr0: number; cr2: number; cr3: number; cr4: number;
  gdt: [number, number]; idt: [number, number];
  ldtr: [number, number, number]; tr: [number, number, number, number];
  dr: number[]; halted: boolean; shadow: boolean; instructionCount: number; tsc: number;
  fpu: X87State;
}

export class CPU {
  readonly mem: PhysicalMemory;
  readonly io: IoSpace;
  /** The register file, in the memory's state area (see STATE_REGISTERS). */
  readonly reg: Int32Array;
  // Fields that hold any 32-bit value start at ANY_INT32 (see fields.ts); reset() gives them their values.
  eip = ANY_INT32;
  /** EFLAGS; the six arithmetic bits are stale while lfOp !== OP_NONE. */
  flags = 2;
  lfOp = OP_NONE;
  lfA = ANY_INT32;
  lfB = ANY_INT32;
  lfR = ANY_INT32;
  lfSize = 4;
  lfCarry = 0;

  // Segment descriptor caches, indexed ES CS SS DS FS GS (the selectors in the memory's state area).
  readonly sel: Int32Array;
  readonly segBase = new Int32Array(6);
  readonly segLimit = new Int32Array(6);
  readonly segAccess = new Int32Array(6);
  readonly segBig = new Int32Array(6);
  cpl = 0;
  code32 = false;
  /** segBase[CS], kept in a plain field for instruction fetch. */
  csBase = 0;
  stack32 = false;

  cr0 = ANY_INT32;
  cr2 = ANY_INT32;
  cr3 = 0;
  cr4 = 0;
  readonly dr = new Int32Array(8);
  /** The x87 floating-point unit (x87.ts). */
  readonly fpu = new X87();
  gdtBase = ANY_INT32; gdtLimit = 0xffff;
  idtBase = ANY_INT32; idtLimit = 0x3ff;
  ldtSel = 0; ldtBase = ANY_INT32; ldtLimit = 0;
  trSel = 0; trBase = ANY_INT32; trLimit = 0; trType = 0;
  /** The descriptor loadDescriptor read last (scratch, not state). */
  descLow = ANY_INT32; descHigh = ANY_INT32;
  tscOffset = 0;

  // Per-instruction decode state.
  startEip = ANY_INT32;
  opsize32 = false;
  adsize32 = false;
  segOv = -1;
  rep = 0;
  lock = false;
  modrmReg = 0;
  /** Register number of a register r/m operand, or -1 for memory. */
  rmReg = 0;
  /** Linear address of a memory r/m operand. */
  ea = ANY_INT32;
  /** Offset (before the segment base) of a memory r/m operand. */
  eaOffset = ANY_INT32;

  // Memory views and TLBs.
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;
  readonly dv: DataView;
  private readonly tlbUserR: Int32Array;
  private readonly tlbUserW: Int32Array;
  private readonly tlbSupR: Int32Array;
  private readonly tlbSupW: Int32Array;
  tlbR: Int32Array;
  tlbW: Int32Array;
  private readonly tlbList = new Int32Array(TLB_LIST_MAX);
  private tlbCount = 0;
  /**
   * The pages whose entries came from global mappings (G set, CR4.PGE on): a CR3 load
   * keeps them (MemV6 maps the kernel global: usertests walked 31 kernel pages again
   * after each of its 132,000 CR3 loads). Every other entry is in tlbList.
   */
  private readonly tlbGlobal = new Int32Array(TLB_LIST_MAX);
  private globalCount = 0;
  private fetchPage = ANY_INT32;
  private fetchHost = 0;

  // Run state. Instructions retired = `retired` + the part of the current batch done.
  private retired = 0;
  private batchSize = 0;
  /** Instructions left in the current batch (compiled blocks update it themselves). */
  batchLeft = 0;
  /** Compiled blocks; used while `flat` holds. */
  readonly blocks: BlockCache;
  /** Flat 32-bit mode: 32-bit code and stack, CS DS ES SS based at 0 (what blocks assume). */
  flat = false;
  halted = false;
  shutdown = false;
  shutdownReason = '';
  /**
   * The next instruction runs with interrupts inhibited (after STI, MOV SS, POP SS): set by
   * startShadow, and only while no instruction has run since (see inShadow).
   */
  shadow = false;
  /** The instruction count just after the instruction that set `shadow`. */
  private shadowAt = -1;
  /** Something needs the run loop's attention before the next instruction. */
  eventPending = false;
  /** Compiled code was dropped after a write to it: a running block must stop (see blocks.ts). */
  codeChanged = false;
  /**
   * 1 when a block left before an instruction for the interpreter to run (an access its
   * fast paths could not make, compile.ts leaveBefore); the dispatcher runs it and clears it.
   */
  stepNext = 0;
  private stopRequested = false;
  private delivering = -1;
  /**
   * A host time (performance.now(), ms) after which work that can take long on the host
   * (a long repeated string instruction, between chunks) stops the run with `yielded` set,
   * so the caller can look at the host (a wall-clock timeout, a key) and then go on from the
   * same virtual point. Where the run stops is host-dependent; what the guest does is not.
   */
  hostDeadline = Infinity;
  yielded = false;

  interruptSource: InterruptSource | null = null;
  /**
   * The interrupt source said it has nothing and has not signalled a change since
   * (notifyInterrupt): asking again would give the same answer (see InterruptSource).
   */
  private interruptsQuiet = false;
  msrHandler: MsrHandler | null = null;
  /** Told of every software interrupt before it is delivered; a listener returning true has handled it. */
  readonly softwareInterruptListeners = new Listeners<[vector: number]>();
  exceptionHook: ExceptionHook | null = null;
  /** Told after every MOV to CR3 (the monitor follows the guest's address spaces). */
  readonly cr3Listeners = new Listeners<[cr3: number]>();
  /** Breakpoints, watchpoints and steps of an attached debugger (debug.ts); null without one. */
  debug: DebugTraps | null = null;
  /** External interrupts delivered so far (a debugger's step tells them from the instruction it steps). */
  interruptsTaken = 0;
  /**
   * Told of every write the processor makes by itself, not as an instruction's operand:
   * interrupt and exception frames, accessed and dirty bits set by the page walk,
   * descriptor accessed and busy bits (the monitor mirrors them in system mode).
   */
  readonly platformWriteListeners = new Listeners<[guestPhys: number, size: number]>();
  /**
   * Asked before an external interrupt is taken: while it says true, the processor runs on
   * one instruction at a time (like an STI shadow) and asks again. Null: never held.
   */
  interruptHold: ((eip: number) => boolean) | null = null;

  /** `tlb`: the TLB arrays a finished CPU handed over (releaseTlb), empty; new ones otherwise. */
  constructor(mem: PhysicalMemory, io: IoSpace, tlb?: TlbArrays) {
    this.mem = mem;
    this.io = io;
    // The TLB arrays and the registers live in the memory's state area; a finished CPU
    // hands its arrays over emptied (releaseTlb), new ones are emptied here.
    const area = (offset: number, length: number) => new Int32Array(mem.wasm.buffer, mem.stateBase + offset, length);
    const t = tlb?.userR.buffer === mem.wasm.buffer ? tlb : {
      userR: area(STATE_TLB_USER_R, 1 << 20).fill(-1), userW: area(STATE_TLB_USER_W, 1 << 20).fill(-1),
      supR: area(STATE_TLB_SUP_R, 1 << 20).fill(-1), supW: area(STATE_TLB_SUP_W, 1 << 20).fill(-1),
    };
    this.reg = area(STATE_REGISTERS, 8);
    this.sel = area(STATE_SELECTORS, 6).fill(0);
    this.tlbUserR = t.userR; this.tlbUserW = t.userW; this.tlbSupR = t.supR; this.tlbSupW = t.supW;
    const buffer = mem.ram.buffer;
    this.u8 = mem.ram;
    this.u16 = new Uint16Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.dv = new DataView(buffer);
    this.tlbR = this.tlbSupR;
    this.tlbW = this.tlbSupW;
    this.blocks = new BlockCache(this);
    this.reset();
  }

  /** Power-on state: real mode at F000:FFF0. */
  reset(): void {
    this.reg.fill(0);
    this.reg[EDX] = CPUID_SIGNATURE;
    this.flags = 2;
    this.lfOp = OP_NONE;
    this.lfA = this.lfB = this.lfR = 0;
    this.startEip = this.ea = this.eaOffset = 0;
    this.cr0 = CR0_ET;
    this.cr2 = this.cr3 = this.cr4 = 0;
    this.dr.fill(0);
    this.fpu.reset();
    this.gdtBase = 0; this.gdtLimit = 0xffff;
    this.descLow = this.descHigh = 0;
    this.idtBase = 0; this.idtLimit = 0x3ff;
    this.ldtSel = this.ldtBase = this.ldtLimit = 0;
    this.trSel = this.trBase = this.trLimit = this.trType = 0;
    for (let s = 0; s < 6; s++) this.setSegmentCache(s, 0, 0, 0xffff, DESC_PRESENT | DESC_S | DESC_RW | DESC_ACCESSED, 0);
    this.setSegmentCache(CS, 0xf000, 0xffff0000 | 0, 0xffff, DESC_PRESENT | DESC_S | DESC_CODE | DESC_RW | DESC_ACCESSED, 0);
    this.eip = 0xfff0;
    this.setCpl(0);
    this.halted = false;
    this.shutdown = false;
    this.shutdownReason = '';
    this.shadow = false;
    this.flushTlb();
  }

  /**
   * Flat 32-bit protected mode without descriptor tables in memory: what a multiboot
   * loader leaves, or a user-mode runner wants. Selectors are the conventional ones.
   */
  enterFlatProtectedMode(cpl: 0 | 3, codeSelector = cpl === 3 ? 0x1b : 0x08, dataSelector = cpl === 3 ? 0x23 : 0x10): void {
    this.cr0 |= CR0_PE;
    const dpl = cpl << 5;
    for (let s = 0; s < 6; s++) {
      this.setSegmentCache(s, dataSelector, 0, -1, DESC_PRESENT | DESC_S | DESC_RW | DESC_ACCESSED | dpl, 1);
    }
    this.setSegmentCache(CS, codeSelector, 0, -1, DESC_PRESENT | DESC_S | DESC_CODE | DESC_RW | DESC_ACCESSED | dpl, 1);
    this.setCpl(cpl);
    this.flushTlb();
  }

  /** Real mode at `cs`:`ip` with the other segment registers zero: where a boot sector starts. */
  startRealMode(cs: number, ip: number): void {
    for (let s = 0; s < 6; s++) this.loadRealModeSegment(s, s === CS ? cs : 0);
    this.eip = ip & 0xffff;
  }

  // ---------------------------------------------------------------- registers

  getReg8(r: number): number {
    return r < 4 ? this.reg[r]! & 0xff : (this.reg[r - 4]! >> 8) & 0xff;
  }
  setReg8(r: number, v: number): void {
    if (r < 4) this.reg[r] = (this.reg[r]! & ~0xff) | (v & 0xff);
    else this.reg[r - 4] = (this.reg[r - 4]! & ~0xff00) | ((v & 0xff) << 8);
  }
  getReg16(r: number): number {
    return this.reg[r]! & 0xffff;
  }
  setReg16(r: number, v: number): void {
    this.reg[r] = (this.reg[r]! & ~0xffff) | (v & 0xffff);
  }
  getReg(size: number, r: number): number {
    return size === 4 ? this.reg[r]! : size === 2 ? this.reg[r]! & 0xffff : this.getReg8(r);
  }
  setReg(size: number, r: number, v: number): void {
    if (size === 4) this.reg[r] = v;
    else if (size === 2) this.reg[r] = (this.reg[r]! & ~0xffff) | (v & 0xffff);
    else this.setReg8(r, v);
  }

  // ---------------------------------------------------------------- flags

  setLazy(op: number, a: number, b: number, r: number, size: number): void {
    this.lfOp = op;
    this.lfA = a;
    this.lfB = b;
    this.lfR = r;
    this.lfSize = size;
  }

  /** Sets the six arithmetic flags eagerly. */
  setArith(bits: number): void {
    this.flags = (this.flags & ~ARITH_FLAGS) | (bits & ARITH_FLAGS);
    this.lfOp = OP_NONE;
  }

  getCF(): number {
    const m = SIZE_MASK[this.lfSize]!;
    switch (this.lfOp) {
      case OP_NONE: return this.flags & CF;
      case OP_ADD: return (this.lfR & m) >>> 0 < (this.lfA & m) >>> 0 ? 1 : 0;
      case OP_SUB: return (this.lfA & m) >>> 0 < (this.lfB & m) >>> 0 ? 1 : 0;
      case OP_LOGIC: return 0;
      default: return this.lfCarry;
    }
  }
  getZF(): boolean {
    return this.lfOp === OP_NONE ? (this.flags & ZF) !== 0 : (this.lfR & SIZE_MASK[this.lfSize]!) === 0;
  }
  getSF(): boolean {
    return this.lfOp === OP_NONE ? (this.flags & SF) !== 0 : (this.lfR & SIZE_SIGN[this.lfSize]!) !== 0;
  }
  getPF(): boolean {
    return this.lfOp === OP_NONE ? (this.flags & PF) !== 0 : parityOf(this.lfR) !== 0;
  }
  getOF(): boolean {
    const s = SIZE_SIGN[this.lfSize]!;
    const a = this.lfA, b = this.lfB, r = this.lfR;
    switch (this.lfOp) {
      case OP_NONE: return (this.flags & OF) !== 0;
      case OP_ADD: return ((a ^ r) & (b ^ r) & s) !== 0;
      case OP_SUB: return ((a ^ b) & (a ^ r) & s) !== 0;
      case OP_LOGIC: return false;
      case OP_INC: return (r & SIZE_MASK[this.lfSize]!) === s;
      default: return (r & SIZE_MASK[this.lfSize]!) === (~s & SIZE_MASK[this.lfSize]!);
    }
  }
  private getAF(): number {
    switch (this.lfOp) {
      case OP_NONE: return this.flags & AF;
      case OP_LOGIC: return 0;
      default: return (this.lfA ^ this.lfB ^ this.lfR) & AF;
    }
  }

  /** Folds the lazy state into `flags`. */
  materializeFlags(): void {
    if (this.lfOp === OP_NONE) return;
    const bits = this.getCF() | (this.getPF() ? PF : 0) | this.getAF() | (this.getZF() ? ZF : 0) |
      (this.getSF() ? SF : 0) | (this.getOF() ? OF : 0);
    this.flags = (this.flags & ~ARITH_FLAGS) | bits;
    this.lfOp = OP_NONE;
  }

  getEflags(): number {
    this.materializeFlags();
    return (this.flags | 2) | 0;
  }

  /** Sets all of EFLAGS (no privilege checks: for loaders and snapshots). */
  setEflags(v: number): void {
    const wasIf = this.flags & IF;
    this.flags = ((v & 0x3f7fd5) | 2) & ~VM;
    this.lfOp = OP_NONE;
    if (!wasIf && this.flags & IF && !this.interruptsQuiet) this.eventPending = true;
  }

  /** EFLAGS written by POPF or IRET: which bits change depends on CPL and IOPL. */
  writeEflagsChecked(v: number, size: number, allowIopl: boolean): void {
    this.materializeFlags();
    let mask = CF | PF | AF | ZF | SF | TF | DF | OF | NT;
    if (size === 4) mask |= AC | ID;
    const pe = (this.cr0 & CR0_PE) !== 0;
    if (!pe || (allowIopl && this.cpl === 0)) mask |= IOPL;
    if (!pe || this.cpl <= ((this.flags & IOPL) >> 12)) mask |= IF;
    const wasIf = this.flags & IF;
    this.flags = (this.flags & ~mask) | (v & mask) | 2;
    // IF set with interrupts quiet: nothing to take, the batch goes on (a device that
    // raises an interrupt ends it through notifyInterrupt).
    if (!wasIf && this.flags & IF && !this.interruptsQuiet) this.eventPending = true;
    if (this.flags & TF) this.eventPending = true;
  }

  cond(cc: number): boolean {
    let v: boolean;
    if (this.lfOp === OP_SUB) {
      // cmp/sub: compare the operands directly.
      const a = this.lfA, b = this.lfB, shift = 32 - 8 * this.lfSize;
      switch (cc >> 1) {
        case 1: v = (a << shift) >>> 0 < (b << shift) >>> 0; return cc & 1 ? !v : v;
        case 2: v = (a << shift) === (b << shift); return cc & 1 ? !v : v;
        case 3: v = (a << shift) >>> 0 <= (b << shift) >>> 0; return cc & 1 ? !v : v;
        case 6: v = (a << shift) < (b << shift); return cc & 1 ? !v : v;
        case 7: v = (a << shift) <= (b << shift); return cc & 1 ? !v : v;
      }
    }
    switch (cc >> 1) {
      case 0: v = this.getOF(); break;
      case 1: v = this.getCF() !== 0; break;
      case 2: v = this.getZF(); break;
      case 3: v = this.getCF() !== 0 || this.getZF(); break;
      case 4: v = this.getSF(); break;
      case 5: v = this.getPF(); break;
      case 6: v = this.getSF() !== this.getOF(); break;
      default: v = this.getZF() || this.getSF() !== this.getOF(); break;
    }
    return cc & 1 ? !v : v;
  }

  // ---------------------------------------------------------------- exceptions

  raise(vector: number, errorCode = -1): never {
    FAULT.vector = vector;
    FAULT.errorCode = exceptionHasErrorCode(vector) ? (errorCode < 0 ? 0 : errorCode) : -1;
    throw FAULT;
  }
  gp(code = 0): never {
    return this.raise(VEC_GP, code);
  }
  ud(): never {
    return this.raise(6);
  }

  private pageFault(lin: number, present: boolean, write: boolean, user: boolean): never {
    this.cr2 = lin | 0;
    return this.raise(VEC_PF, (present ? PF_PROTECTION : 0) | (write ? PF_WRITE : 0) | (user ? PF_USER : 0));
  }

  // ---------------------------------------------------------------- paging and TLB

  setCpl(cpl: number): void {
    this.cpl = cpl;
    if (cpl === 3) {
      this.tlbR = this.tlbUserR;
      this.tlbW = this.tlbUserW;
    } else {
      this.tlbR = this.tlbSupR;
      this.tlbW = this.tlbSupW;
    }
    this.fetchPage = -1;
  }

  /**
   * This CPU is done: its TLB arrays, emptied, for the next machine's CPU to take over
   * (a campaign's runs: allocating and filling 16 MiB of them cost each run about 12 ms).
   */
  releaseTlb(): TlbArrays {
    this.flushTlb();
    return { userR: this.tlbUserR, userW: this.tlbUserW, supR: this.tlbSupR, supW: this.tlbSupW };
  }

  /** Every entry, global ones too. */
  flushTlb(): void {
    if (this.tlbCount >= TLB_LIST_MAX || this.globalCount >= TLB_LIST_MAX) {
      this.tlbUserR.fill(-1); this.tlbUserW.fill(-1); this.tlbSupR.fill(-1); this.tlbSupW.fill(-1);
    } else {
      this.dropEntries(this.tlbList, this.tlbCount);
      this.dropEntries(this.tlbGlobal, this.globalCount);
    }
    this.tlbCount = this.globalCount = 0;
    this.fetchPage = -1;
  }

  /** What a CR3 load drops with CR4.PGE on: every entry but the global ones. */
  private flushNonGlobal(): void {
    if (this.tlbCount >= TLB_LIST_MAX) {
      this.flushTlb();
      return;
    }
    this.dropEntries(this.tlbList, this.tlbCount);
    this.tlbCount = 0;
    this.fetchPage = -1;
  }

  private dropEntries(list: Int32Array, count: number): void {
    for (let i = 0; i < count; i++) {
      const p = list[i]!;
      this.tlbUserR[p] = -1; this.tlbUserW[p] = -1; this.tlbSupR[p] = -1; this.tlbSupW[p] = -1;
    }
  }

  /**
   * Host bytes [start, end) (one frame) now hold compiled code: mark them, and drop the
   * TLB write entries that point at the frame (they come back odd, see wr8).
   */
  protectCode(start: number, end: number): void {
    if (this.mem.markCode(start, end)) this.dropWriteEntries(start >>> 12);
  }

  /** The frame no longer holds compiled code: its writes may take the fast path again. */
  unprotectCode(frame: number): void {
    this.mem.unmarkCode(frame);
    this.dropWriteEntries(frame);
  }

  private dropWriteEntries(frame: number): void {
    if (this.tlbCount >= TLB_LIST_MAX || this.globalCount >= TLB_LIST_MAX) {
      for (let p = 0; p < 1 << 20; p++) this.dropWriteEntry(p, frame);
      return;
    }
    for (let i = 0; i < this.tlbCount; i++) this.dropWriteEntry(this.tlbList[i]!, frame);
    for (let i = 0; i < this.globalCount; i++) this.dropWriteEntry(this.tlbGlobal[i]!, frame);
  }

  private dropWriteEntry(p: number, frame: number): void {
    if (this.tlbUserW[p] !== -1 && ((this.tlbUserW[p]! ^ (p << 12)) >>> 12) === frame) this.tlbUserW[p] = -1;
    if (this.tlbSupW[p] !== -1 && ((this.tlbSupW[p]! ^ (p << 12)) >>> 12) === frame) this.tlbSupW[p] = -1;
  }

  invalidatePage(lin: number): void {
    const p = lin >>> 12;
    this.tlbUserR[p] = -1; this.tlbUserW[p] = -1; this.tlbSupR[p] = -1; this.tlbSupW[p] = -1;
    this.fetchPage = -1;
  }

  /**
   * Linear → guest-physical, with the access checks and A/D updates of the page walk.
   * Fills the TLB when the frame is ordinary RAM. Raises #PF.
   */
  translate(lin: number, write: boolean, user: boolean): number {
    let phys: number;
    let writable = true;
    let dirty = true;
    let global = false;
    if (!(this.cr0 & CR0_PG)) {
      phys = lin | 0;
    } else {
      const mem = this.mem;
      const pdeAddr = (this.cr3 & ~0xfff) | ((lin >>> 22) << 2);
      const pde = mem.read32(pdeAddr);
      if (!(pde & PTE_P)) this.pageFault(lin, false, write, user);
      const wp = (this.cr0 & CR0_WP) !== 0;
      if (pde & PTE_PS && this.cr4 & CR4_PSE) {
        if (user && !(pde & PTE_U)) this.pageFault(lin, true, write, user);
        writable = (pde & PTE_W) !== 0 || (!user && !wp);
        if (write && !writable) this.pageFault(lin, true, write, user);
        const updated = pde | PTE_A | (write ? PTE_D : 0);
        if (updated !== pde) this.platformWrite32(pdeAddr, updated);
        dirty = (updated & PTE_D) !== 0;
        global = (pde & PTE_G) !== 0 && (this.cr4 & CR4_PGE) !== 0;
        phys = (pde & 0xffc00000) | (lin & 0x3fffff);
      } else {
        const pteAddr = (pde & ~0xfff) | (((lin >>> 12) & 0x3ff) << 2);
        const pte = mem.read32(pteAddr);
        if (!(pte & PTE_P)) this.pageFault(lin, false, write, user);
        const both = pde & pte;
        if (user && !(both & PTE_U)) this.pageFault(lin, true, write, user);
        writable = (both & PTE_W) !== 0 || (!user && !wp);
        if (write && !writable) this.pageFault(lin, true, write, user);
        if (!(pde & PTE_A)) this.platformWrite32(pdeAddr, pde | PTE_A);
        const updated = pte | PTE_A | (write ? PTE_D : 0);
        if (updated !== pte) this.platformWrite32(pteAddr, updated);
        dirty = (updated & PTE_D) !== 0;
        global = (pte & PTE_G) !== 0 && (this.cr4 & CR4_PGE) !== 0;
        phys = (pte & ~0xfff) | (lin & 0xfff);
      }
    }
    const page = phys >>> 12;
    const flags = this.mem.pageFlags[page]!;
    // Code and write-hook pages are cached (writes marked, below); a device page gets an odd
    // read entry; any other flag means no caching, and so does a debugger's mark on the linear page.
    if (this.debug !== null && this.debug.pages[lin >>> 12] !== 0) {
      // every access comes back here, to readLinear/writeLinear (see debug.ts)
    } else if (flags & PAGE_MMIO) {
      if (this.mem.isDevicePage(page)) this.cacheDeviceRead(lin, phys, user);
    } else if (phys >>> 0 < this.mem.guestSize && (flags & ~READ_CACHEABLE) === 0) {
      const frame = this.mem.p2m[page]!;
      const entry = (frame << 12) ^ (lin & ~0xfff);
      // Write entries of code and write-hook pages are odd: they fail every write fast path (see wr8).
      const writeEntry = flags ? entry | 1 : entry;
      const vpage = lin >>> 12;
      if (global) {
        // Listed once (walks that refill a known page add nothing); a full list is a full
        // flush, so the list stays short and dropWriteEntries never scans the whole TLB.
        if (this.tlbSupR[vpage] === -1 && this.tlbSupW[vpage] === -1 && this.tlbUserR[vpage] === -1 && this.tlbUserW[vpage] === -1) {
          if (this.globalCount >= TLB_LIST_MAX) this.flushTlb();
          this.tlbGlobal[this.globalCount++] = vpage;
        }
      } else {
        if (this.tlbCount < TLB_LIST_MAX) this.tlbList[this.tlbCount] = vpage;
        this.tlbCount++;
      }
      if (writable && dirty) {
        // The fast paths write through this entry without telling the memory: the frame counts as written now.
        this.mem.markWritten(frame);
        if (user) this.tlbUserW[vpage] = writeEntry;
        else this.tlbSupW[vpage] = writeEntry;
      }
      if (user) this.tlbUserR[vpage] = entry;
      else this.tlbSupR[vpage] = entry;
    }
    return phys;
  }

  /** A read entry for a device page: the physical page, marked odd (see the file comment). */
  private cacheDeviceRead(lin: number, phys: number, user: boolean): void {
    const vpage = lin >>> 12;
    if (this.tlbCount < TLB_LIST_MAX) this.tlbList[this.tlbCount] = vpage;
    this.tlbCount++;
    (user ? this.tlbUserR : this.tlbSupR)[vpage] = ((phys & ~0xfff) ^ (lin & ~0xfff)) | 1;
  }

  /**
   * A read the fast path refused: a device page the TLB knows (odd entry `t`) goes to the
   * device at once; anything else (not cached, crossing a page) to readLinear.
   */
  private readSlow(lin: number, size: number, t: number): number {
    if (t !== -1 && (lin & 0xfff) <= 0x1000 - size) {
      const v = this.mem.deviceRead((t ^ 1) ^ lin, size as AccessSize);
      return size === 4 ? v | 0 : v;
    }
    return this.readLinear(lin, size, this.cpl === 3);
  }

  /** Reads `size` bytes at a linear address with the given privilege (slow path). */
  readLinear(lin: number, size: number, user: boolean): number {
    lin |= 0;
    let v: number;
    const t = (user ? this.tlbUserR : this.tlbSupR)[lin >>> 12]!;
    if ((t & 1) === 0 && (lin & 0xfff) + size <= 0x1000) {
      // The TLB knows the page (plain RAM): no walk. (Descriptor and gate reads, unaligned
      // accesses: usertests walked the page of the kernel's cpu0 1.4 million times.)
      const h = t ^ lin, u8 = this.u8;
      v = size === 1 ? u8[h]! : size === 2 ? u8[h]! | (u8[h + 1]! << 8) : u8[h]! | (u8[h + 1]! << 8) | (u8[h + 2]! << 16) | (u8[h + 3]! << 24);
    } else if ((lin & 0xfff) + size > 0x1000) {
      const p0 = this.translate(lin, false, user);
      const p1 = this.translate((lin + size - 1) & ~0xfff, false, user);
      v = 0;
      for (let i = 0; i < size; i++) {
        const a = (lin + i) & 0xfff, inFirst = ((lin & 0xfff) + i) < 0x1000;
        v |= this.mem.read8(inFirst ? (p0 & ~0xfff) | a : (p1 & ~0xfff) | a) << (8 * i);
      }
      if (size === 4) v |= 0;
    } else {
      const phys = this.translate(lin, false, user);
      v = size === 1 ? this.mem.read8(phys) : size === 2 ? this.mem.read16(phys) : this.mem.read32(phys);
    }
    if (this.debug !== null) this.watched(lin, size, false);
    return v;
  }

  /** An access on the slow path: a debugger's watchpoints on its pages look at it. */
  private watched(lin: number, size: number, write: boolean): void {
    const pages = this.debug!.pages;
    if (pages[lin >>> 12] !== 0 || pages[((lin + size - 1) >>> 12) & 0xfffff] !== 0) this.debug!.accessed(lin, size, write);
  }

  /** Checks that `size` bytes at `lin` are writable (raising #PF otherwise) and writes them. */
  writeLinear(lin: number, size: number, v: number, user: boolean): void {
    lin |= 0;
    const t = (user ? this.tlbUserW : this.tlbSupW)[lin >>> 12]!;
    if ((t & 1) === 0 && (lin & 0xfff) + size <= 0x1000) {
      // The TLB has an even write entry: plain RAM with no hook or code on it, dirty already.
      const h = t ^ lin, u8 = this.u8;
      for (let i = 0; i < size; i++) u8[h + i] = v >>> (8 * i);
      if (this.debug !== null) this.watched(lin, size, true);
      return;
    }
    if ((lin & 0xfff) + size > 0x1000) {
      const p0 = this.translate(lin, true, user);
      const p1 = this.translate((lin + size - 1) & ~0xfff, true, user);
      for (let i = 0; i < size; i++) {
        const a = (lin + i) & 0xfff, inFirst = ((lin & 0xfff) + i) < 0x1000;
        this.mem.write8(inFirst ? (p0 & ~0xfff) | a : (p1 & ~0xfff) | a, v >>> (8 * i));
      }
      if (this.debug !== null) this.watched(lin, size, true);
      return;
    }
    const phys = this.translate(lin, true, user);
    if (size === 1) this.mem.write8(phys, v);
    else if (size === 2) this.mem.write16(phys, v);
    else this.mem.write32(phys, v);
    if (this.debug !== null) this.watched(lin, size, true);
  }

  /**
   * Whether a write to linear `lin` lands nowhere (unassigned physical memory). The page
   * was just written, so the walk cannot fault and its accessed/dirty bits are set already.
   */
  discardsWrites(lin: number): boolean {
    return this.mem.isUnassigned(this.translate(lin, true, this.cpl === 3));
  }

  /** Translates for writing without writing (read-modify-write instructions probe first). */
  probeWrite(lin: number, size: number): void {
    const user = this.cpl === 3;
    this.translate(lin, true, user);
    if (((lin & 0xfff) + size) > 0x1000) this.translate((lin + size - 1) & ~0xfff, true, user);
  }

  // A read TLB entry is odd when it is -1 (not cached) or a device page: both fail here.
  rd8(lin: number): number {
    const t = this.tlbR[lin >>> 12]!;
    if ((t & 1) === 0) return this.u8[t ^ lin]!;
    return this.readSlow(lin, 1, t);
  }
  rd16(lin: number): number {
    const t = this.tlbR[lin >>> 12]!;
    if (((t | lin) & 1) === 0) return this.u16[(t ^ lin) >>> 1]!;
    if ((t & 1) === 0 && (lin & 0xfff) !== 0xfff) return this.dv.getUint16(t ^ lin, true);
    return this.readSlow(lin, 2, t);
  }
  rd32(lin: number): number {
    const t = this.tlbR[lin >>> 12]!;
    if (((t | lin) & 3) === 0) return this.i32[(t ^ lin) >>> 2]!;
    if ((t & 1) === 0 && (lin & 0xfff) <= 0xffc) return this.dv.getInt32(t ^ lin, true);
    return this.readSlow(lin, 4, t);
  }
  // A write TLB entry is -1 (not cached) or a page-aligned xor value; an odd value marks a
  // page holding compiled code or with a write hook, whose writes go through writeMarked.
  wr8(lin: number, v: number): void {
    const t = this.tlbW[lin >>> 12]!;
    if ((t & 1) === 0) this.u8[t ^ lin] = v;
    else if (t !== -1) this.writeMarked((t ^ 1) ^ lin, 1, v);
    else this.writeLinear(lin, 1, v, this.cpl === 3);
  }
  wr16(lin: number, v: number): void {
    const t = this.tlbW[lin >>> 12]!;
    if (((t | lin) & 1) === 0) this.u16[(t ^ lin) >>> 1] = v;
    else if (t !== -1 && (lin & 0xfff) !== 0xfff) {
      if (t & 1) this.writeMarked((t ^ 1) ^ lin, 2, v);
      else this.dv.setUint16(t ^ lin, v, true);
    } else this.writeLinear(lin, 2, v, this.cpl === 3);
  }
  wr32(lin: number, v: number): void {
    const t = this.tlbW[lin >>> 12]!;
    if (((t | lin) & 3) === 0) this.i32[(t ^ lin) >>> 2] = v;
    else if (t !== -1 && (lin & 0xfff) <= 0xffc) {
      if (t & 1) this.writeMarked((t ^ 1) ^ lin, 4, v);
      else this.dv.setInt32(t ^ lin, v, true);
    } else this.writeLinear(lin, 4, v, this.cpl === 3);
  }
  /** A write within one marked page (compiled code or a write hook): the memory is told after the bytes land. */
  private writeMarked(host: number, size: number, v: number): void {
    if (size === 1) this.u8[host] = v;
    else if (size === 2) this.dv.setUint16(host, v, true);
    else this.dv.setInt32(host, v, true);
    this.mem.afterMarkedWrite(host, size);
  }
  rd(size: number, lin: number): number {
    return size === 4 ? this.rd32(lin) : size === 2 ? this.rd16(lin) : this.rd8(lin);
  }
  wr(size: number, lin: number, v: number): void {
    if (size === 4) this.wr32(lin, v);
    else if (size === 2) this.wr16(lin, v);
    else this.wr8(lin, v);
  }
  /** Reads for a read-modify-write: faults as a write if the page is not writable. */
  rdw(size: number, lin: number): number {
    const t = this.tlbW[lin >>> 12]!;
    if (t === -1 || (lin & 0xfff) > 0x1000 - size) this.probeWrite(lin, size);
    return this.rd(size, lin);
  }

  /** Supervisor-privilege accesses for descriptor tables and the TSS. */
  sysRead32(lin: number): number {
    return this.readLinear(lin, 4, false);
  }
  sysRead16(lin: number): number {
    return this.readLinear(lin, 2, false);
  }
  /** A write the processor makes by itself (a descriptor's accessed or busy bit) at a linear address. */
  sysWrite32(lin: number, v: number): void {
    this.writeLinear(lin, 4, v, false);
    this.platformWrote(lin, 4, false);
  }

  /** A page-walk write (accessed and dirty bits) at a guest-physical address. */
  private platformWrite32(phys: number, v: number): void {
    this.mem.write32(phys, v);
    this.platformWriteListeners.dispatch?.(phys >>> 0, 4);
  }

  /** Tells platformWriteListeners of `size` bytes the processor wrote at `lin` (within one page; already writable). */
  private platformWrote(lin: number, size: number, user: boolean): void {
    const notify = this.platformWriteListeners.dispatch;
    if (notify !== null) notify(this.translate(lin, true, user) >>> 0, size);
  }

  // ---------------------------------------------------------------- instruction fetch

  fetch8(): number {
    const lin = (this.csBase + this.eip) | 0;
    this.eip = (this.eip + 1) | 0;
    if ((lin & ~0xfff) === this.fetchPage) return this.u8[this.fetchHost + (lin & 0xfff)]!;
    return this.fetchSlow(lin);
  }
  fetch16(): number {
    const lin = (this.csBase + this.eip) | 0;
    if ((lin & ~0xfff) === this.fetchPage && (lin & 0xfff) < 0xfff) {
      this.eip = (this.eip + 2) | 0;
      return this.dv.getUint16(this.fetchHost + (lin & 0xfff), true);
    }
    return this.fetch8() | (this.fetch8() << 8);
  }
  fetch32(): number {
    const lin = (this.csBase + this.eip) | 0;
    if ((lin & ~0xfff) === this.fetchPage && (lin & 0xfff) < 0xffd) {
      this.eip = (this.eip + 4) | 0;
      return this.dv.getInt32(this.fetchHost + (lin & 0xfff), true);
    }
    return this.fetch8() | (this.fetch8() << 8) | (this.fetch8() << 16) | (this.fetch8() << 24);
  }
  fetchImm(size: number): number {
    return size === 4 ? this.fetch32() : size === 2 ? this.fetch16() : this.fetch8();
  }
  private fetchSlow(lin: number): number {
    const debug = this.debug;
    if (debug !== null && debug.pages[lin >>> 12] !== 0) {
      // A page a debugger marks is never the fetch page: an instruction's first byte is checked here.
      if (lin === ((this.csBase + this.startEip) | 0)) debug.beforeInstruction(lin);
      return this.mem.read8(this.translate(lin, false, this.cpl === 3));
    }
    const user = this.cpl === 3;
    const t = (user ? this.tlbUserR : this.tlbSupR)[lin >>> 12]!;
    if ((t & 1) === 0) {
      // The TLB knows the page (plain RAM): no walk.
      this.fetchPage = lin & ~0xfff;
      this.fetchHost = (t ^ lin) & ~0xfff;
      return this.u8[t ^ lin]!;
    }
    const phys = this.translate(lin, false, user);
    if (phys >>> 0 < this.mem.guestSize && (this.mem.pageFlags[phys >>> 12]! & ~READ_CACHEABLE) === 0) {
      this.fetchPage = lin & ~0xfff;
      this.fetchHost = this.mem.hostOffset(phys & ~0xfff);
    }
    return this.mem.read8(phys);
  }

  /** Forgets the cached code page (after a write to code through a hook, a CS change, …). */
  invalidateFetch(): void {
    this.fetchPage = -1;
  }

  // ---------------------------------------------------------------- ModRM

  /** Decodes ModRM (and SIB/displacement): sets modrmReg, and rmReg or ea. */
  decodeModrm(): void {
    const m = this.fetch8();
    this.modrmReg = (m >> 3) & 7;
    const mod = m >> 6;
    if (mod === 3) {
      this.rmReg = m & 7;
      return;
    }
    this.rmReg = -1;
    const reg = this.reg;
    let rm = m & 7;
    let off: number;
    let seg = DS;
    if (this.adsize32) {
      if (rm === 4) {
        const sib = this.fetch8();
        const base = sib & 7, index = (sib >> 3) & 7;
        off = index === 4 ? 0 : reg[index]! << (sib >> 6);
        if (base === 5 && mod === 0) off += this.fetch32();
        else {
          off += reg[base]!;
          if (base === 4 || base === 5) seg = SS;
        }
      } else if (rm === 5 && mod === 0) {
        off = this.fetch32();
      } else {
        off = reg[rm]!;
        if (rm === 5) seg = SS;
      }
      if (mod === 1) off += (this.fetch8() << 24) >> 24;
      else if (mod === 2) off += this.fetch32();
      off |= 0;
    } else {
      switch (rm) {
        case 0: off = reg[3]! + reg[6]!; break;
        case 1: off = reg[3]! + reg[7]!; break;
        case 2: off = reg[5]! + reg[6]!; seg = SS; break;
        case 3: off = reg[5]! + reg[7]!; seg = SS; break;
        case 4: off = reg[6]!; break;
        case 5: off = reg[7]!; break;
        case 6:
          if (mod === 0) { off = this.fetch16(); rm = -1; } else { off = reg[5]!; seg = SS; }
          break;
        default: off = reg[3]!; break;
      }
      if (mod === 1) off += (this.fetch8() << 24) >> 24;
      else if (mod === 2) off += this.fetch16();
      off &= 0xffff;
    }
    if (this.segOv >= 0) seg = this.segOv;
    this.eaOffset = off;
    this.ea = (this.segBase[seg]! + off) | 0;
  }

  readRm(size: number): number {
    return this.rmReg >= 0 ? this.getReg(size, this.rmReg) : this.rd(size, this.ea);
  }
  /** Reads the r/m operand of a read-modify-write instruction. */
  readRmw(size: number): number {
    return this.rmReg >= 0 ? this.getReg(size, this.rmReg) : this.rdw(size, this.ea);
  }
  writeRm(size: number, v: number): void {
    if (this.rmReg >= 0) this.setReg(size, this.rmReg, v);
    else this.wr(size, this.ea, v);
  }
  /** The r/m operand must be memory (LEA, LGDT, far pointers, …). */
  requireMemory(): void {
    if (this.rmReg >= 0) this.ud();
  }
  /** Linear address of `offset` in the default data segment (DS or the override). */
  dataAddress(offset: number): number {
    return (this.segBase[this.segOv >= 0 ? this.segOv : DS]! + offset) | 0;
  }

  // ---------------------------------------------------------------- stack

  stackAddress(offset: number): number {
    return (this.segBase[SS]! + offset) | 0;
  }
  push(size: number, v: number): void {
    const esp = this.reg[ESP]!;
    if (this.stack32) {
      const n = (esp - size) | 0;
      this.wr(size, (this.segBase[SS]! + n) | 0, v);
      this.reg[ESP] = n;
    } else {
      const n = (esp - size) & 0xffff;
      this.wr(size, (this.segBase[SS]! + n) | 0, v);
      this.reg[ESP] = (esp & ~0xffff) | n;
    }
  }
  /** Reads the value `index` slots above the stack top without popping. */
  peek(size: number, byteOffset = 0): number {
    const esp = this.reg[ESP]!;
    const off = this.stack32 ? (esp + byteOffset) | 0 : (esp + byteOffset) & 0xffff;
    return this.rd(size, (this.segBase[SS]! + off) | 0);
  }
  /** Moves the stack pointer by `delta` bytes (respecting a 16-bit stack). */
  adjustEsp(delta: number): void {
    const esp = this.reg[ESP]!;
    this.reg[ESP] = this.stack32 ? (esp + delta) | 0 : (esp & ~0xffff) | ((esp + delta) & 0xffff);
  }
  pop(size: number): number {
    const v = this.peek(size);
    this.adjustEsp(size);
    return v;
  }

  // ---------------------------------------------------------------- segments

  setSegmentCache(seg: number, selector: number, base: number, limit: number, access: number, big: number): void {
    this.sel[seg] = selector & 0xffff;
    this.segBase[seg] = base | 0;
    this.segLimit[seg] = limit | 0;
    this.segAccess[seg] = access;
    this.segBig[seg] = big;
    if (seg === CS) {
      this.code32 = big !== 0;
      this.csBase = base | 0;
      this.opsize32 = this.adsize32 = this.code32;
      this.fetchPage = -1;
    } else if (seg === SS) {
      this.stack32 = big !== 0;
    }
    const b = this.segBase;
    this.flat = this.code32 && this.stack32 && (b[CS]! | b[DS]! | b[ES]! | b[SS]!) === 0;
  }

  /** Real mode (and v8086): base = selector × 16, the rest of the cache unchanged. */
  private loadRealModeSegment(seg: number, selector: number): void {
    this.setSegmentCache(seg, selector, selector << 4, this.segLimit[seg]!, this.segAccess[seg]!, this.segBig[seg]!);
  }

  get protectedMode(): boolean {
    return (this.cr0 & CR0_PE) !== 0;
  }

  /**
   * Reads a descriptor into descLow and descHigh; false when the selector is beyond its
   * table's limit. (Segment loads and interrupts use it without making an array each time.)
   */
  loadDescriptor(selector: number): boolean {
    const index = selector & ~7;
    const base = selector & 4 ? this.ldtBase : this.gdtBase;
    const limit = selector & 4 ? this.ldtLimit : this.gdtLimit;
    if (selector & 4 && this.ldtSel === 0) return false;
    if (index + 7 > limit >>> 0) return false;
    this.descLow = this.sysRead32(base + index);
    this.descHigh = this.sysRead32(base + index + 4);
    return true;
  }

  /** A descriptor as [low, high]; null when the selector is beyond its table's limit. */
  readDescriptor(selector: number): [number, number] | null {
    return this.loadDescriptor(selector) ? [this.descLow, this.descHigh] : null;
  }

  private markAccessed(selector: number, high: number): void {
    if (high & (DESC_ACCESSED << 8)) return;
    const base = selector & 4 ? this.ldtBase : this.gdtBase;
    this.sysWrite32(base + (selector & ~7) + 4, high | (DESC_ACCESSED << 8));
  }

  static descriptorBase(low: number, high: number): number {
    return ((low >>> 16) | ((high & 0xff) << 16) | (high & 0xff000000)) | 0;
  }
  static descriptorLimit(low: number, high: number): number {
    const limit = (low & 0xffff) | (high & 0xf0000);
    return high & 0x800000 ? ((limit << 12) | 0xfff) | 0 : limit;
  }
  private loadFromDescriptor(seg: number, selector: number, low: number, high: number): void {
    this.setSegmentCache(seg, selector, CPU.descriptorBase(low, high), CPU.descriptorLimit(low, high),
      ((high >> 8) & 0xff) | DESC_ACCESSED, (high >> 22) & 1);
  }

  /** MOV/POP/LDS… into a data segment register or SS, with protected-mode checks. */
  loadSegment(seg: number, selector: number): void {
    selector &= 0xffff;
    if (!this.protectedMode || this.flags & VM) {
      this.loadRealModeSegment(seg, selector);
      return;
    }
    const rpl = selector & 3;
    if ((selector & ~3) === 0) {
      if (seg === SS) this.gp(0);
      this.setSegmentCache(seg, selector, 0, 0, 0, 0);
      return;
    }
    if (!this.loadDescriptor(selector)) this.gp(selector & ~3);
    const low = this.descLow, high = this.descHigh;
    const access = (high >> 8) & 0xff;
    const dpl = (access >> 5) & 3;
    if (!(access & DESC_S)) this.gp(selector & ~3);
    if (seg === SS) {
      if (rpl !== this.cpl || dpl !== this.cpl || access & DESC_CODE || !(access & DESC_RW)) this.gp(selector & ~3);
      if (!(access & DESC_PRESENT)) this.raise(VEC_SS, selector & ~3);
    } else {
      if ((access & (DESC_CODE | DESC_RW)) === DESC_CODE) this.gp(selector & ~3);
      const conformingCode = (access & (DESC_CODE | DESC_CONFORMING)) === (DESC_CODE | DESC_CONFORMING);
      if (!conformingCode && dpl < Math.max(this.cpl, rpl)) this.gp(selector & ~3);
      if (!(access & DESC_PRESENT)) this.raise(VEC_NP, selector & ~3);
    }
    this.markAccessed(selector, high);
    this.loadFromDescriptor(seg, selector, low, high);
  }

  /** Loads CS for a far transfer to `selector` at privilege `cpl` (checks done by the caller). */
  private loadCs(selector: number, low: number, high: number, cpl: number): void {
    this.markAccessed(selector, high);
    this.loadFromDescriptor(CS, (selector & ~3) | cpl, low, high);
    this.setCpl(cpl);
  }

  /** Checks a code-segment target of a far JMP/CALL/RET/IRET; its descriptor is left in descLow/descHigh. */
  private codeDescriptor(selector: number): void {
    if ((selector & ~3) === 0) this.gp(0);
    if (!this.loadDescriptor(selector)) this.gp(selector & ~3);
    const access = (this.descHigh >> 8) & 0xff;
    if ((access & (DESC_S | DESC_CODE)) !== (DESC_S | DESC_CODE)) this.gp(selector & ~3);
  }

  /** Pushes CS and EIP for a far CALL, all or nothing. */
  private pushFarReturn(size: number): void {
    const esp = this.reg[ESP]!;
    try {
      this.push(size, this.sel[CS]!);
      this.push(size, this.eip);
    } catch (e) {
      this.reg[ESP] = esp;
      throw e;
    }
  }

  /** Far JMP (call = false) or far CALL through a code-segment selector. */
  farTransfer(selector: number, offset: number, call: boolean): void {
    selector &= 0xffff;
    const size = this.opsize32 ? 4 : 2;
    if (!this.opsize32) offset &= 0xffff;
    if (!this.protectedMode || this.flags & VM) {
      if (call) this.pushFarReturn(size);
      this.loadRealModeSegment(CS, selector);
      this.eip = offset;
      return;
    }
    this.codeDescriptor(selector);
    const low = this.descLow, high = this.descHigh;
    const access = (high >> 8) & 0xff;
    const dpl = (access >> 5) & 3;
    if (access & DESC_CONFORMING) {
      if (dpl > this.cpl) this.gp(selector & ~3);
    } else if ((selector & 3) > this.cpl || dpl !== this.cpl) this.gp(selector & ~3);
    if (!(access & DESC_PRESENT)) this.raise(VEC_NP, selector & ~3);
    if (call) this.pushFarReturn(size);
    this.loadCs(selector, low, high, this.cpl);
    this.eip = offset;
  }

  /** Far RET, popping `extra` bytes of parameters. */
  farReturn(extra: number): void {
    const size = this.opsize32 ? 4 : 2;
    const eip = this.peek(size, 0);
    const selector = this.peek(size, size) & 0xffff;
    if (!this.protectedMode || this.flags & VM) {
      this.adjustEsp(2 * size + extra);
      this.loadRealModeSegment(CS, selector);
      this.eip = size === 4 ? eip : eip & 0xffff;
      return;
    }
    const rpl = selector & 3;
    if (rpl < this.cpl) this.gp(selector & ~3);
    this.codeDescriptor(selector);
    const low = this.descLow, high = this.descHigh;
    const access = (high >> 8) & 0xff;
    const dpl = (access >> 5) & 3;
    if (access & DESC_CONFORMING ? dpl > rpl : dpl !== rpl) this.gp(selector & ~3);
    if (!(access & DESC_PRESENT)) this.raise(VEC_NP, selector & ~3);
    if (rpl === this.cpl) {
      this.adjustEsp(2 * size + extra);
      this.loadCs(selector, low, high, rpl);
      this.eip = size === 4 ? eip : eip & 0xffff;
      return;
    }
    const newEsp = this.peek(size, 2 * size + extra);
    const newSs = this.peek(size, 3 * size + extra) & 0xffff;
    this.returnToOuter(selector, low, high, rpl, size === 4 ? eip : eip & 0xffff, newSs, newEsp, size);
  }

  /** Return to an outer privilege level (far RET or IRET): validates and loads SS:ESP, CS:EIP. */
  private returnToOuter(cs: number, low: number, high: number, rpl: number, eip: number, ss: number, esp: number, size: number): void {
    if ((ss & ~3) === 0 || (ss & 3) !== rpl) this.gp(ss & ~3);
    if (!this.loadDescriptor(ss)) this.gp(ss & ~3);
    const ssLow = this.descLow, ssHigh = this.descHigh;
    const ssAccess = (ssHigh >> 8) & 0xff;
    if ((ssAccess & (DESC_S | DESC_CODE | DESC_RW)) !== (DESC_S | DESC_RW) || ((ssAccess >> 5) & 3) !== rpl) this.gp(ss & ~3);
    if (!(ssAccess & DESC_PRESENT)) this.raise(VEC_SS, ss & ~3);
    this.loadCs(cs, low, high, rpl);
    this.markAccessed(ss, ssHigh);
    this.loadFromDescriptor(SS, ss, ssLow, ssHigh);
    this.reg[ESP] = size === 4 || this.stack32 ? esp : (this.reg[ESP]! & ~0xffff) | (esp & 0xffff);
    this.eip = eip;
    for (let i = 0; i < 4; i++) {
      const seg = DATA_SEGMENTS[i]!;
      const access = this.segAccess[seg]!;
      const dpl = (access >> 5) & 3;
      const conformingCode = (access & (DESC_CODE | DESC_CONFORMING)) === (DESC_CODE | DESC_CONFORMING);
      if ((this.sel[seg]! & ~3) !== 0 && !conformingCode && dpl < rpl) this.setSegmentCache(seg, 0, 0, 0, 0, 0);
    }
  }

  /** IRET / IRETD. */
  iret(): void {
    const size = this.opsize32 ? 4 : 2;
    if (!this.protectedMode) {
      const eip = this.peek(size, 0);
      const cs = this.peek(size, size) & 0xffff;
      const fl = this.peek(size, 2 * size);
      this.adjustEsp(3 * size);
      this.loadRealModeSegment(CS, cs);
      this.eip = size === 4 ? eip : eip & 0xffff;
      this.writeEflagsChecked(size === 4 ? fl : (this.getEflags() & ~0xffff) | (fl & 0xffff), size, true);
      return;
    }
    if (this.flags & NT) this.gp(0); // task return: no task switching
    const eip = this.peek(size, 0);
    const cs = this.peek(size, size) & 0xffff;
    let fl = this.peek(size, 2 * size);
    if (size === 2) fl = (this.getEflags() & ~0xffff) | (fl & 0xffff);
    const rpl = cs & 3;
    if (rpl < this.cpl) this.gp(cs & ~3);
    this.codeDescriptor(cs);
    const low = this.descLow, high = this.descHigh;
    const access = (high >> 8) & 0xff;
    const dpl = (access >> 5) & 3;
    if (access & DESC_CONFORMING ? dpl > rpl : dpl !== rpl) this.gp(cs & ~3);
    if (!(access & DESC_PRESENT)) this.raise(VEC_NP, cs & ~3);
    const oldCpl = this.cpl;
    if (rpl === this.cpl) {
      this.adjustEsp(3 * size);
      this.loadCs(cs, low, high, rpl);
      this.eip = size === 4 ? eip : eip & 0xffff;
    } else {
      const newEsp = this.peek(size, 3 * size);
      const newSs = this.peek(size, 4 * size) & 0xffff;
      this.returnToOuter(cs, low, high, rpl, size === 4 ? eip : eip & 0xffff, newSs, newEsp, size);
    }
    // Flags are written with the privilege of the IRET itself.
    const cplNow = this.cpl;
    this.cpl = oldCpl;
    this.writeEflagsChecked(fl & ~VM, size, true);
    this.cpl = cplNow;
    if (fl & RF) this.flags &= ~RF;
  }

  // ---------------------------------------------------------------- interrupts

  /**
   * Delivers an interrupt or exception through the IVT (real mode) or IDT.
   * `soft` = INT n / INT3 / INTO (gate DPL checked); errorCode < 0 = none pushed.
   */
  interrupt(vector: number, soft: boolean, errorCode: number, returnEip: number): void {
    const ext = soft ? 0 : 1;
    if (!this.protectedMode) {
      const off = this.mem.read16(this.idtBase + vector * 4);
      const seg = this.mem.read16(this.idtBase + vector * 4 + 2);
      this.materializeFlags();
      this.push(2, this.flags);
      this.push(2, this.sel[CS]!);
      this.push(2, returnEip);
      this.flags &= ~(IF | TF | AC | RF);
      this.loadRealModeSegment(CS, seg);
      this.eip = off;
      return;
    }
    if (vector * 8 + 7 > this.idtLimit) this.gp(vector * 8 + 2 + ext);
    const gateLow = this.sysRead32(this.idtBase + vector * 8);
    const gateHigh = this.sysRead32(this.idtBase + vector * 8 + 4);
    const type = (gateHigh >> 8) & 0x1f;
    const gateDpl = (gateHigh >> 13) & 3;
    if (type !== 0x0e && type !== 0x0f && type !== 0x06 && type !== 0x07) this.gp(vector * 8 + 2 + ext);
    if (soft && gateDpl < this.cpl) this.gp(vector * 8 + 2);
    if (!(gateHigh & 0x8000)) this.raise(VEC_NP, vector * 8 + 2 + ext);
    const selector = (gateLow >>> 16) & 0xffff;
    const gate32 = (type & 8) !== 0;
    const offset = gate32 ? (gateHigh & 0xffff0000) | (gateLow & 0xffff) : gateLow & 0xffff;
    if ((selector & ~3) === 0) this.gp(ext);
    if (!this.loadDescriptor(selector)) this.gp((selector & ~3) + ext);
    const low = this.descLow, high = this.descHigh;
    const access = (high >> 8) & 0xff;
    const dpl = (access >> 5) & 3;
    if ((access & (DESC_S | DESC_CODE)) !== (DESC_S | DESC_CODE) || dpl > this.cpl) this.gp((selector & ~3) + ext);
    if (!(access & DESC_PRESENT)) this.raise(VEC_NP, (selector & ~3) + ext);
    this.materializeFlags();
    const oldFlags = this.flags | 2;
    const size = gate32 ? 4 : 2;
    const frame = interruptFrame;
    let pushes = 0;
    let newCpl = this.cpl;
    let ssSel = this.sel[SS]!, ssLow = 0, ssHigh = 0, ssBase = this.segBase[SS]!, ss32 = this.stack32;
    let esp = this.reg[ESP]!;
    let switchStack = false;
    if (!(access & DESC_CONFORMING) && dpl < this.cpl) {
      // Inner privilege: stack from the TSS.
      newCpl = dpl;
      let newEsp: number, newSs: number;
      if (this.trType & 8) {
        const at = 4 + dpl * 8;
        if (at + 5 > this.trLimit) this.raise(VEC_TS, this.trSel & ~3);
        newEsp = this.sysRead32(this.trBase + at);
        newSs = this.sysRead16(this.trBase + at + 4);
      } else {
        const at = 2 + dpl * 4;
        if (at + 3 > this.trLimit) this.raise(VEC_TS, this.trSel & ~3);
        newEsp = this.sysRead16(this.trBase + at);
        newSs = this.sysRead16(this.trBase + at + 2);
      }
      if ((newSs & ~3) === 0 || (newSs & 3) !== dpl) this.raise(VEC_TS, (newSs & ~3) + ext);
      if (!this.loadDescriptor(newSs)) this.raise(VEC_TS, (newSs & ~3) + ext);
      const sLow = this.descLow, sHigh = this.descHigh;
      const sAccess = (sHigh >> 8) & 0xff;
      if ((sAccess & (DESC_S | DESC_CODE | DESC_RW)) !== (DESC_S | DESC_RW) || ((sAccess >> 5) & 3) !== dpl) {
        this.raise(VEC_TS, (newSs & ~3) + ext);
      }
      if (!(sAccess & DESC_PRESENT)) this.raise(VEC_SS, (newSs & ~3) + ext);
      frame[pushes++] = this.sel[SS]!;
      frame[pushes++] = this.reg[ESP]!;
      ssSel = newSs; ssLow = sLow; ssHigh = sHigh;
      ssBase = CPU.descriptorBase(sLow, sHigh);
      ss32 = (sHigh & 0x400000) !== 0;
      esp = newEsp;
      switchStack = true;
    }
    frame[pushes++] = oldFlags;
    frame[pushes++] = this.sel[CS]!;
    frame[pushes++] = returnEip;
    if (errorCode >= 0) frame[pushes++] = errorCode;
    // Write the whole frame before changing any state, so a fault here leaves the CPU intact.
    const user = newCpl === 3;
    let sp = esp;
    for (let i = 0; i < pushes; i++) {
      sp = ss32 ? (sp - size) | 0 : (sp - size) & 0xffff;
      this.writeLinear((ssBase + sp) | 0, size, frame[i]!, user);
      this.platformWrote((ssBase + sp) | 0, size, user);
    }
    if (switchStack) {
      this.markAccessed(ssSel, ssHigh);
      this.loadFromDescriptor(SS, ssSel, ssLow, ssHigh);
    }
    this.reg[ESP] = ss32 ? sp : (esp & ~0xffff) | sp;
    this.loadCs(selector, low, high, newCpl);
    this.eip = offset;
    this.flags &= ~(TF | NT | RF | VM);
    if (!(type & 1)) this.flags &= ~IF;
  }

  /**
   * Delivers an exception raised by the current instruction: double fault when one
   * arises while delivering another, shutdown (triple fault) when that fails too.
   */
  deliverException(vector: number, errorCode: number): void {
    if (this.shutdown) return;  // e.g. a machine check the processor could not take
    if (this.exceptionHook && this.exceptionHook(vector, errorCode)) return;
    const previous = this.delivering;
    if (previous === VEC_DF) {
      this.enterShutdown(`triple fault: ${EXCEPTION_NAMES[vector] ?? `vector ${vector}`} while delivering a double fault`);
      return;
    }
    const contributory = (v: number) => v === 0 || (v >= VEC_TS && v <= VEC_GP);
    if (previous >= 0 && ((contributory(previous) && contributory(vector)) ||
      (previous === VEC_PF && (contributory(vector) || vector === VEC_PF)))) {
      vector = VEC_DF;
      errorCode = 0;
    }
    this.delivering = vector;
    try {
      this.interrupt(vector, false, errorCode, this.eip);
    } catch (e) {
      if (e !== FAULT) throw e;
      this.deliverException(FAULT.vector, FAULT.errorCode);
    } finally {
      this.delivering = previous;
    }
  }

  enterShutdown(reason: string): void {
    this.shutdown = true;
    this.shutdownReason = reason;
    this.halted = true;
    this.eventPending = true;
  }

  /** Software interrupt INT n / INT3 / INTO / INT1, after the instruction. */
  softwareInterrupt(vector: number): void {
    const listeners = this.softwareInterruptListeners.dispatch;
    if (listeners !== null && listeners(vector) === true) return;
    this.interrupt(vector, true, -1, this.eip);
  }

  /** INT1 (ICEBP): delivered like an exception, without the gate DPL check. */
  softwareInterruptNoDpl(vector: number): void {
    this.interrupt(vector, false, -1, this.eip);
  }

  /**
   * The instruction being run (STI that sets IF, MOV SS, POP SS) inhibits interrupts until
   * after the next one. The batch ends after the next instruction so that interrupts are
   * looked at there, unless `quietSti` and interrupts are quiet: nothing can be taken
   * there then (a device that raises one calls notifyInterrupt, which ends the batch),
   * and the shadow lasts only while the count has not moved on (inShadow), for a batch
   * that ends right after this instruction.
   */
  startShadow(quietSti = false): void {
    this.shadow = true;
    this.shadowAt = this.instructionCount + 1;
    if (!quietSti || !this.interruptsQuiet) this.eventPending = true;
  }

  /**
   * The shadow an STI that set IF in a WebAssembly block started (wasm/runtime.ts), taken
   * when the CPU's fields are: `left` is the batch as it was at that STI, so the shadowed
   * instruction is the one after it, as startShadow(true) would have recorded.
   */
  startShadowAt(left: number): void {
    this.shadow = true;
    this.shadowAt = this.retired + (this.batchSize - left) + 1;
    if (!this.interruptsQuiet) this.eventPending = true;
  }

  /** IN for a block (compile.ts portIo, which has checked the privilege). */
  portIn(port: number, size: 1 | 4): number {
    return this.io.read(port, size);
  }

  /** OUT for a block (compile.ts portIo, which has checked the privilege). */
  portOut(port: number, size: 1 | 4, value: number): void {
    this.io.write(port, size, value >>> 0);
  }

  /** Whether the interrupt controllers have said they have nothing to deliver (see startShadow). */
  get interruptsAreQuiet(): boolean {
    return this.interruptsQuiet;
  }

  /** STI: IF set (the caller checked the privilege); if it was clear, the next instruction is shadowed. */
  sti(): void {
    if (this.flags & IF) return;
    this.flags |= IF;
    this.startShadow(true);
  }

  /** Whether the next instruction is in an interrupt shadow (one set and not yet run past). */
  private inShadow(): boolean {
    if (this.shadow && this.instructionCount !== this.shadowAt) this.shadow = false;
    return this.shadow;
  }

  /** The interrupt controller raised or lowered its line: re-check before the next instruction. */
  notifyInterrupt(): void {
    this.interruptsQuiet = false;
    this.eventPending = true;
  }

  requestStop(): void {
    this.stopRequested = true;
    this.eventPending = true;
  }

  /** Stops the run for the host if its deadline has passed (see hostDeadline). */
  yieldIfLate(): void {
    if (this.hostDeadline !== Infinity && performance.now() > this.hostDeadline) {
      this.yielded = true;
      this.requestStop();
    }
  }

  // ---------------------------------------------------------------- I/O privilege

  /** In protected mode with CPL > IOPL, the TSS I/O bitmap must allow every port. */
  checkIo(port: number, size: number): void {
    if (!this.protectedMode || this.cpl <= ((this.flags & IOPL) >> 12)) return;
    if ((this.trType & 8) === 0 || this.trLimit < 0x67) this.gp(0);
    const mapBase = this.sysRead16(this.trBase + 0x66);
    const at = mapBase + (port >>> 3);
    if (at + 1 > this.trLimit) this.gp(0);
    const bits = this.sysRead16(this.trBase + at);
    if ((bits >> (port & 7)) & ((1 << size) - 1)) this.gp(0);
  }

  // ---------------------------------------------------------------- control registers

  setCr0(v: number): void {
    v |= CR0_ET;
    if (v & CR0_PG && !(v & CR0_PE)) this.gp(0);
    const changed = (this.cr0 ^ v);
    this.cr0 = v | 0;
    if (changed & (CR0_PG | CR0_WP | CR0_PE)) this.flushTlb();
  }
  setCr3(v: number): void {
    this.cr3 = v | 0;
    if (this.cr4 & CR4_PGE) this.flushNonGlobal();
    else this.flushTlb();
    this.cr3Listeners.dispatch?.(this.cr3 >>> 0);
  }
  setCr4(v: number): void {
    if (v & ~CR4_SUPPORTED) this.gp(0);
    if ((this.cr4 ^ v) & (CR4_PSE | CR4_PGE)) this.flushTlb();
    this.cr4 = v | 0;
  }

  // ---------------------------------------------------------------- run loop

  /** Instructions retired so far (an instruction that faults counts). */
  get instructionCount(): number {
    return this.retired + (this.batchSize - this.batchLeft);
  }
  set instructionCount(n: number) {
    this.retired = n - (this.batchSize - this.batchLeft);
  }

  /** Runs one instruction: the interpreter (execute.ts), attached to the prototype below the class. */
  declare step: () => void;

  /**
   * Runs up to `budget` instructions. Returns how many ran; stops early on HLT with no
   * interrupt to take, on shutdown, or on requestStop().
   */
  run(budget: number): number {
    if (this.debug !== null) budget = this.debug.budget(budget);
    const start = this.instructionCount;
    const end = start + budget;
    this.stopRequested = false;
    while (this.instructionCount < end && !this.stopRequested) {
      this.eventPending = false;
      if (this.shutdown) break;
      if (this.inShadow()) {
        // A batch ended (its budget, a single step) right after STI, MOV SS or POP SS:
        // the shadowed instruction runs first, alone (see stepShadowed).
        this.runBatch(1);
        this.shadow = false;
        continue;
      }
      // Interrupts are recognised here, at the end of every batch; a batch ends right after
      // any instruction that may have made one deliverable (eventPending).
      if (this.flags & IF && !this.interruptsQuiet) {
        if (this.interruptSource?.hasInterrupt()) {
          if (this.interruptHold !== null && this.interruptHold(this.eip)) {
            this.runBatch(1);
            continue;
          }
          this.halted = false;
          const vector = this.interruptSource.acknowledge();
          this.interruptsTaken++;
          this.runGuarded(() => this.interrupt(vector, false, -1, this.eip));
          // Whether the source holds another one now; if not, it is quiet until it signals
          // (notifyInterrupt), and the handler's way back to IF set (iret, sti) need not end
          // a batch only to find nothing: one such batch end for every interrupt before
          // (62,600 in a usertests run).
          this.interruptsQuiet = !this.interruptSource.hasInterrupt();
          if (this.debug !== null && this.debug.stop !== null) break;  // a watchpoint on the interrupt's stack frame
        } else {
          this.interruptsQuiet = true;
        }
      }
      if (this.halted) break;
      this.runBatch(Math.min(end - this.instructionCount, 0x40000000));
    }
    if (this.debug !== null) this.debug.ran();
    return this.instructionCount - start;
  }

  /** A debugger attaches (its breakpoints and watchpoints start empty). */
  attachDebugger(): DebugTraps {
    this.debug ??= new DebugTraps(this);
    return this.debug;
  }

  /** The debugger is gone: every page runs at full speed again. */
  detachDebugger(): void {
    this.debug?.clear();
    this.debug = null;
    this.flushTlb();
  }

  private runGuarded(action: () => void): void {
    try {
      action();
    } catch (e) {
      if (e !== FAULT) throw e;
      this.deliverException(FAULT.vector, FAULT.errorCode);
    }
  }

  /** Runs up to `size` instructions (stopping early when an event is pending). */
  private runBatch(size: number): void {
    this.batchSize = this.batchLeft = size;
    try {
      if (this.flags & TF) {
        // Single-step: one instruction, then #DB (a trap: EIP after the instruction).
        this.startEip = this.eip;
        this.step();
        this.batchLeft--;
        this.dr[6] |= 0x4000;
        this.interrupt(1, false, -1, this.eip);
        return;
      }
      this.runInstructions();
    } catch (e) {
      this.resetPrefixes();
      this.eip = this.startEip;
      if (e === DEBUG_BREAK) return;  // a debugger stops before this instruction: none of it ran
      if (e !== FAULT) throw e;
      this.batchLeft--;
      this.deliverException(FAULT.vector, FAULT.errorCode);
    } finally {
      this.retired += this.batchSize - this.batchLeft;
      this.batchSize = this.batchLeft = 0;
      this.blocks.wasm?.tick();
    }
  }

  /**
   * The batch's loop: compiled blocks where there are, else the interpreter, until the
   * batch is used up or an event is pending. A fault leaves by the exception, caught in
   * runBatch: the loop has no handler of its own, so V8 keeps it optimised (a handler in
   * the loop's function, entered at every guest fault, threw its optimised code away
   * each time: 343 deoptimisations in one usertests run).
   */
  private runInstructions(): void {
    const blocks = this.blocks;
    // The block run last; its `next` is what find would most likely return now.
    let last: Block | null = null;
    for (;;) {
      if (this.flat) {
        // Compiled tier: the block at this address, if it fits in what is left of the batch.
        const eip = this.eip;
        let t = this.tlbR[eip >>> 12]!;
        if ((t & 1) !== 0 && this.debug === null) {
          // Not in the TLB (after a CR3 load, about 6 times each): the walk the
          // interpreter's fetch would make, then the block; a fault is the fetch's.
          this.startEip = eip;
          this.translate(eip, false, this.cpl === 3);
          t = this.tlbR[eip >>> 12]!;
        }
        if ((t & 1) === 0) {
          const host = t ^ eip;
          // A live block at this host and linear address is the one find would return.
          let block: Block | null = last === null ? null : last.next;
          if (block === null || !block.live || block.eip !== eip || block.host !== host) {
            block = blocks.find(host, eip);
            if (last !== null) last.next = block;
          }
          if (block !== null && block.pass <= this.batchLeft) {
            last = block;
            this.codeChanged = false;
            // A translated block: the WebAssembly tier's own dispatch loop runs it and what
            // follows while it finds translated blocks (src/cpu/wasm/tier.ts).
            if (blocks.wasm !== null && block.wasm) {
              blocks.wasm.dispatch();
              last = null;
            } else block.run(this);
            if (this.stepNext === 0) {
              if (this.batchLeft === 0) return;
              if (this.eventPending) {
                if (this.inShadow()) this.stepShadowed();
                return;
              }
              continue;
            }
            // The block left before an instruction its fast paths could not make (compile.ts
            // leaveBefore): the interpreter runs it now, as it would have in the block.
            this.stepNext = 0;
            if (this.batchLeft === 0) return;
          }
          // A block waiting for its WebAssembly module, needed now: the interpreter runs it meanwhile.
          else if (block !== null && block.pass === WAITING && blocks.wasm !== null) blocks.wasm.needed();
        }
      }
      last = null;
      this.startEip = this.eip;
      this.step();
      if (--this.batchLeft === 0) return;
      if (this.eventPending) {
        if (this.inShadow()) this.stepShadowed();
        return;
      }
    }
  }

  /**
   * Runs up to `n` instructions from EIP for a block, as the block would run each in place
   * (compile.ts InPlaceGroup): `lengths` packs each one's length, 4 bits each, the first
   * lowest. Before each, startEip is its start; after each, the batch has one instruction
   * less (so a fault is the faulting instruction's, as the dispatcher's would be); it stops
   * after one that did not fall through, made an event pending, changed compiled code or
   * left flat mode. Returns how many ran.
   */
  stepRun(lengths: number, n: number): number {
    for (let k = 0; k < n; k++) {
      const at = this.eip;
      this.startEip = at;
      this.step();
      this.batchLeft--;
      if (this.eip !== ((at + ((lengths >>> (4 * k)) & 15)) | 0) || this.eventPending || this.codeChanged || !this.flat) return k + 1;
    }
    return n;
  }

  /**
   * The instruction after STI (IF 0 -> 1), MOV SS or POP SS, with interrupts inhibited;
   * the batch ends after it, so they are looked at right there. A shadow it starts itself
   * is not honoured: after STI; MOV SS, AX an interrupt is taken before the next
   * instruction, as the SDM allows and QEMU does. (Called with room left in the batch.)
   */
  private stepShadowed(): void {
    this.shadow = false;
    this.startEip = this.eip;
    this.step();
    this.shadow = false;
    this.batchLeft--;
  }

  /** Back to no prefixes: the operand and address size of the code segment. */
  resetPrefixes(): void {
    this.opsize32 = this.code32;
    this.adsize32 = this.code32;
    this.segOv = -1;
    this.rep = 0;
    this.lock = false;
  }

  /** Time stamp counter: one tick per instruction (deterministic). */
  readTsc(): number {
    return this.instructionCount + this.tscOffset;
  }

  // ---------------------------------------------------------------- state

  saveState(): CpuSnapshot {
    return {
      regs: Array.from(this.reg), eip: this.eip, eflags: this.getEflags(), cpl: this.cpl,
      sel: Array.from(this.sel), base: Array.from(this.segBase), limit: Array.from(this.segLimit),
      access: Array.from(this.segAccess), big: Array.from(this.segBig),
      cr0: this.cr0, cr2: this.cr2, cr3: this.cr3, cr4: this.cr4,
      gdt: [this.gdtBase, this.gdtLimit], idt: [this.idtBase, this.idtLimit],
      ldtr: [this.ldtSel, this.ldtBase, this.ldtLimit], tr: [this.trSel, this.trBase, this.trLimit, this.trType],
      dr: Array.from(this.dr), halted: this.halted, shadow: this.inShadow(),
      instructionCount: this.instructionCount, tsc: this.tscOffset, fpu: this.fpu.save(),
    };
  }

  restoreState(s: CpuSnapshot): void {
    this.reg.set(s.regs);
    this.eip = s.eip;
    this.flags = s.eflags | 2;
    this.lfOp = OP_NONE;
    for (let i = 0; i < 6; i++) this.setSegmentCache(i, s.sel[i]!, s.base[i]!, s.limit[i]!, s.access[i]!, s.big[i]!);
    this.cr0 = s.cr0; this.cr2 = s.cr2; this.cr3 = s.cr3; this.cr4 = s.cr4;
    [this.gdtBase, this.gdtLimit] = s.gdt;
    [this.idtBase, this.idtLimit] = s.idt;
    [this.ldtSel, this.ldtBase, this.ldtLimit] = s.ldtr;
    [this.trSel, this.trBase, this.trLimit, this.trType] = s.tr;
    this.dr.set(s.dr);
    this.fpu.restore(s.fpu);
    this.halted = s.halted;
    this.shadow = s.shadow;
    this.shutdown = false;
    this.instructionCount = s.instructionCount;
    this.shadowAt = s.instructionCount;
    this.tscOffset = s.tsc;
    this.setCpl(s.cpl);
    this.flushTlb();
    this.blocks.clear();
    this.interruptsQuiet = false;
    this.eventPending = true;
  }

  /** A one-screen description of the processor state, for error messages. */
  describe(): string {
    const hex = (v: number) => (v >>> 0).toString(16).padStart(8, '0');
    const regs = REGISTER_NAMES.map((n, i) => `${n}=${hex(this.reg[i]!)}`).join(' ');
    const segs = SEGMENT_NAMES.map((n, i) => `${n}=${(this.sel[i]! & 0xffff).toString(16).padStart(4, '0')}`).join(' ');
    return `eip=${hex(this.eip)} eflags=${hex(this.getEflags())} cpl=${this.cpl}\n${regs}\n${segs}\n` +
      `cr0=${hex(this.cr0)} cr2=${hex(this.cr2)} cr3=${hex(this.cr3)} cr4=${hex(this.cr4)}`;
  }

  /** Reads `length` bytes at a linear address for diagnostics; unmapped bytes are null. */
  peekLinear(lin: number, length: number): Array<number | null> {
    const out: Array<number | null> = [];
    const cr2 = this.cr2;
    for (let i = 0; i < length; i++) {
      try {
        out.push(this.readLinear((lin + i) | 0, 1, false));
      } catch (e) {
        if (e !== FAULT) throw e;
        out.push(null);
      }
    }
    this.cr2 = cr2;
    return out;
  }
}

// The interpreter is a plain function in execute.ts (which imports only CPU's type back),
// attached once here so that every CPU, however this module is imported, can run.
CPU.prototype.step = step;
