/**
 * Code discovery: a linear sweep of every executable section, cross-checked against the
 * symbols and the relocations that `ld --emit-relocs` keeps. The result says where every
 * instruction is, and which words (in code or data) hold code addresses that must follow
 * the code to its new place.
 */
import {
  type ElfFile, type SectionHeader, PT_LOAD, R_386_32, R_386_PC32, SHF_ALLOC, SHF_EXECINSTR, SHT_NOBITS,
  SHT_PROGBITS, STT_FUNC, STT_SECTION,
} from '../elf/index.js';
import { MemvisorError } from '../errors.js';
import { Decoder, DecoderOptions, FlowControl, OpKind, type Instruction, disassemble } from './iced.js';

export interface CodeInstruction {
  address: number;
  length: number;
  /** Decoded with ip = address; owned by the CodeModel (freed by freeCodeModel). */
  instruction: Instruction;
  /** Set for direct branches (jmp/jcc/call/loop/jecxz rel): the original target. */
  branchTarget?: number;
  /** Set when the imm32 field holds a relocated code address (e.g. `push $f`, `movl $f,m`). */
  immediateCodePointer?: number;
  /** Set when the imm32 field holds the symbol `end` (or `_end`): it moves past the translated code. */
  imageEndImmediate?: boolean;
}

/** Symbols that name the first address after the image (kernels hand out memory from there). */
export const IMAGE_END_SYMBOLS: ReadonlySet<string> = new Set(['end', '_end']);
/** A non-loaded section listing (u32 each) the addresses of stores to device registers, which have no twin. */
export const NOMIRROR_SECTION = '.memvisor.nomirror';

/** A relocated word in allocated data that holds the address of an instruction. */
export interface DataCodePointer {
  address: number;
  target: number;
}

export interface CodeModel {
  elf: ElfFile;
  /** The entry point as a code address (a multiboot kernel's ELF entry is physical: see codeEntry). */
  entry: number;
  /** p_vaddr - p_paddr, the same for every PT_LOAD (0 for user programs). */
  physicalOffset: number;
  codeSections: SectionHeader[];
  instructions: CodeInstruction[];
  indexByAddress: Map<number, number>;
  dataCodePointers: DataCodePointer[];
  /** Data words that hold the symbol `end` (or `_end`). */
  dataImageEnds: number[];
  /** Stores listed in .memvisor.nomirror (device registers): left without a mirror store. */
  unmirroredStores: Set<number>;
  /** How many relocations the sweep was checked against (code) and how many were code pointers. */
  codeRelocations: number;
  dataRelocations: number;
}

/** Sections whose relocations do not describe the running program (unwind tables, debug info). */
function isRuntimeSection(section: SectionHeader): boolean {
  return (section.flags & SHF_ALLOC) !== 0 && !section.name.startsWith('.eh_frame') && !section.name.startsWith('.debug');
}

/** An address for a message: a 32-bit value as unsigned, and a sum past 4 GiB as it is (never wrapped). */
export function hex(n: number): string {
  return '0x' + (n < 0 ? n >>> 0 : n).toString(16);
}

function bytesHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** A one-line refusal naming the file, the address, the bytes and the disassembly. */
export function refuseInstruction(elf: ElfFile, code: CodeInstruction | undefined, reason: string, address?: number): never {
  if (!code) throw new MemvisorError(`${elf.path}: ${address !== undefined ? hex(address) + ': ' : ''}${reason}`);
  const bytes = instructionBytes(elf, code);
  throw new MemvisorError(`${elf.path}: ${hex(code.address)}: ${bytesHex(bytes)}: ${disassemble(code.instruction)}: ${reason}`);
}

export function instructionBytes(elf: ElfFile, code: CodeInstruction): Uint8Array {
  const section = sectionAt(elf, code.address)!;
  const at = section.offset + code.address - section.addr;
  return elf.bytes.subarray(at, at + code.length);
}

function sectionAt(elf: ElfFile, address: number): SectionHeader | undefined {
  return elf.sections.find((s) => (s.flags & SHF_ALLOC) !== 0 && s.type !== SHT_NOBITS && address >= s.addr && address < s.addr + s.size);
}

/** p_vaddr - p_paddr of the loaded segments, which must agree (one image, one delta). */
function physicalOffsetOf(elf: ElfFile): number {
  const loads = elf.programHeaders.filter((p) => p.type === PT_LOAD && p.memsz > 0);
  const deltas = new Set(loads.map((p) => (p.vaddr - p.paddr) >>> 0));
  if (deltas.size > 1) throw new MemvisorError(`${elf.path}: loadable segments with different virtual-to-physical offsets`);
  return deltas.size ? [...deltas][0]! : 0;
}

/** The addresses listed in the .memvisor.nomirror section (device-register stores). */
function unmirroredStoresOf(elf: ElfFile): Set<number> {
  const section = elf.sections.find((s) => s.name === NOMIRROR_SECTION);
  const list = new Set<number>();
  if (!section) return list;
  if (section.size % 4 !== 0 || section.type === SHT_NOBITS) throw new MemvisorError(`${elf.path}: ${NOMIRROR_SECTION} is not a list of 32-bit addresses`);
  const view = new DataView(elf.bytes.buffer, elf.bytes.byteOffset + section.offset, section.size);
  for (let at = 0; at < section.size; at += 4) list.add(view.getUint32(at, true));
  return list;
}

export function discoverCode(elf: ElfFile): CodeModel {
  const codeSections = elf.sections.filter((s) => (s.flags & (SHF_ALLOC | SHF_EXECINSTR)) === (SHF_ALLOC | SHF_EXECINSTR) && s.size > 0);
  if (codeSections.length === 0) throw new MemvisorError(`${elf.path}: no executable section (section headers stripped?)`);
  if (codeSections.some((s) => s.type !== SHT_PROGBITS)) throw new MemvisorError(`${elf.path}: executable section without contents`);
  const hasCodeRelocations = elf.relocations.some((r) => codeSections.includes(r.targetSection));
  if (!hasCodeRelocations) {
    throw new MemvisorError(`${elf.path}: no relocations for the code: relink with --emit-relocs (-q) so every code address can be found`);
  }
  if (elf.symbols.some((s) => s.name.startsWith('__x86.get_pc_thunk'))) {
    throw new MemvisorError(`${elf.path}: position-independent code (__x86.get_pc_thunk reads return addresses as data): compile with -fno-pic`);
  }

  // 1. Linear sweep.
  const instructions: CodeInstruction[] = [];
  const indexByAddress = new Map<number, number>();
  const fieldsAt = new Map<number, { index: number; kind: 'disp' | 'imm'; size: number }>();
  for (const section of codeSections) {
    const decoder = new Decoder(32, elf.bytes.subarray(section.offset, section.offset + section.size), DecoderOptions.None);
    decoder.ip = BigInt(section.addr);
    while (decoder.canDecode) {
      const instruction = decoder.decode();
      const address = instruction.ip32;
      const code: CodeInstruction = { address, length: instruction.length, instruction };
      if (instruction.isInvalid) {
        instructions.push(code);
        refuseInstruction(elf, code, 'invalid instruction: data in the code section, or not i386 code');
      }
      const offsets = decoder.getConstantOffsets(instruction);
      const index = instructions.length;
      if (offsets.hasDisplacement) fieldsAt.set(address + offsets.displacementOffset, { index, kind: 'disp', size: offsets.displacementSize });
      if (offsets.hasImmediate) fieldsAt.set(address + offsets.immediateOffset, { index, kind: 'imm', size: offsets.immediateSize });
      offsets.free();
      indexByAddress.set(address, index);
      instructions.push(code);
    }
    decoder.free();
  }
  const codeEnd = (address: number) => codeSections.some((s) => address === s.addr + s.size);
  const inCode = (address: number) => codeSections.some((s) => address >= s.addr && address < s.addr + s.size);

  // 2. Symbols: every function starts on an instruction.
  for (const symbol of elf.symbols) {
    if (symbol.type !== STT_FUNC || !inCode(symbol.value)) continue;
    if (!indexByAddress.has(symbol.value)) {
      throw new MemvisorError(`${elf.path}: function ${symbol.name} at ${hex(symbol.value)} does not start on an instruction: the sweep is out of step (data in code?)`);
    }
  }
  // A multiboot kernel starts with paging off: its ELF entry is the physical address of an instruction.
  const physicalOffset = physicalOffsetOf(elf);
  const entry = indexByAddress.has(elf.entry) ? elf.entry : (elf.entry + physicalOffset) >>> 0;
  if (!indexByAddress.has(entry)) throw new MemvisorError(`${elf.path}: entry point ${hex(elf.entry)} is not an instruction start`);
  const unmirroredStores = unmirroredStoresOf(elf);
  for (const address of unmirroredStores) {
    if (!indexByAddress.has(address)) throw new MemvisorError(`${elf.path}: ${NOMIRROR_SECTION} lists ${hex(address)}, which is not an instruction start`);
  }

  // 3. Direct branches land on instructions.
  for (const code of instructions) {
    const instruction = code.instruction;
    const kind = instruction.op0Kind;
    if (kind === OpKind.NearBranch32 || kind === OpKind.NearBranch16) {
      if (kind === OpKind.NearBranch16) refuseInstruction(elf, code, '16-bit branch');
      const target = instruction.nearBranch32;
      if (!indexByAddress.has(target)) refuseInstruction(elf, code, `branch target ${hex(target)} is not an instruction start`);
      code.branchTarget = target;
    } else if (kind === OpKind.FarBranch16 || kind === OpKind.FarBranch32) {
      refuseInstruction(elf, code, 'far branch');
    }
  }

  // 4. Relocations: every code relocation lands on an operand field; R_386_32 values
  //    that point into the code are code pointers.
  const dataCodePointers: DataCodePointer[] = [];
  const dataImageEnds: number[] = [];
  const isImageEnd = (symbolIndex: number, value: number) => {
    const symbol = elf.symbols[symbolIndex];
    return symbol !== undefined && IMAGE_END_SYMBOLS.has(symbol.name) && symbol.value === value;
  };
  let codeRelocations = 0;
  let dataRelocations = 0;
  const isCodePointerValue = (value: number, where: string): boolean => {
    if (!inCode(value)) return false;
    if (indexByAddress.has(value)) return true;
    if (codeEnd(value)) return false; // e.g. `etext`
    const symbol = elf.symbols.find((s) => s.value === value && s.type !== STT_FUNC && s.type !== STT_SECTION && inCode(s.value));
    if (symbol) return false; // a data-ish label inside the code: never a jump target
    throw new MemvisorError(`${elf.path}: ${where} holds ${hex(value)}, inside the code but not an instruction start`);
  };
  for (const relocation of elf.relocations) {
    const section = relocation.targetSection;
    if (!isRuntimeSection(section)) continue;
    if (codeSections.includes(section)) {
      codeRelocations++;
      const field = fieldsAt.get(relocation.offset);
      if (!field || field.size !== 4) {
        const index = [...indexByAddress.entries()].filter(([a]) => a <= relocation.offset).pop();
        refuseInstruction(elf, index ? instructions[index[1]] : undefined,
          `relocation at ${hex(relocation.offset)} does not land on a 32-bit operand field: the sweep is out of step`, relocation.offset);
      }
      const code = instructions[field!.index]!;
      if (relocation.type === R_386_PC32) {
        if (code.branchTarget === undefined || field!.kind !== 'imm') refuseInstruction(elf, code, 'PC-relative relocation on something other than a branch');
        continue;
      }
      if (relocation.type !== R_386_32) refuseInstruction(elf, code, `relocation type ${relocation.type} in code`);
      const value = field!.kind === 'imm' ? code.instruction.immediate32 >>> 0
        : Number(code.instruction.memoryDisplacement & 0xffffffffn);
      const where = `${hex(code.address)} (${disassemble(code.instruction)})`;
      if (isImageEnd(relocation.symbolIndex, value)) {
        if (field!.kind === 'disp') refuseInstruction(elf, code, 'reads or writes memory at the end of the image');
        code.imageEndImmediate = true;
        continue;
      }
      if (!isCodePointerValue(value, where)) continue;
      if (field!.kind === 'disp') refuseInstruction(elf, code, 'reads or writes the code as data');
      code.immediateCodePointer = value;
    } else {
      if (section.type === SHT_NOBITS) continue;
      dataRelocations++;
      if (relocation.type !== R_386_32) continue;
      const at = section.offset + relocation.offset - section.addr;
      const value = new DataView(elf.bytes.buffer, elf.bytes.byteOffset + at, 4).getUint32(0, true);
      if (isImageEnd(relocation.symbolIndex, value)) dataImageEnds.push(relocation.offset);
      else if (isCodePointerValue(value, `data word at ${hex(relocation.offset)} in ${section.name}`)) {
        dataCodePointers.push({ address: relocation.offset, target: value });
      }
    }
  }
  return {
    elf, entry, physicalOffset, codeSections, instructions, indexByAddress, dataCodePointers, dataImageEnds, unmirroredStores,
    codeRelocations, dataRelocations,
  };
}

export function freeCodeModel(model: CodeModel): void {
  for (const code of model.instructions) code.instruction.free();
  model.instructions.length = 0;
}
