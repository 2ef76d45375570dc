/**
 * Which rewriting template (reference §4.5) each instruction needs. The facts come from
 * iced-x86's instruction info (written memory, written registers, flags, FPU top); the
 * exceptions are kept as small tables here.
 */
import {
  FlowControl, InstructionInfoFactory, MemorySizeExt, Mnemonic, OpAccess, OpKind, Register, RegisterExt,
  fullGpr32, type Instruction,
} from './iced.js';

/** The templates; each can be switched off by the mutation tests. */
export const TEMPLATES = [
  'store', 'copy', 'copyViaAddress', 'popMem', 'pushReg', 'pushImm', 'pushOther', 'call', 'stos', 'movs', 'repStos', 'repMovs',
  'repIns',
] as const;
export type Template = (typeof TEMPLATES)[number];

/** The memory operand an instruction writes (explicit or implicit). */
export interface WrittenMemory {
  base: number;
  index: number;
  scale: number;
  /** Zero-extended 32-bit displacement. */
  displacement: number;
  size: number;
  /** FS or GS when the store goes through that segment (only with ClassifyOptions.segmentStores). */
  segment?: number;
}

/** Templates only the address-map mode (addressMap.ts) enables. */
export interface ClassifyOptions {
  /** FS/GS stores (glibc's TLS: errno, stack guard) are mirrored at the same segment, offset + OFFSET. */
  segmentStores?: boolean;
  /** The program sets DF (std): single stos/movs/ins record their address before they run, whichever way they go. */
  directionAgnostic?: boolean;
}

export type Classification =
  | { template: null }
  | { template: Template; memory?: WrittenMemory; size: number; register?: number; immediate?: number }
  | { template: 'refuse'; reason: string };

const WRITE_ACCESS = new Set<number>([OpAccess.Write, OpAccess.CondWrite, OpAccess.ReadWrite, OpAccess.ReadCondWrite]);

/** Stores that look pure to iced but change processor state (fnsave re-initialises the FPU). */
const STATEFUL_STORES = new Set<number>([
  Mnemonic.Fnsave, Mnemonic.Fsave, Mnemonic.Fnstenv, Mnemonic.Fstenv, Mnemonic.Fxsave, Mnemonic.Xsave, Mnemonic.Xsaveopt,
  Mnemonic.Xsavec, Mnemonic.Xsaves,
]);
/** Writers iced describes incompletely, or that need templates we do not have. */
const REFUSED: Map<number, string> = new Map([
  [Mnemonic.Std, 'std sets the direction flag; the mirror sequences assume DF=0 (SysV ABI)'],
  [Mnemonic.Enter, 'enter writes a frame iced describes only partly; compile without it'],
  [Mnemonic.Maskmovq, 'masked store to (%edi): not supported'],
  [Mnemonic.Maskmovdqu, 'masked store to (%edi): not supported'],
  [Mnemonic.Vmaskmovdqu, 'masked store to (%edi): not supported'],
]);

const STRING_TEMPLATES: Map<number, { rep: Template; single: Template; size: number }> = new Map([
  [Mnemonic.Stosb, { rep: 'repStos', single: 'stos', size: 1 }],
  [Mnemonic.Stosw, { rep: 'repStos', single: 'stos', size: 2 }],
  [Mnemonic.Stosd, { rep: 'repStos', single: 'stos', size: 4 }],
  [Mnemonic.Movsb, { rep: 'repMovs', single: 'movs', size: 1 }],
  [Mnemonic.Movsw, { rep: 'repMovs', single: 'movs', size: 2 }],
  [Mnemonic.Movsd, { rep: 'repMovs', single: 'movs', size: 4 }],
  // Port input: the port is read once; the mirror is a memory-to-memory copy afterwards
  // (one element: the same copy of [EDI - size] as after a movs).
  [Mnemonic.Insb, { rep: 'repIns', single: 'movs', size: 1 }],
  [Mnemonic.Insw, { rep: 'repIns', single: 'movs', size: 2 }],
  [Mnemonic.Insd, { rep: 'repIns', single: 'movs', size: 4 }],
]);

const infoFactory = new InstructionInfoFactory();

function is16BitRegister(register: number): boolean {
  return register !== Register.None && RegisterExt.size(register) === 2;
}

export function classify(instruction: Instruction, options: ClassifyOptions = {}): Classification {
  const refusal = REFUSED.get(instruction.mnemonic);
  if (refusal && !(options.directionAgnostic && instruction.mnemonic === Mnemonic.Std)) return { template: 'refuse', reason: refusal };
  const info = infoFactory.info(instruction);
  const written: WrittenMemory[] = [];
  let writesNonFlatSegment = false;
  let writtenSegment: number | undefined;
  for (const used of info.usedMemory()) {
    if (WRITE_ACCESS.has(used.access)) {
      if (is16BitRegister(used.base) || is16BitRegister(used.index)) return { template: 'refuse', reason: '16-bit addressing store' };
      if (used.segment !== Register.DS && used.segment !== Register.SS && used.segment !== Register.ES) {
        if (options.segmentStores && (used.segment === Register.FS || used.segment === Register.GS)) writtenSegment = used.segment;
        else writesNonFlatSegment = true;
      }
      written.push({
        base: used.base, index: used.index, scale: used.scale,
        displacement: Number(BigInt.asUintN(32, used.displacement)), size: MemorySizeExt.size(used.memorySize),
      });
    }
    used.free();
  }
  const writtenGprs = new Set<number>();
  for (const used of info.usedRegisters()) {
    if (WRITE_ACCESS.has(used.access)) {
      const full = fullGpr32(used.register);
      if (full !== Register.None) writtenGprs.add(full);
    }
    used.free();
  }
  info.free();

  const flow = instruction.flowControl;
  if (flow === FlowControl.Call || flow === FlowControl.IndirectCall) {
    if (!instruction.isCallNear && !instruction.isCallNearIndirect) return { template: 'refuse', reason: 'far call' };
    if (instruction.hasSegmentPrefix && instruction.op0Kind !== OpKind.Memory) return { template: 'refuse', reason: 'segment-prefixed call' };
    return { template: 'call', size: 4 };
  }
  if (written.length === 0) return { template: null };
  // With segmentStores, an FS/GS store (or a push whose source has a prefix) is allowed; a string instruction never.
  const prefixAllowed = options.segmentStores === true && !instruction.isStringInstruction;
  if ((instruction.hasSegmentPrefix && !prefixAllowed) || writesNonFlatSegment) {
    return { template: 'refuse', reason: 'segment-prefixed store (only flat DS/ES/SS stores can be mirrored)' };
  }
  for (let op = 0; op < instruction.opCount; op++) {
    const kind = instruction.opKind(op);
    if (kind === OpKind.MemorySegDI || kind === OpKind.MemorySegSI || kind === OpKind.MemoryESDI) {
      return { template: 'refuse', reason: '16-bit addressing store' };
    }
  }

  const stringForm = STRING_TEMPLATES.get(instruction.mnemonic);
  if (instruction.isStringInstruction) {
    if (!stringForm) return { template: 'refuse', reason: 'string instruction that writes memory and has no template' };
    const rep = instruction.hasRepPrefix || instruction.hasRepnePrefix;
    if (!rep && options.directionAgnostic) {
      return { template: 'copyViaAddress', size: stringForm.size, memory: { base: Register.EDI, index: Register.None, scale: 1, displacement: 0, size: stringForm.size } };
    }
    return { template: rep ? stringForm.rep : stringForm.single, size: stringForm.size };
  }

  if (instruction.mnemonic === Mnemonic.Push) {
    const size = -instruction.stackPointerIncrement;
    const kind = instruction.op0Kind;
    if (size === 4 && kind === OpKind.Register && RegisterExt.size(instruction.op0Register) === 4 && instruction.op0Register !== Register.ESP) {
      return { template: 'pushReg', size, register: instruction.op0Register };
    }
    if (size === 4 && (kind === OpKind.Immediate32 || kind === OpKind.Immediate8to32)) {
      const immediate = kind === OpKind.Immediate32 ? instruction.immediate32 >>> 0 : instruction.immediate8to32 >>> 0;
      return { template: 'pushImm', size, immediate };
    }
    return { template: 'pushOther', size };
  }
  if (instruction.isStackInstruction) {
    if (instruction.mnemonic === Mnemonic.Pop && instruction.op0Kind === OpKind.Memory) {
      // iced reports pop's destination relative to ESP before the pop; the operand itself is
      // evaluated after ESP += 4, which is also when the copy runs.
      return { template: 'popMem', size: written[0]!.size, memory: explicitMemory(instruction, written[0]!.size) };
    }
    if (instruction.stackPointerIncrement < 0 && written.every((m) => m.base === Register.ESP)) {
      // pushf, pusha, push segment register, ...: the bytes just below the old ESP.
      return { template: 'pushOther', size: -instruction.stackPointerIncrement };
    }
    return { template: 'refuse', reason: 'stack instruction that writes memory and has no template' };
  }
  if (written.length !== 1) return { template: 'refuse', reason: 'writes several memory operands' };
  const explicitCount = Array.from({ length: instruction.opCount }, (_, op) => instruction.opKind(op)).filter((k) => k === OpKind.Memory).length;
  if (explicitCount !== 1) return { template: 'refuse', reason: 'writes memory through an implicit operand with no template' };
  const memory = explicitMemory(instruction, written[0]!.size);
  if (writtenSegment !== undefined) memory.segment = writtenSegment;
  if (memory.size === 0) return { template: 'refuse', reason: 'writes memory of unknown size' };
  const explicit = Array.from({ length: instruction.opCount }, (_, op) => instruction.opKind(op)).includes(OpKind.Memory);
  const pure = explicit && !STATEFUL_STORES.has(instruction.mnemonic)
    && writtenGprs.size === 0 && instruction.rflagsModified === 0 && instruction.fpuTopIncrement === 0 && !instruction.fpuWritesTop;
  if (pure && accessOf(instruction) === OpAccess.Write) return { template: 'store', size: memory.size, memory };
  if (writtenGprs.has(fullGpr32(memory.base)) || writtenGprs.has(fullGpr32(memory.index))) {
    if (memory.segment !== undefined) return { template: 'refuse', reason: 'FS/GS store that changes its own address registers: no template' };
    return { template: 'copyViaAddress', size: memory.size, memory };
  }
  return { template: 'copy', size: memory.size, memory };
}

/** The access of the instruction's explicit memory operand. */
function accessOf(instruction: Instruction): number {
  const info = infoFactory.info(instruction);
  let access: number = OpAccess.None;
  for (let op = 0; op < instruction.opCount; op++) if (instruction.opKind(op) === OpKind.Memory) access = info.opAccess(op);
  info.free();
  return access;
}

/** The instruction's own (explicit) memory operand. */
function explicitMemory(instruction: Instruction, size: number): WrittenMemory {
  return {
    base: instruction.memoryBase, index: instruction.memoryIndex, scale: instruction.memoryIndexScale,
    displacement: Number(BigInt.asUintN(32, instruction.memoryDisplacement)), size,
  };
}
