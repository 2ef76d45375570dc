/**
 * Translation without relocations: the address-map mode (README.md, "Without relocations").
 *
 * A stripped static binary says nowhere which words are code addresses, so code cannot move
 * under the program's feet. Instead:
 * - the original image stays mapped, byte for byte (its data, and code bytes read as data,
 *   stay at their addresses); the translated code goes to a new segment;
 * - every program-visible code address stays ORIGINAL: a call pushes the original return
 *   address (so `__x86.get_pc_thunk`, PIC code and anything reading return addresses sees
 *   what it expects), function pointers and jump tables keep original values;
 * - direct branches are rewritten statically; every indirect transfer (ret, jmp/call through
 *   a register or memory) goes through a dispatcher that looks the original target up in an
 *   original → translated map (two tables, indexed by the target's high and low 16 bits, so
 *   any 32-bit value is looked up with no bounds check and no flags touched);
 * - each map entry points to a landing pad that checks, with `lea` and `jecxz` (no flags),
 *   that it is the pad of the address looked up, then enters the translated instruction:
 *   a damaged map fails loudly instead of running the wrong code;
 * - discovery: a linear sweep of the code sections, closed under direct branch targets and
 *   fall-through, plus chains decoded from conservative candidates (words in data and
 *   immediates in code that point into the code). Every instruction start found gets a pad,
 *   so any of them may be an indirect target. A target with no entry stops the program with
 *   the address (exit status 127), never runs something else.
 */
import {
  type ElfFile, type SectionHeader, PF_R, PF_W, PF_X, PT_LOAD, SHF_ALLOC, SHF_EXECINSTR, SHT_NOBITS,
  MEMV6_NOTE_NAME, MEMV6_NOTE_TRANSLATED, STORE_PAIRS_SECTION, SHT_PROGBITS, storePairsSection, translationNoteDescription,
} from '../elf/index.js';
import { MemvisorError } from '../errors.js';
import type { ClassifyOptions } from './classify.js';
import { classify } from './classify.js';
import { type CodeInstruction, type CodeModel, hex } from './discover.js';
import { Code, Decoder, DecoderOptions, FlowControl, Instruction, MemoryOperand, Mnemonic, OpKind, Register, RegisterExt, disassemble } from './iced.js';
import { freeItems, layoutItems, type Item } from './layout.js';
import { rewrite } from './rewrite.js';
import { writeElf, type OutputSection, type OutputSymbol } from './elfWriter.js';

const PAGE = 4096;
const pageUp = (n: number) => Math.ceil(n / PAGE) * PAGE;
const pageDown = (n: number) => Math.floor(n / PAGE) * PAGE;
/** Lowest address the new segment may take (Linux's default mmap_min_addr). */
const MIN_ADDRESS = 0x10000;

/** Exit status of a translated program that stops at an address it has no translation for. */
export const ADDRESS_MAP_STOP_STATUS = 127;
/** The first words of the line it prints on fd 2 (then the address, 0x%08x). */
export const ADDRESS_MAP_MISS = 'memvisor: address map: no translation for';
export const ADDRESS_MAP_DAMAGED = 'memvisor: address map: damaged entry for';
export const ADDRESS_MAP_STOPPED = 'memvisor: address map: cannot run the instruction at';
/** Symbols of the output: the first-level table (65536 words) and the dispatcher. */
export const ADDRESS_MAP_SYMBOL = '__memvisor_address_map';
export const DISPATCH_SYMBOL = '__memvisor_dispatch';

/** Spill slots the control-flow sequences use (rewrite.ts uses S0..S6). */
/** A landing pad's length (see below). */
const PAD_BYTES = 24;
const S_TARGET = 8, S_ECX = 9, S_EAX = 10, S_JUMP = 11, S_SITE = 12;
/** Where the stop handlers keep their hex digits and message, in the (unmirrored) spill page. */
const SPILL_TEXT = 0x100;

export interface AddressMapInfo {
  /** Instruction starts translated (each one a valid indirect target). */
  starts: number;
  /** Of which found outside the linear sweep (chains from candidates and branch targets). */
  chainStarts: number;
  /** Candidates (data words, code immediates) pointing into the code. */
  candidates: number;
  tableBytes: number;
  /** Instructions that stop the program if reached: address, disassembly, reason. */
  stops: string[];
}

/** What index.ts shares with this mode (kept there, passed in: no import cycle). */
export interface SharedParts {
  outputSections(elf: ElfFile, codeSections: SectionHeader[], spillBase: number | null, codeBase: number, codeSize: number): OutputSection[];
  leftToPlatform(model: CodeModel): string[];
}

interface Discovery {
  model: CodeModel;
  /** Instruction index → why it stops the program (invalid, unsupported). */
  stops: Map<number, string>;
  chainStarts: number;
  candidates: number;
}

const ENDS_CHAIN = new Set<number>([FlowControl.UnconditionalBranch, FlowControl.IndirectBranch, FlowControl.Return]);

/** Linear sweep, then chains from entry, branch targets and candidates until closed. */
export function discoverWithoutRelocations(elf: ElfFile): Discovery {
  const codeSections = elf.sections.filter((s) => (s.flags & (SHF_ALLOC | SHF_EXECINSTR)) === (SHF_ALLOC | SHF_EXECINSTR) && s.size > 0 && s.type !== SHT_NOBITS);
  if (codeSections.length === 0) throw new MemvisorError(`${elf.path}: no executable section (section headers stripped?)`);
  const sectionOf = (a: number) => codeSections.find((s) => a >= s.addr && a < s.addr + s.size);
  const instructions: CodeInstruction[] = [];
  const indexByAddress = new Map<number, number>();
  const stops = new Map<number, string>();
  const decodeFrom = (start: number, sweep: boolean): number[] => {
    const section = sectionOf(start)!;
    const added: number[] = [];
    // The decoder copies its bytes into wasm: give it a window (a sweep: the whole section),
    // moved on 16 bytes before its end so no instruction is cut.
    const sectionEnd = section.addr + section.size;
    let windowEnd = 0;
    const window = (from: number) => {
      windowEnd = sweep ? sectionEnd : Math.min(sectionEnd, from + 4096);
      const d = new Decoder(32, elf.bytes.subarray(section.offset + from - section.addr, section.offset + windowEnd - section.addr), DecoderOptions.None);
      d.ip = BigInt(from);
      return d;
    };
    let decoder = window(start);
    for (;;) {
      const address = Number(decoder.ip) >>> 0;
      if (address >= sectionEnd || indexByAddress.has(address)) break;
      if (windowEnd < sectionEnd && address + 16 > windowEnd) {
        decoder.free();
        decoder = window(address);
      }
      const instruction = decoder.decode();
      const index = instructions.length;
      instructions.push({ address, length: instruction.length, instruction });
      indexByAddress.set(address, index);
      added.push(index);
      if (instruction.isInvalid) {
        stops.set(index, 'invalid instruction (data in the code?)');
        if (!sweep) break;
        continue;
      }
      if (!sweep && ENDS_CHAIN.has(instruction.flowControl)) break;
    }
    decoder.free();
    return added;
  };
  const work: number[] = [];
  const branchTargetsOf = (indexes: number[]) => {
    for (const index of indexes) {
      const instruction = instructions[index]!.instruction;
      if (instruction.op0Kind === OpKind.NearBranch32) work.push(instruction.nearBranch32);
    }
  };
  for (const section of codeSections) branchTargetsOf(decodeFrom(section.addr, true));
  const sweepCount = instructions.length;
  if (!sectionOf(elf.entry)) throw new MemvisorError(`${elf.path}: entry point ${hex(elf.entry)} is not in an executable section`);
  work.push(elf.entry);
  // Candidates: aligned words of the loaded image, and imm32/disp32 fields, that point into the code.
  const candidates = new Set<number>();
  for (const p of elf.programHeaders) {
    if (p.type !== PT_LOAD) continue;
    const view = new DataView(elf.bytes.buffer, elf.bytes.byteOffset + p.offset, p.filesz);
    for (let at = (4 - (p.vaddr % 4)) % 4; at + 4 <= p.filesz; at += 4) {
      const value = view.getUint32(at, true);
      if (sectionOf(value) && !sectionOf(p.vaddr + at)) candidates.add(value);
    }
  }
  for (let i = 0; i < sweepCount; i++) {
    const instruction = instructions[i]!.instruction;
    if (instruction.isInvalid) continue;
    for (let op = 0; op < instruction.opCount; op++) {
      if (instruction.opKind(op) === OpKind.Immediate32 && sectionOf(instruction.immediate32 >>> 0)) candidates.add(instruction.immediate32 >>> 0);
    }
    if (instruction.memoryDisplSize === 4) {
      const value = Number(instruction.memoryDisplacement & 0xffffffffn);
      if (sectionOf(value)) candidates.add(value);
    }
  }
  work.push(...candidates);
  while (work.length > 0) {
    const address = work.pop()! >>> 0;
    if (indexByAddress.has(address) || !sectionOf(address)) continue;
    branchTargetsOf(decodeFrom(address, false));
  }
  for (const [index, code] of instructions.entries()) {
    const instruction = code.instruction;
    if (stops.has(index)) continue;
    const kind = instruction.op0Kind;
    if (kind === OpKind.NearBranch32) {
      if (indexByAddress.has(instruction.nearBranch32)) code.branchTarget = instruction.nearBranch32;
    } else if (kind === OpKind.NearBranch16 || kind === OpKind.FarBranch16 || kind === OpKind.FarBranch32) {
      stops.set(index, 'far or 16-bit branch');
    }
  }
  const model: CodeModel = {
    elf, entry: elf.entry, physicalOffset: 0, codeSections, instructions, indexByAddress, dataCodePointers: [], dataImageEnds: [],
    unmirroredStores: new Set(), codeRelocations: 0, dataRelocations: 0,
  };
  return { model, stops, chainStarts: instructions.length - sweepCount, candidates: candidates.size };
}

function absolute(address: number): MemoryOperand {
  return new MemoryOperand(Register.None, Register.None, 1, BigInt(address >>> 0), 4, false, Register.None);
}
function based(base: number, displacement: number, index = Register.None, scale = 1): MemoryOperand {
  return new MemoryOperand(base, index, scale, BigInt(displacement >>> 0), 4, false, Register.None);
}

/** Is the instruction a transfer this mode rewrites itself (calls, returns, indirect jumps)? */
function isControlTransfer(instruction: Instruction): boolean {
  const flow = instruction.flowControl;
  return flow === FlowControl.Call || flow === FlowControl.IndirectCall || flow === FlowControl.Return || flow === FlowControl.IndirectBranch;
}

/** Can execution continue at the next address? */
function fallsThrough(instruction: Instruction): boolean {
  return !ENDS_CHAIN.has(instruction.flowControl) && !isControlTransfer(instruction);
}

export interface AddressMapOptions {
  path: string;
  offset: number;
  /** Test-only: leave these templates' mirror code out (as TranslateOptions.disabledTemplates). */
  disabledTemplates?: TranslateLike['disabledTemplates'];
}
type TranslateLike = { disabledTemplates?: ReadonlySet<import('./classify.js').Template> };

export interface AddressMapTranslation {
  output: Uint8Array;
  instructions: number;
  writers: Record<string, number>;
  originalCodeBytes: number;
  translatedCodeBytes: number;
  storePairs: number;
  info: AddressMapInfo;
  platform: string[];
}

export function translateWithAddressMap(elf: ElfFile, options: AddressMapOptions, shared: SharedParts): AddressMapTranslation {
  const { path, offset } = options;
  const loads = elf.programHeaders.filter((p) => p.type === PT_LOAD && p.memsz > 0);
  if (loads.some((p) => p.vaddr !== p.paddr)) throw new MemvisorError(`${path}: a program without relocations is translated only as a user program (p_vaddr = p_paddr)`);
  const imageEnd = pageUp(Math.max(...loads.map((p) => p.vaddr + p.memsz)));
  const imageStart = Math.min(...loads.map((p) => p.vaddr)) & ~(PAGE - 1);
  const discovery = discoverWithoutRelocations(elf);
  const { model, stops } = discovery;
  // The new segment goes below the image when it fits (bounded by 160 bytes per instruction):
  // the program's brk then starts where it did, so heap addresses are the original's.
  const chunkCount = new Set(model.instructions.map((c) => c.address >>> 16)).size;
  const bound = PAGE + 0x40000 * (chunkCount + 2) + 160 * model.instructions.length;
  const below = pageDown(imageStart - PAGE - bound);
  const spillBase = below >= MIN_ADDRESS && imageStart > bound ? below : imageEnd;
  const items: Item[] = [];
  const placeholders: Instruction[] = [];
  try {
    const hasStd = model.instructions.some((c, i) => !stops.has(i) && c.instruction.mnemonic === Mnemonic.Std);
    const classifyOptions: ClassifyOptions = { segmentStores: true, directionAgnostic: hasStd };
    // Instructions the templates refuse stop the program if reached (listed in the report).
    model.instructions.forEach((code, index) => {
      if (stops.has(index)) return;
      const instruction = code.instruction;
      const c = classify(instruction, classifyOptions);
      if (c.template === 'refuse') stops.set(index, c.reason);
      else if (instruction.flowControl === FlowControl.XbeginXabortXend) stops.set(index, 'transactional memory (RTM): not supported');
      else if (isControlTransfer(instruction) && instruction.flowControl !== FlowControl.Return) {
        const kind = instruction.op0Kind;
        if (kind === OpKind.Register && RegisterExt.size(instruction.op0Register) !== 4) stops.set(index, '16-bit indirect branch');
        else if (kind === OpKind.Memory && instruction.memorySize !== 0 && !instruction.isCallNearIndirect && !instruction.isJmpNearIndirect) stops.set(index, 'far indirect branch');
        else if (kind === OpKind.Memory && (RegisterExt.size(instruction.memoryBase) === 2 || RegisterExt.size(instruction.memoryIndex) === 2)) stops.set(index, '16-bit addressing');
      } else if (instruction.flowControl === FlowControl.Return && (instruction.mnemonic !== Mnemonic.Ret || instruction.opCount > 0 && instruction.op0Kind !== OpKind.Immediate16)) {
        stops.set(index, 'far return or iret');
      }
    });
    // rewrite() sees a nop in place of each stopping instruction; its group is replaced below.
    const forRewrite: CodeModel = {
      ...model,
      instructions: model.instructions.map((code, index) => {
        if (!stops.has(index)) return code;
        const nop = Instruction.create(Code.Nopd);
        placeholders.push(nop);
        return { address: code.address, length: code.length, instruction: nop };
      }),
    };

    // Tables, after the spill page: L1 (65536 words), the all-miss L2, one L2 per 64 KiB chunk with code.
    const chunks = [...new Set(model.instructions.map((c) => c.address >>> 16))].sort((a, b) => a - b);
    const l1 = spillBase + PAGE;
    const missL2 = l1 + 0x40000;
    const l2Of = new Map(chunks.map((chunk, i) => [chunk, missL2 + 0x40000 * (i + 1)]));
    const tableBytes = 0x40000 * (chunks.length + 2);
    const codeBase = l1 + tableBytes;
    if (codeBase >= offset) throw new MemvisorError(`${path}: the translated program would not fit below the mirror offset ${hex(offset)}`);

    const rewritten = rewrite(forRewrite, { offset, spillBase, scratch: 'spill', disabledTemplates: options.disabledTemplates, classify: classifyOptions });
    const old = rewritten.items;
    const groupOfItem = new Map<number, number>();
    rewritten.groupStart.forEach((item, group) => groupOfItem.set(item, group));
    const groupEnd = (group: number) => (group + 1 < rewritten.groupStart.length ? rewritten.groupStart[group + 1]! : old.length);

    // Items that refer to places decided later: a group (by instruction index), or a named label.
    const toGroup: Array<[item: number, group: number]> = [];
    const labels = new Map<string, number>();
    const toLabel: Array<[item: number, label: string]> = [];
    const add = (instruction: Instruction, extra: Partial<Item> = {}) => { items.push({ instruction, role: 'inserted', ...extra }); return items.length - 1; };
    const jumpTo = (label: string) => toLabel.push([add(Instruction.createBranch(Code.Jmp_rel32_32, 0n), { branchTo: -1 }), label]);
    const jumpToGroup = (group: number) => toGroup.push([add(Instruction.createBranch(Code.Jmp_rel32_32, 0n), { branchTo: -1 }), group]);
    const setSlot = (slot: number, register: number) => add(Instruction.createMemReg(Code.Mov_rm32_r32, absolute(spillBase + 4 * slot), register));
    const getSlot = (register: number, slot: number) => add(Instruction.createRegMem(Code.Mov_r32_rm32, register, absolute(spillBase + 4 * slot)));
    const stopAt = (address: number, label: string) => {
      add(Instruction.createMemU32(Code.Mov_rm32_imm32, absolute(spillBase + 4 * S_TARGET), address >>> 0));
      jumpTo(label);
    };
    /** The original return address, pushed, and its mirror. */
    const pushReturn = (address: number) => {
      add(Instruction.createU32(Code.Pushd_imm32, address >>> 0), { writes: true });
      add(Instruction.createMemU32(Code.Mov_rm32_imm32, based(Register.ESP, offset), address >>> 0), { writes: true });
    };
    /** S8 = the target of an indirect jmp/call (register or memory operand, read before anything moves). */
    const targetToSlot = (instruction: Instruction) => {
      if (instruction.op0Kind === OpKind.Register) { setSlot(S_TARGET, instruction.op0Register); return; }
      const operand = new MemoryOperand(instruction.memoryBase, instruction.memoryIndex, instruction.memoryIndexScale,
        instruction.memoryDisplacement & 0xffffffffn, 4, false, instruction.segmentPrefix);
      setSlot(S_SITE, Register.EAX);
      add(Instruction.createRegMem(Code.Mov_r32_rm32, Register.EAX, operand));
      setSlot(S_TARGET, Register.EAX);
      getSlot(Register.EAX, S_SITE);
    };

    const pairs: Array<[number, number]> = [];
    const newGroupStart: number[] = [];
    const stopList: string[] = [];
    model.instructions.forEach((code, group) => {
      newGroupStart.push(items.length);
      const instruction = code.instruction;
      const next = (code.address + code.length) >>> 0;
      const reason = stops.get(group);
      if (reason !== undefined) {
        stopList.push(`${hex(code.address)}: ${instruction.isInvalid ? '(bad)' : disassemble(instruction)}: ${reason}`);
        for (let i = rewritten.groupStart[group]!; i < groupEnd(group); i++) old[i]!.instruction.free();
        stopAt(code.address, 'stopped');
        return;
      }
      if (isControlTransfer(instruction)) {
        for (let i = rewritten.groupStart[group]!; i < groupEnd(group); i++) old[i]!.instruction.free();
        const flow = instruction.flowControl;
        const pairFirst = items.length;
        if (flow === FlowControl.Return) {
          add(Instruction.createMem(Code.Pop_rm32, absolute(spillBase + 4 * S_TARGET)));
          if (instruction.opCount > 0 && instruction.immediate16 !== 0) add(Instruction.createRegMem(Code.Lea_r32_m, Register.ESP, based(Register.ESP, instruction.immediate16)));
          jumpTo('dispatch');
        } else if (flow === FlowControl.Call) {
          pushReturn(next);
          if (code.branchTarget !== undefined) jumpToGroup(model.indexByAddress.get(code.branchTarget)!);
          else stopAt(instruction.nearBranch32, 'miss');
        } else {
          targetToSlot(instruction);
          if (flow === FlowControl.IndirectCall) pushReturn(next);
          jumpTo('dispatch');
        }
        if (items.slice(pairFirst).filter((item) => item.writes).length >= 2) pairs.push([pairFirst, items.length - 1]);
        items[pairFirst]!.origin = group;
        return;
      }
      // Any other group: rewrite()'s items, branch targets remapped to the new groups.
      const first = items.length;
      for (let i = rewritten.groupStart[group]!; i < groupEnd(group); i++) {
        const item = { ...old[i]! };
        if (item.immediateTo !== undefined) throw new Error(`internal error: a code-address immediate at ${hex(code.address)}`);
        if (item.branchTo === undefined) { items.push(item); continue; }
        const target = groupOfItem.get(item.branchTo);
        if (target === undefined) throw new Error(`internal error: a branch inside a group at ${hex(code.address)}`);
        if (item.instruction.isLoop || item.instruction.isLoopcc || item.instruction.isJcxShort) {
          // rel8 only: `loop 1f; jmp 2f; 1: jmp T; 2:` reaches any target (no flags touched).
          item.branchTo = items.length + 2;
          items.push(item);
          add(Instruction.createBranch(Code.Jmp_rel32_32, 0n), { branchTo: items.length + 2 });
          jumpToGroup(target);
          continue;
        }
        toGroup.push([items.length, target]);
        items.push(item);
      }
      const writes: number[] = [];
      for (let i = first; i < items.length; i++) if (items[i]!.writes) writes.push(i);
      if (writes.length >= 2) pairs.push([writes[0]!, writes[writes.length - 1]!]);
      // A direct branch to an address with no instruction (outside the code): stop there.
      if (instruction.op0Kind === OpKind.NearBranch32 && code.branchTarget === undefined) {
        const original = items.findIndex((item, i) => i >= first && item.role === 'original');
        toLabel.push([original, `miss:${instruction.nearBranch32}`]);
        items[original]!.branchTo = -1;
      }
      if (fallsThrough(instruction)) {
        const following = model.indexByAddress.get(next);
        if (following === undefined) stopAt(next, 'miss');
        else if (following !== group + 1) jumpToGroup(following);
      }
    });
    add(Instruction.create(Code.Int3));

    // The dispatcher: S8 = original target. ECX = target when it enters the pad, S9 = the caller's ECX.
    labels.set('dispatch', items.length);
    setSlot(S_ECX, Register.ECX);
    setSlot(S_EAX, Register.EAX);
    add(Instruction.createRegMem(Code.Movzx_r32_rm16, Register.ECX, absolute(spillBase + 4 * S_TARGET + 2)));
    add(Instruction.createRegMem(Code.Mov_r32_rm32, Register.ECX, based(Register.None, l1, Register.ECX, 4)));
    add(Instruction.createRegMem(Code.Movzx_r32_rm16, Register.EAX, absolute(spillBase + 4 * S_TARGET)));
    add(Instruction.createRegMem(Code.Mov_r32_rm32, Register.EAX, based(Register.ECX, 0, Register.EAX, 4)));
    setSlot(S_JUMP, Register.EAX);
    getSlot(Register.ECX, S_TARGET);
    getSlot(Register.EAX, S_EAX);
    add(Instruction.createMem(Code.Jmp_rm32, absolute(spillBase + 4 * S_JUMP)));

    // Miss stubs for direct branches out of the code.
    for (const [, label] of [...toLabel]) {
      if (!label.startsWith('miss:') || labels.has(label)) continue;
      labels.set(label, items.length);
      stopAt(Number(label.slice(5)), 'miss');
    }
    // The three stops: print "<message> 0x%08x" on fd 2 and exit.
    const text = spillBase + SPILL_TEXT;
    const spillText = new Uint8Array(PAGE);
    spillText.set(new TextEncoder().encode('0123456789abcdef'), SPILL_TEXT);
    let messageAt = SPILL_TEXT + 16;
    for (const [label, message] of [['miss', ADDRESS_MAP_MISS], ['damaged', ADDRESS_MAP_DAMAGED], ['stopped', ADDRESS_MAP_STOPPED]] as const) {
      const bytes = new TextEncoder().encode(`${message} 0x00000000\n`);
      spillText.set(bytes, messageAt);
      const digits = spillBase + messageAt + bytes.length - 9;
      labels.set(label, items.length);
      getSlot(Register.EDX, S_TARGET);
      for (let k = 0; k < 8; k++) {
        add(Instruction.createRegReg(Code.Mov_r32_rm32, Register.EAX, Register.EDX));
        if (k < 7) add(Instruction.createRegI32(Code.Shr_rm32_imm8, Register.EAX, 28 - 4 * k));
        add(Instruction.createRegI32(Code.And_rm32_imm8, Register.EAX, 15));
        add(Instruction.createRegMem(Code.Movzx_r32_rm8, Register.EAX, new MemoryOperand(Register.EAX, Register.None, 1, BigInt(text), 4, false, Register.None)));
        add(Instruction.createMemReg(Code.Mov_rm8_r8, absolute(digits + k), Register.AL));
      }
      add(Instruction.createRegU32(Code.Mov_r32_imm32, Register.EAX, 4));
      add(Instruction.createRegU32(Code.Mov_r32_imm32, Register.EBX, 2));
      add(Instruction.createRegU32(Code.Mov_r32_imm32, Register.ECX, spillBase + messageAt));
      add(Instruction.createRegU32(Code.Mov_r32_imm32, Register.EDX, bytes.length));
      add(Instruction.createU32(Code.Int_imm8, 0x80));
      add(Instruction.createRegU32(Code.Mov_r32_imm32, Register.EAX, 252));
      add(Instruction.createRegU32(Code.Mov_r32_imm32, Register.EBX, ADDRESS_MAP_STOP_STATUS));
      add(Instruction.createU32(Code.Int_imm8, 0x80));
      add(Instruction.create(Code.Hlt));
      messageAt += bytes.length;
    }
    for (const [item, group] of toGroup) items[item]!.branchTo = newGroupStart[group]!;
    for (const [item, label] of toLabel) items[item]!.branchTo = labels.get(label)!;

    const describe = (item: Item) => item.origin !== undefined
      ? `${path}: ${hex(model.instructions[item.origin]!.address)}: ${disassemble(model.instructions[item.origin]!.instruction)}` : `${path}: inserted code`;
    const layout = layoutItems(items, codeBase, describe);
    const end = layout.end + PAD_BYTES * model.instructions.length;
    if (spillBase < imageStart && end > imageStart - PAGE) throw new Error(`internal error: translated code past its bound (${hex(end)})`);
    if (end > offset) throw new MemvisorError(`${path}: translated program ends at ${hex(layout.end)}, above the mirror offset ${hex(offset)}`);

    // Landing pads, after the code (raw bytes: half a million iced objects would cost more than
    // the rest of the translation): `lea -A(%ecx),%ecx; jecxz 1f; jmp damaged; 1: mov S9,%ecx; jmp group`.
    const padBase = layout.end;
    const damaged = layout.addresses[labels.get('damaged')!]!;
    const padBytes = new Uint8Array(PAD_BYTES * model.instructions.length);
    const padView = new DataView(padBytes.buffer);
    const padAddress = (group: number) => padBase + PAD_BYTES * group;
    model.instructions.forEach((code, group) => {
      const at = PAD_BYTES * group, address = padAddress(group);
      padBytes.set([0x8d, 0x89], at);
      padView.setInt32(at + 2, -code.address | 0, true);
      padBytes.set([0xe3, 0x05, 0xe9], at + 6);
      padView.setInt32(at + 9, (damaged - (address + 13)) | 0, true);
      padBytes.set([0x8b, 0x0d], at + 13);
      padView.setUint32(at + 15, spillBase + 4 * S_ECX, true);
      padBytes[at + 19] = 0xe9;
      padView.setInt32(at + 20, (layout.addresses[newGroupStart[group]!]! - (address + PAD_BYTES)) | 0, true);
    });
    const codeEnd = padBase + padBytes.length;

    // The tables.
    const tables = new Uint8Array(tableBytes);
    const words = new DataView(tables.buffer);
    const miss = layout.addresses[labels.get('miss')!]!;
    for (let i = 0; i < 65536; i++) words.setUint32(4 * i, l2Of.get(i) ?? missL2, true);
    for (let i = 0; i < 65536 * (chunks.length + 1); i++) words.setUint32(0x40000 + 4 * i, miss, true);
    model.instructions.forEach((code, group) => {
      words.setUint32(l2Of.get(code.address >>> 16)! - l1 + 4 * (code.address & 0xffff), padAddress(group), true);
    });

    const outputSegments = loads.map((p) => ({
      vaddr: p.vaddr, paddr: p.paddr, memsz: p.memsz, flags: p.flags, bytes: new Uint8Array(elf.bytes.subarray(p.offset, p.offset + p.filesz)),
    }));
    const segmentBytes = new Uint8Array(codeEnd - spillBase);
    segmentBytes.set(spillText);
    segmentBytes.set(tables, PAGE);
    segmentBytes.set(layout.code, codeBase - spillBase);
    segmentBytes.set(padBytes, padBase - spillBase);
    outputSegments.push({ vaddr: spillBase, paddr: spillBase, memsz: segmentBytes.length, flags: PF_R | PF_W | PF_X, bytes: segmentBytes });
    outputSegments.sort((a, b) => a.vaddr - b.vaddr); // PT_LOADs in address order

    const pairAddresses = pairs.map(([first, last]): [number, number] => [layout.addresses[first + 1]!, layout.addresses[last + 1] ?? layout.end]);
    const pairBytes = storePairsSection(pairAddresses);
    const sections = shared.outputSections(elf, model.codeSections, spillBase, codeBase, codeEnd - codeBase);
    sections.push({ name: '.memvisor.map', type: SHT_PROGBITS, flags: SHF_ALLOC, addr: l1, size: tableBytes, addralign: PAGE, inSegment: true });
    sections.push({ name: STORE_PAIRS_SECTION, type: SHT_PROGBITS, flags: 0, addr: 0, size: pairBytes.length, addralign: 4, contents: pairBytes });
    const symbols: OutputSymbol[] = [
      { name: '__memvisor_spill', value: spillBase, size: PAGE, info: 1, other: 0, section: '.memvisor.spill' },
      { name: ADDRESS_MAP_SYMBOL, value: l1, size: 0x40000, info: 1, other: 0, section: '.memvisor.map' },
      { name: DISPATCH_SYMBOL, value: layout.addresses[labels.get('dispatch')!]!, size: 0, info: 2, other: 0, section: '.text' },
    ];
    const entryIndex = model.indexByAddress.get(elf.entry)!;
    const entry = layout.addresses[newGroupStart[entryIndex]!]!;
    const desc = translationNoteDescription({ offset, spillPage: spillBase });
    const output = writeElf(entry, outputSegments, { name: MEMV6_NOTE_NAME, type: MEMV6_NOTE_TRANSLATED, desc }, sections, symbols);

    const writers: Record<string, number> = {};
    for (const [template, count] of [...rewritten.writers].sort()) writers[template] = count;
    return {
      output, instructions: model.instructions.length, writers,
      originalCodeBytes: model.codeSections.reduce((n, s) => n + s.size, 0),
      translatedCodeBytes: codeEnd - codeBase,
      storePairs: pairAddresses.length,
      info: { starts: model.instructions.length, chainStarts: discovery.chainStarts, candidates: discovery.candidates, tableBytes, stops: stopList },
      platform: shared.leftToPlatform(model),
    };
  } finally {
    freeItems(items);
    for (const nop of placeholders) nop.free();
    for (const code of model.instructions) code.instruction.free();
  }
}
