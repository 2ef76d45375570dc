/**
 * Expansion: each original instruction becomes a group of items — optional code before it
 * (call: the mirror of the return address; rep string ops: saved registers), the original
 * instruction itself, and the mirror sequence after it (reference §4.5). Inserted code
 * uses only mov, lea, push/pop of registers and replayed rep stos/movs, so EFLAGS are
 * never touched.
 *
 * Scratch registers are saved either in the spill page (`spill`: user programs, which are
 * never re-entered) or on the stack (`stack`: code that interrupts re-enter, a kernel).
 * A stack save is a push and its mirror store, so the stack's twin stays equal; an
 * interrupt pushes below it, never over it (docs/system-mode.md §5).
 */
import { Code, Instruction, MemoryOperand, Register, fullGpr32, subRegister } from './iced.js';
import type { Item } from './layout.js';
import { classify, type Classification, type ClassifyOptions, type Template, type WrittenMemory } from './classify.js';
import { refuseInstruction, type CodeModel } from './discover.js';

/** Spill slots (dwords) at the start of the translated segment; see README.md. */
export const SPILL_SLOTS = 16;

/** Where mirror sequences keep scratch registers. */
export type Scratch = 'spill' | 'stack';

export interface RewriteOptions {
  offset: number;
  /** The spill page (scratch 'spill' only). */
  spillBase: number;
  scratch: Scratch;
  /** Test-only: templates whose mirror sequence is left out (mutation tests). */
  disabledTemplates?: ReadonlySet<Template>;
  /** --linux-stub --check-at-exit: each `int $0x80` becomes a call to the syscall hook. */
  hookSyscalls?: boolean;
  /** Templates of the address-map mode (FS/GS stores, DF-agnostic string stores). */
  classify?: ClassifyOptions;
}

export interface Rewritten {
  items: Item[];
  /** Item index of each original instruction's group start. */
  groupStart: number[];
  /** Writers by template, and instructions refused (always empty: refusals throw). */
  writers: Map<string, number>;
  /** Device-register stores left without a mirror (listed in .memvisor.nomirror). */
  unmirrored: number;
  /** Per group with a store pair: the items of its first and last store (the pair is open in between). */
  pairs: Array<[first: number, last: number]>;
  /** Items that call the syscall hook; their branchTo is set by the caller. */
  syscallCalls: number[];
}

const MOV_STORE: Record<number, number> = { 1: Code.Mov_rm8_r8, 2: Code.Mov_rm16_r16, 4: Code.Mov_rm32_r32 };
const MOV_LOAD: Record<number, number> = { 1: Code.Mov_r8_rm8, 2: Code.Mov_r16_rm16, 4: Code.Mov_r32_rm32 };

function memory(base: number, index: number, scale: number, displacement: number, segment: number = Register.None): MemoryOperand {
  return new MemoryOperand(base, index, scale, BigInt(displacement >>> 0), 4, false, segment);
}

/** Builds the mirror code for one classification. */
class Emitter {
  constructor(private readonly items: Item[], private readonly options: RewriteOptions) {}

  private add(instruction: Instruction, extra: Partial<Item> = {}): number {
    this.items.push({ instruction, role: 'inserted', ...extra });
    return this.items.length - 1;
  }
  private get stack(): boolean {
    return this.options.scratch === 'stack';
  }
  slot(n: number): MemoryOperand {
    return memory(Register.None, Register.None, 1, this.options.spillBase + 4 * n);
  }
  store(mem: MemoryOperand, register: number, size = 4): void {
    this.add(Instruction.createMemReg(MOV_STORE[size]!, mem, register), { writes: true });
  }
  load(register: number, mem: MemoryOperand, size = 4): void {
    this.add(Instruction.createRegMem(MOV_LOAD[size]!, register, mem));
  }
  lea(register: number, mem: MemoryOperand): void {
    this.add(Instruction.createRegMem(Code.Lea_r32_m, register, mem));
  }
  storeImmediate(mem: MemoryOperand, value: number, immediateTo?: number): void {
    this.add(Instruction.createMemU32(Code.Mov_rm32_imm32, mem, value >>> 0), { writes: true, ...(immediateTo === undefined ? {} : { immediateTo }) });
  }
  /** Saves a register on the stack, mirrored like any push (stack scratch). */
  push(register: number): void {
    this.add(Instruction.createReg(Code.Push_r32, register), { writes: true });
    this.store(memory(Register.ESP, Register.None, 1, this.options.offset), register);
  }
  pop(register: number): void {
    this.add(Instruction.createReg(Code.Pop_r32, register));
  }
  /** Drops `bytes` of saved values from the stack (lea: no flags). */
  drop(bytes: number): void {
    this.lea(Register.ESP, memory(Register.ESP, Register.None, 1, bytes));
  }
  /** Moves `size` bytes from `from(k)` to `to(k)` through `scratch`, in 4/2/1-byte pieces. */
  chunks(size: number, scratch: number, from: (k: number) => MemoryOperand, to: (k: number) => MemoryOperand): void {
    for (let k = 0; k < size;) {
      const piece = size - k >= 4 ? 4 : size - k >= 2 ? 2 : 1;
      const part = subRegister(scratch, piece);
      this.load(part, from(k), piece);
      this.store(to(k), part, piece);
      k += piece;
    }
  }
  /** copy(m, size): the bytes now at m, again at m+OFFSET (scratch saved in S0, or pushed). */
  copy(m: WrittenMemory, size: number): void {
    const used = [fullGpr32(m.base), fullGpr32(m.index)];
    const scratch = [Register.EAX, Register.ECX, Register.EDX, Register.EBX].find((r) => !used.includes(r))!;
    const offset = this.options.offset;
    // A pushed scratch moves ESP: an %esp-based operand is 4 bytes further up.
    const moved = this.stack && fullGpr32(m.base) === Register.ESP ? 4 : 0;
    if (this.stack) this.push(scratch);
    else this.store(this.slot(0), scratch);
    this.chunks(size, scratch, (k) => memory(m.base, m.index, m.scale, m.displacement + moved + k, m.segment),
      (k) => memory(m.base, m.index, m.scale, m.displacement + moved + offset + k, m.segment));
    if (this.stack) this.pop(scratch);
    else this.load(scratch, this.slot(0));
  }
  /** Before a rep string writer: its destination and count, as they are before it runs. */
  saveStringStart(): void {
    if (this.stack) {
      this.push(Register.EDI);
      this.push(Register.ECX);
    } else {
      this.store(this.slot(1), Register.EDI);
      this.store(this.slot(2), Register.ECX);
    }
  }
  /**
   * After a rep string writer: the destination range it wrote, copied again at +OFFSET by
   * `replay` (the same rep stos, or a rep movs from the native destination), with every
   * register the replay uses restored afterwards.
   */
  replayAtMirror(replay: Instruction, fromNative: boolean): void {
    const offset = this.options.offset;
    if (this.stack) {
      // Stack, top first: [ECX, EDI, (ESI,)] as they are now, then ECX, EDI as they were.
      if (fromNative) this.push(Register.ESI);
      this.push(Register.EDI);
      this.push(Register.ECX);
      const before = fromNative ? 12 : 8;
      const start = fromNative ? Register.ESI : Register.EDI;
      this.load(start, memory(Register.ESP, Register.None, 1, before + 4));
      this.lea(Register.EDI, memory(start, Register.None, 1, offset));
      this.load(Register.ECX, memory(Register.ESP, Register.None, 1, before));
      this.add(replay, { writes: true });
      this.pop(Register.ECX);
      this.pop(Register.EDI);
      if (fromNative) this.pop(Register.ESI);
      this.drop(8);
      return;
    }
    if (fromNative) this.store(this.slot(5), Register.ESI);
    this.store(this.slot(3), Register.EDI);
    this.store(this.slot(4), Register.ECX);
    const start = fromNative ? Register.ESI : Register.EDI;
    this.load(start, this.slot(1));
    this.lea(Register.EDI, memory(start, Register.None, 1, offset));
    this.load(Register.ECX, this.slot(2));
    this.add(replay, { writes: true });
    if (fromNative) this.load(Register.ESI, this.slot(5));
    this.load(Register.EDI, this.slot(3));
    this.load(Register.ECX, this.slot(4));
  }
  /** Before a writer that changes its own address registers: remember the address in S6. */
  saveAddress(m: WrittenMemory): void {
    const used = [fullGpr32(m.base), fullGpr32(m.index)];
    const scratch = [Register.EAX, Register.ECX, Register.EDX, Register.EBX].find((r) => !used.includes(r))!;
    this.store(this.slot(0), scratch);
    this.lea(scratch, memory(m.base, m.index, m.scale, m.displacement));
    this.store(this.slot(6), scratch);
    this.load(scratch, this.slot(0));
  }
  /** After it: copy through the saved address (ESI = address, EAX = data). */
  copyViaSavedAddress(size: number): void {
    const offset = this.options.offset;
    this.store(this.slot(0), Register.ESI);
    this.store(this.slot(1), Register.EAX);
    this.load(Register.ESI, this.slot(6));
    this.chunks(size, Register.EAX, (k) => memory(Register.ESI, Register.None, 1, k),
      (k) => memory(Register.ESI, Register.None, 1, offset + k));
    this.load(Register.EAX, this.slot(1));
    this.load(Register.ESI, this.slot(0));
  }
  /** A clone of `original` with its memory operand moved by OFFSET (forced disp32). */
  duplicateAtMirror(original: Instruction, extra: Partial<Item>): void {
    const clone = original.clone();
    clone.memoryDisplSize = 4;
    clone.memoryDisplacement = BigInt.asUintN(32, original.memoryDisplacement + BigInt(this.options.offset));
    this.add(clone, { writes: true, ...extra });
  }
}

/** `rep movs` of each element size: the copy that mirrors what `rep ins` brought in. */
const REP_MOVS: Record<number, () => Instruction> = {
  1: () => Instruction.createRepMovsb(32), 2: () => Instruction.createRepMovsw(32), 4: () => Instruction.createRepMovsd(32),
};

const STOS_REGISTER: Record<number, number> = { 1: Register.AL, 2: Register.AX, 4: Register.EAX };

export function rewrite(model: CodeModel, options: RewriteOptions): Rewritten {
  const items: Item[] = [];
  const groupStart: number[] = [];
  const writers = new Map<string, number>();
  const syscallCalls: number[] = [];
  const emit = new Emitter(items, options);
  const offset = options.offset;
  const disabled = options.disabledTemplates ?? new Set<Template>();
  const pairs: Rewritten['pairs'] = [];
  let unmirrored = 0;
  // Branch targets and code pointers are recorded as original indexes first, then mapped.
  const pendingBranch: Array<[number, number]> = [];
  const pendingImmediate: Array<[number, number]> = [];

  model.instructions.forEach((code, index) => {
    const instruction = code.instruction;
    const classification: Classification = classify(instruction, options.classify);
    if (classification.template === 'refuse') refuseInstruction(model.elf, code, classification.reason);
    const template = classification.template;
    const device = model.unmirroredStores.has(code.address);
    if (device && template !== 'store') refuseInstruction(model.elf, code, 'listed in .memvisor.nomirror, but not a plain store');
    if (options.scratch === 'stack' && template === 'copyViaAddress') {
      refuseInstruction(model.elf, code, 'a writer that changes its own address registers has no template with --scratch stack');
    }
    if (device) unmirrored++;
    else if (template) writers.set(template, (writers.get(template) ?? 0) + 1);
    const mirror = template !== null && !disabled.has(template) && !device;
    const groupFirst = items.length;
    groupStart.push(items.length);
    const codePointer = code.immediateCodePointer;
    const immediateIndex = codePointer === undefined ? undefined : model.indexByAddress.get(codePointer)!;

    const isSyscall = instruction.code === Code.Int_imm8 && instruction.immediate8 === 0x80 && options.hookSyscalls === true;

    // Code before the original.
    if (template === 'call' || isSyscall) {
      // The mirror of the return address the call is about to push (address of the next item).
      if (mirror || isSyscall) emit.storeImmediate(memory(Register.ESP, Register.None, 1, offset - 4), 0, -1);
    } else if (mirror && (template === 'repStos' || template === 'repMovs' || template === 'repIns')) {
      emit.saveStringStart();
    } else if (mirror && template === 'copyViaAddress') {
      emit.saveAddress(classification.memory!);
    }
    const returnAddressStore = (template === 'call' && mirror) || isSyscall ? items.length - 1 : -1;

    // The original.
    const originalItem = items.length;
    if (isSyscall) {
      items.push({ instruction: Instruction.createBranch(Code.Call_rel32_32, 0n), role: 'original', origin: index, branchTo: -1 });
      syscallCalls.push(originalItem);
    } else {
      items.push({ instruction: instruction.clone(), role: 'original', origin: index, writes: template !== null,
        ...(code.imageEndImmediate ? { immediateToEnd: true } : {}) });
    }
    if (returnAddressStore >= 0) items[returnAddressStore]!.immediateTo = originalItem + 1;
    if (code.branchTarget !== undefined) pendingBranch.push([originalItem, model.indexByAddress.get(code.branchTarget)!]);
    if (immediateIndex !== undefined) pendingImmediate.push([originalItem, immediateIndex]);

    if (mirror && template !== 'call') {
      const c = classification as Extract<Classification, { size: number }>;
      switch (template) {
        case 'store':
          emit.duplicateAtMirror(instruction, code.imageEndImmediate ? { immediateToEnd: true } : {});
          if (immediateIndex !== undefined) pendingImmediate.push([items.length - 1, immediateIndex]);
          break;
        case 'copy':
        case 'popMem':
          emit.copy(c.memory!, c.size);
          break;
        case 'copyViaAddress':
          emit.copyViaSavedAddress(c.size);
          break;
        case 'pushReg':
          emit.store(memory(Register.ESP, Register.None, 1, offset), c.register!);
          break;
        case 'pushImm':
          emit.storeImmediate(memory(Register.ESP, Register.None, 1, offset), c.immediate!);
          if (immediateIndex !== undefined) pendingImmediate.push([items.length - 1, immediateIndex]);
          if (code.imageEndImmediate) items[items.length - 1]!.immediateToEnd = true;
          break;
        case 'pushOther':
          emit.copy({ base: Register.ESP, index: Register.None, scale: 1, displacement: 0, size: c.size }, c.size);
          break;
        case 'stos':
          emit.store(memory(Register.EDI, Register.None, 1, offset - c.size), STOS_REGISTER[c.size]!, c.size);
          break;
        case 'movs':
          emit.copy({ base: Register.EDI, index: Register.None, scale: 1, displacement: -c.size >>> 0, size: c.size }, c.size);
          break;
        case 'repStos':
          emit.replayAtMirror(instruction.clone(), false);
          break;
        case 'repMovs':
          emit.replayAtMirror(instruction.clone(), true);
          break;
        case 'repIns':
          emit.replayAtMirror(REP_MOVS[c.size]!(), true);
          break;
      }
    }
    // The pair is open from the group's first store to its last.
    const stores: number[] = [];
    for (let i = groupFirst; i < items.length; i++) if (items[i]!.writes) stores.push(i);
    if (stores.length >= 2) pairs.push([stores[0]!, stores[stores.length - 1]!]);
  });
  for (const [item, target] of pendingBranch) items[item]!.branchTo = groupStart[target]!;
  for (const [item, target] of pendingImmediate) items[item]!.immediateTo = groupStart[target]!;
  return { items, groupStart, writers, unmirrored, pairs, syscallCalls };
}
