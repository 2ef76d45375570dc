/**
 * The static binary translator: `translateElf(bytes, options)` rewrites a static i386
 * executable so that every memory write is repeated at address + OFFSET: linked with
 * --emit-relocs, the code moves and its addresses are rewritten; without relocations,
 * addressMap.ts keeps code addresses original and maps them at run time. See README.md for
 * the output format and the PT_NOTE it carries.
 */
import {
  type ElfFile, PF_R, PF_W, PF_X, PT_LOAD, SHF_ALLOC, SHF_EXECINSTR, SHT_NOBITS, SHT_PROGBITS, STT_FUNC, STT_NOTYPE,
  MEMV6_NOTE_NAME, MEMV6_NOTE_TRANSLATED, STORE_PAIRS_SECTION, parseElf, readTranslationNote, requireStaticExecutable, sectionSegmentMismatch,
  storePairsSection, translationNoteDescription,
} from '../elf/index.js';
import { MemvisorError } from '../errors.js';
import { MIRROR_OFFSET, mirrorOffsetProblem } from '../layout.js';
import type { Template } from './classify.js';
import { discoverCode, freeCodeModel, hex } from './discover.js';
import { Code, Instruction, Mnemonic, Register, disassemble } from './iced.js';
import { freeItems, layoutItems } from './layout.js';
import { buildLinuxStub } from './linuxStub.js';
import { rewrite, type Scratch } from './rewrite.js';
import { addressMap, translateDebugInfo } from './debug-info.js';
import { writeElf, type OutputSection, type OutputSymbol } from './elfWriter.js';
import { verifyTranslation, type VerifyResult } from './verify.js';
import { translateWithAddressMap, type AddressMapInfo } from './addressMap.js';

export { TEMPLATES, type Template } from './classify.js';
export type { Scratch } from './rewrite.js';
export { MIRROR_CHECK_PREFIX } from './linuxStub.js';
export { verifyTranslation, type VerifyResult } from './verify.js';
export {
  ADDRESS_MAP_DAMAGED, ADDRESS_MAP_MISS, ADDRESS_MAP_STOPPED, ADDRESS_MAP_STOP_STATUS, ADDRESS_MAP_SYMBOL, type AddressMapInfo,
} from './addressMap.js';

/** How code addresses are handled: relocations (`--emit-relocs`) move them; the address map keeps them original. */
export type TranslationMode = 'relocations' | 'address-map';

const PAGE = 4096;
const pageDown = (n: number) => Math.floor(n / PAGE) * PAGE;
const pageUp = (n: number) => Math.ceil(n / PAGE) * PAGE;

export interface TranslateOptions {
  offset?: number;
  path?: string;
  /** Where mirror sequences keep scratch registers: a spill page (default), or the stack (code that is re-entered: a kernel). */
  scratch?: Scratch;
  /** Make the output runnable under Linux (qemu-i386, memvisor exec): see linuxStub.ts. */
  linuxStub?: boolean;
  /** With linuxStub: compare native and mirror at exit and print the result on fd 2. */
  checkAtExit?: boolean;
  /** Run the independent verifier on the output (throws on failure). */
  verify?: boolean;
  /** Test-only (mutation tests): leave these templates' mirror code out. */
  disabledTemplates?: ReadonlySet<Template>;
  /** Default: 'relocations' when the code has relocations, else 'address-map' (addressMap.ts). */
  mode?: TranslationMode;
}

export interface TranslationReport {
  path: string;
  mode: TranslationMode;
  /** The address-map mode's figures (mode 'address-map'). */
  addressMap?: AddressMapInfo;
  offset: number;
  instructions: number;
  writers: Record<string, number>;
  originalCodeBytes: number;
  translatedCodeBytes: number;
  growth: number;
  codePointersInData: number;
  codePointersInCode: number;
  relocationsChecked: number;
  /** Stores to device registers left without a mirror (listed in .memvisor.nomirror). */
  unmirrored: number;
  /** Store pairs recorded in .memvisor.pairs (intervals of code where a pair is open). */
  storePairs: number;
  /** Writes the program makes that no translated instruction makes, left to the platform. */
  platform: string[];
  refused: string[];
  /** What became of the input's DWARF debug information (moved with the code, none, or left out and why). */
  debugInfo: string;
  verify?: VerifyResult;
}

export interface Translation {
  output: Uint8Array;
  report: TranslationReport;
}

export function translateElf(bytes: Uint8Array, options: TranslateOptions = {}): Translation {
  const path = options.path ?? '<memory>';
  const offset = options.offset ?? MIRROR_OFFSET;
  const offsetProblem = mirrorOffsetProblem(offset);
  if (offsetProblem) throw new MemvisorError(`--offset ${hex(offset)}: ${offsetProblem}`);
  const elf = parseElf(bytes, path);
  requireStaticExecutable(elf);
  const mismatch = sectionSegmentMismatch(elf);
  if (mismatch) throw new MemvisorError(`${path}: the file's sections and segments disagree: ${mismatch}`);
  // Every segment's mirror (va + offset) must exist: below 4 GiB, and clear of every segment
  // (a program below the offset, or a kernel at KERNBASE with its mirror above).
  const segments = [...elf.programHeaders.entries()].filter(([, p]) => p.type === PT_LOAD && p.memsz > 0);
  for (const [i, p] of segments) {
    const start = p.vaddr + offset, end = p.vaddr + p.memsz + offset;
    const where = `${path}: segment ${i} [${hex(p.vaddr)}, ${hex(p.vaddr + p.memsz)})`;
    if (end > 2 ** 32) throw new MemvisorError(`${where} has its mirror at [${hex(start)}, ${hex(end)}), past 4 GiB: no room for it with --offset ${hex(offset)}`);
    const hit = segments.find(([, q]) => start < q.vaddr + q.memsz && q.vaddr < end);
    if (hit) throw new MemvisorError(`${where} has its mirror at [${hex(start)}, ${hex(end)}), on segment ${hit[0]}: choose another --offset`);
  }
  if (readTranslationNote(elf)) {
    throw new MemvisorError(`${path}: already translated (has the MemV6 translated note)`);
  }
  const codeSections = elf.sections.filter((s) => (s.flags & (SHF_ALLOC | SHF_EXECINSTR)) === (SHF_ALLOC | SHF_EXECINSTR) && s.size > 0);
  const mode = options.mode ?? (elf.relocations.some((r) => codeSections.includes(r.targetSection)) ? 'relocations' : 'address-map');
  if (mode === 'address-map') return translateAddressMapMode(elf, bytes, path, offset, options);
  const scratch = options.scratch ?? 'spill';
  if (scratch === 'stack' && options.linuxStub) throw new MemvisorError('--linux-stub keeps its variables in the spill page: it needs --scratch spill');
  const loads = elf.programHeaders.filter((p) => p.type === PT_LOAD && p.memsz > 0);
  const imageEnd = pageUp(Math.max(...loads.map((p) => p.vaddr + p.memsz)));
  // The spill page (scratch 'spill' only), then the translated code.
  const spillBase = imageEnd;
  const codeBase = scratch === 'spill' ? spillBase + PAGE : imageEnd;

  const model = discoverCode(elf);
  const items = [] as ReturnType<typeof rewrite>['items'];
  try {
    const rewritten = rewrite(model, {
      offset, spillBase, scratch, disabledTemplates: options.disabledTemplates, hookSyscalls: options.linuxStub && options.checkAtExit,
    });
    items.push(...rewritten.items);
    items.push({ instruction: Instruction.create(Code.Int3), role: 'inserted' }); // a return address past the last call lands here
    const entryItem = rewritten.groupStart[model.indexByAddress.get(model.entry)!]!;
    let entryItemOut = entryItem;
    let spillPage: Uint8Array = new Uint8Array(PAGE);
    const segments: Array<[number, number]> = loads.map((p) => [pageDown(p.vaddr), pageUp(p.vaddr + p.memsz)]);
    if (options.linuxStub) {
      const stackTop = pageDown(offset - 0x01000000);
      const stackBase = stackTop - 0x100000;
      if (stackBase < codeBase + 16 * PAGE * 64) throw new MemvisorError(`${path}: program too large for --linux-stub with offset ${hex(offset)}`);
      const stub = buildLinuxStub({ offset, spillBase, segments, stackBase, stackTop, firstItem: items.length, entryItem, checkAtExit: options.checkAtExit ?? false });
      entryItemOut = items.length;
      items.push(...stub.items);
      for (const call of rewritten.syscallCalls) items[call]!.branchTo = stub.hookItem;
      spillPage = stub.spillPage;
    }
    const describe = (item: (typeof items)[number]) => item.origin !== undefined
      ? `${path}: ${hex(model.instructions[item.origin]!.address)}: ${disassemble(model.instructions[item.origin]!.instruction)}` : `${path}: inserted code`;
    const layout = layoutItems(items, codeBase, describe);
    const newAddress = (originalAddress: number) => layout.addresses[rewritten.groupStart[model.indexByAddress.get(originalAddress)!]!]!;
    // The image and its mirror must not overlap (a user program at 0 must end below the offset).
    const imageStart = Math.min(...loads.map((p) => p.vaddr));
    if (layout.end - imageStart > offset) throw new MemvisorError(`${path}: translated program ends at ${hex(layout.end)}, more than the mirror offset ${hex(offset)} above its start`);

    // Segment 1..n: the original image, byte-identical except code pointers; old code poisoned.
    const outputSegments = loads.map((p) => {
      const image = new Uint8Array(elf.bytes.subarray(p.offset, p.offset + p.filesz)); // a copy (Buffer.slice would share)
      const inSegment = (address: number) => address >= p.vaddr && address < p.vaddr + p.filesz;
      for (const section of model.codeSections) {
        for (let a = section.addr; a < section.addr + section.size; a++) if (inSegment(a)) image[a - p.vaddr] = 0xcc;
      }
      for (const pointer of model.dataCodePointers) {
        if (!inSegment(pointer.address)) continue;
        new DataView(image.buffer).setUint32(pointer.address - p.vaddr, newAddress(pointer.target), true);
      }
      for (const at of model.dataImageEnds) if (inSegment(at)) new DataView(image.buffer).setUint32(at - p.vaddr, layout.end, true);
      return { vaddr: p.vaddr, paddr: p.paddr, memsz: p.memsz, flags: p.flags, bytes: image };
    });
    const spillBytes = scratch === 'spill' ? PAGE : 0;
    const translatedBytes = new Uint8Array(spillBytes + layout.code.length);
    if (spillBytes) translatedBytes.set(spillPage);
    translatedBytes.set(layout.code, spillBytes);
    // The new segment keeps the image's virtual-to-physical delta (a kernel loads at physical addresses).
    outputSegments.push({ vaddr: imageEnd, paddr: imageEnd - model.physicalOffset, memsz: translatedBytes.length, flags: PF_R | PF_W | PF_X, bytes: translatedBytes });

    const pairs = rewritten.pairs.map(([first, last]): [number, number] => [layout.addresses[first + 1]!, layout.addresses[last + 1] ?? layout.end]);
    const pairBytes = storePairsSection(pairs);
    const sections = outputSections(elf, model.codeSections, scratch === 'spill' ? spillBase : null, codeBase, layout.code.length);
    sections.push({ name: STORE_PAIRS_SECTION, type: SHT_PROGBITS, flags: 0, addr: 0, size: pairBytes.length, addralign: 4, contents: pairBytes });
    // The address map: each original instruction's group, and where its own copy ends (for unwind rules).
    const originalItem = new Map<number, number>();
    items.forEach((item, i) => { if (item.role === 'original' && item.origin !== undefined) originalItem.set(item.origin, i); });
    const groupEnd = (i: number) => layout.addresses[i + 1 < model.instructions.length ? rewritten.groupStart[i + 1]! : rewritten.items.length]!;  // the int3 after the last group
    const map = addressMap(model.instructions.map((code, i) => ({
      start: code.address, end: code.address + code.length, newStart: layout.addresses[rewritten.groupStart[i]!]!, newEnd: groupEnd(i),
      afterOriginal: layout.addresses[originalItem.get(i)!]! + layout.sizes[originalItem.get(i)!]!,
    })), (address) => model.codeSections.some((s) => address >= s.addr && address <= s.addr + s.size));
    const debugInfo = translateDebugInfo(elf, map);
    for (const { name, contents } of debugInfo.sections) {
      sections.push({ name, type: SHT_PROGBITS, flags: 0, addr: 0, size: contents.length, addralign: 1, contents });
    }
    const symbols = outputSymbols(elf, model.indexByAddress, newAddress, sections, scratch === 'spill' ? spillBase : null, options.linuxStub ? layout.addresses[entryItemOut]! : undefined);
    const desc = translationNoteDescription({ offset, spillPage: scratch === 'spill' ? spillBase : null });
    // An entry given as a physical address (paging off: a multiboot kernel) stays physical.
    const entry = (layout.addresses[entryItemOut]! - (model.entry !== elf.entry ? model.physicalOffset : 0)) >>> 0;
    const output = writeElf(entry, outputSegments, { name: MEMV6_NOTE_NAME, type: MEMV6_NOTE_TRANSLATED, desc }, sections, symbols);

    const writers: Record<string, number> = {};
    for (const [template, count] of [...rewritten.writers].sort()) writers[template] = count;
    const originalCodeBytes = model.codeSections.reduce((n, s) => n + s.size, 0);
    const stubStart = options.linuxStub ? layout.addresses[entryItemOut]! : layout.end;
    const translatedCodeBytes = stubStart - codeBase;
    const report: TranslationReport = {
      path, mode, offset, instructions: model.instructions.length, writers, originalCodeBytes, translatedCodeBytes,
      growth: Math.round((translatedCodeBytes / originalCodeBytes) * 100) / 100,
      codePointersInData: model.dataCodePointers.length,
      codePointersInCode: model.instructions.filter((c) => c.immediateCodePointer !== undefined).length,
      relocationsChecked: model.codeRelocations + model.dataRelocations,
      unmirrored: rewritten.unmirrored,
      storePairs: pairBytes.length / 8,
      platform: leftToPlatform(model),
      refused: [],
      debugInfo: debugInfo.note,
    };
    if (options.verify) {
      report.verify = verifyTranslation(bytes, output, { path, offset, scratch });
      if (report.verify.errors.length > 0) {
        throw new MemvisorError(`${path}: verification failed: ${report.verify.errors.length} problem(s), first: ${report.verify.errors[0]}`, 1);
      }
    }
    return { output, report };
  } finally {
    freeItems(items);
    freeCodeModel(model);
  }
}

/** The address-map mode (no relocations): a user program run under Linux or `memvisor exec --mirror`. */
function translateAddressMapMode(elf: ElfFile, bytes: Uint8Array, path: string, offset: number, options: TranslateOptions): Translation {
  const unsupported = [options.scratch === 'stack' && '--scratch stack', options.linuxStub && '--linux-stub', options.verify && '--verify'].filter(Boolean);
  if (unsupported.length > 0) {
    throw new MemvisorError(`${path}: ${unsupported.join(', ')}: not available without relocations (the address-map mode; run the output with memvisor exec --mirror)`);
  }
  void bytes;
  const result = translateWithAddressMap(elf, { path, offset, disabledTemplates: options.disabledTemplates }, { outputSections, leftToPlatform });
  const report: TranslationReport = {
    path, mode: 'address-map', addressMap: result.info, offset, instructions: result.instructions, writers: result.writers,
    originalCodeBytes: result.originalCodeBytes, translatedCodeBytes: result.translatedCodeBytes,
    growth: Math.round((result.translatedCodeBytes / result.originalCodeBytes) * 100) / 100,
    codePointersInData: 0, codePointersInCode: 0, relocationsChecked: 0, unmirrored: 0, storePairs: result.storePairs,
    platform: result.platform, refused: [], debugInfo: 'none (the address-map mode keeps no debug information)',
  };
  return { output: result.output, report };
}

/**
 * Writes the translated program makes that no instruction of it makes, so no template can
 * mirror them: whoever runs it (MemV6 in system mode: the platform) must. Listed in the report.
 */
function leftToPlatform(model: ReturnType<typeof discoverCode>): string[] {
  const count = (mnemonics: number[]) => model.instructions.filter((c) => mnemonics.includes(c.instruction.mnemonic)).length;
  const list = ['interrupt and exception frames pushed by the processor on every trap',
    'accessed and dirty bits set by the page walk in page directories and tables'];
  // mov and pop into a segment register, and far returns (which load CS, and SS from ring 3).
  const segmentLoads = model.instructions.filter((c) => ((c.instruction.mnemonic === Mnemonic.Mov || c.instruction.mnemonic === Mnemonic.Pop)
    && isSegmentRegister(c.instruction.op0Register))).length + count([Mnemonic.Retf, Mnemonic.Iret, Mnemonic.Iretd]);
  if (segmentLoads) list.push(`descriptor accessed bits set when segment registers are loaded (${segmentLoads} instructions load one)`);
  const ltr = count([Mnemonic.Ltr]);
  if (ltr) list.push(`the TSS descriptor's busy bit, set by ltr (${ltr})`);
  const software = count([Mnemonic.Int, Mnemonic.Int3, Mnemonic.Into]);
  if (software) list.push(`frames of software interrupts (${software} int instructions)`);
  return list;
}

const isSegmentRegister = (register: number) => [Register.ES, Register.CS, Register.SS, Register.DS, Register.FS, Register.GS].includes(register);

function outputSections(elf: ElfFile, codeSections: ElfFile['sections'], spillBase: number | null, codeBase: number, codeSize: number): OutputSection[] {
  const sections: OutputSection[] = [];
  for (const section of elf.sections) {
    if ((section.flags & SHF_ALLOC) === 0 || section.size === 0) continue;
    const isCode = codeSections.includes(section);
    sections.push({
      // The old code stays in place, poisoned with int3; objdump -d should not list it.
      name: isCode ? `${section.name}.orig` : section.name,
      type: section.type === SHT_NOBITS ? SHT_NOBITS : SHT_PROGBITS,
      flags: isCode ? section.flags & ~SHF_EXECINSTR : section.flags,
      addr: section.addr, size: section.size, addralign: section.addralign, entsize: section.entsize,
      inSegment: section.type !== SHT_NOBITS,
    });
  }
  if (spillBase !== null) sections.push({ name: '.memvisor.spill', type: SHT_PROGBITS, flags: SHF_ALLOC | 1, addr: spillBase, size: PAGE, addralign: PAGE, inSegment: true });
  sections.push({ name: '.text', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, addr: codeBase, size: codeSize, addralign: 16, inSegment: true });
  return sections;
}

function outputSymbols(elf: ElfFile, indexByAddress: Map<number, number>, newAddress: (a: number) => number,
  sections: OutputSection[], spillBase: number | null, stubAddress: number | undefined): OutputSymbol[] {
  const symbols: OutputSymbol[] = [];
  const nameOfSection = (index: number): string | number => {
    if (index === 0 || index >= 0xff00) return index;
    const original = elf.sections[index];
    if (!original) return 0xfff1;
    const kept = sections.find((s) => s.addr === original.addr && (s.name === original.name || s.name === `${original.name}.orig`));
    return kept ? kept.name : 0xfff1;
  };
  for (const symbol of elf.symbols.slice(1)) {
    if (symbol.type === 3 /* STT_SECTION */) continue;
    const movesWithCode = (symbol.type === STT_FUNC || symbol.type === STT_NOTYPE) && indexByAddress.has(symbol.value)
      && elf.sections[symbol.sectionIndex] !== undefined && (elf.sections[symbol.sectionIndex]!.flags & SHF_EXECINSTR) !== 0;
    symbols.push({
      name: symbol.name, value: movesWithCode ? newAddress(symbol.value) : symbol.value, size: movesWithCode ? 0 : symbol.size,
      info: (symbol.bind << 4) | symbol.type, other: 0, section: movesWithCode ? '.text' : nameOfSection(symbol.sectionIndex),
    });
  }
  if (spillBase !== null) symbols.push({ name: '__memvisor_spill', value: spillBase, size: PAGE, info: 1, other: 0, section: '.memvisor.spill' });
  if (stubAddress !== undefined) symbols.push({ name: '__memvisor_linux_stub', value: stubAddress, size: 0, info: 2, other: 0, section: '.text' });
  return symbols;
}
