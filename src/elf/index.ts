/**
 * The one ELF32 reader of the project, shared by the kernel loader (multiboot), the
 * user-mode runner (`memvisor exec`), the binary translator and the tests.
 * It validates as it reads: every problem is a MemvisorError naming the file.
 */
import { MemvisorError } from '../errors.js';
import { INPUT, readInputFile } from '../input-file.js';

export {
  MEMV6_NOTE_NAME, MEMV6_NOTE_TRANSLATED, readTranslationNote, translationNoteDescription, type TranslationNote,
  STORE_PAIRS_SECTION, storePairsSection, readStorePairs,
} from './translation-note.js';

export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_INTERP = 3;
export const PT_NOTE = 4;

export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_NOTE = 7;

export const SHF_WRITE = 1;
export const SHF_ALLOC = 2;
export const SHF_EXECINSTR = 4;
export const SHF_TLS = 0x400;

export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

export const ET_EXEC = 2;
export const ET_DYN = 3;
export const EM_386 = 3;

export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;

export const R_386_32 = 1;
export const R_386_PC32 = 2;

export interface ProgramHeader {
  type: number;
  offset: number;
  vaddr: number;
  paddr: number;
  filesz: number;
  memsz: number;
  flags: number;
  align: number;
}

export interface SectionHeader {
  index: number;
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

export interface ElfSymbol {
  name: string;
  value: number;
  size: number;
  type: number;
  bind: number;
  sectionIndex: number;
}

export interface ElfRelocation {
  /** The section the relocation applies to (sh_info of the SHT_REL section). */
  targetSection: SectionHeader;
  offset: number;
  type: number;
  symbolIndex: number;
}

export interface ElfNote {
  name: string;
  type: number;
  desc: Uint8Array;
}

export interface ElfFile {
  path: string;
  bytes: Uint8Array;
  type: number;
  entry: number;
  /** Where the program header table starts in the file (e_phoff). */
  programHeaderOffset: number;
  programHeaders: ProgramHeader[];
  sections: SectionHeader[];
  /** Empty when the file has no .symtab. */
  symbols: ElfSymbol[];
  /** All SHT_REL entries, grouped with the section they patch. */
  relocations: ElfRelocation[];
  notes: ElfNote[];
}

/** Reads and parses an ELF file; a missing, unreadable or oversized file is a MemvisorError. */
export function readElfFile(path: string): ElfFile {
  return parseElf(readInputFile(path, INPUT.program), path);
}

/** Parses an ELF32 little-endian i386 image held in memory. */
export function parseElf(bytes: Uint8Array, path = '<memory>'): ElfFile {
  const fail = (what: string): never => {
    throw new MemvisorError(`${path}: ${what}`);
  };
  if (bytes.length < 52 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    fail('not an ELF file');
  }
  if (bytes[4] === 2) fail('64-bit ELF; memvisor runs 32-bit i386 programs only');
  if (bytes[4] !== 1) fail(`unknown ELF class ${bytes[4]}`);
  if (bytes[5] !== 1) fail('big-endian ELF; i386 is little-endian');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  const type = u16(16);
  const machine = u16(18);
  if (machine !== EM_386) fail(`ELF machine ${machine} is not i386 (3)`);
  if (type !== ET_EXEC && type !== ET_DYN) fail(`ELF type ${type} is not an executable`);
  const entry = u32(24);
  const phoff = u32(28);
  const shoff = u32(32);
  const phentsize = u16(42);
  const phnum = u16(44);
  const shentsize = u16(46);
  const shnum = u16(48);
  const shstrndx = u16(50);

  const inFile = (offset: number, size: number, what: string) => {
    if (offset + size > bytes.length || offset < 0 || size < 0) fail(`${what} lies outside the file (truncated?)`);
  };

  const programHeaders: ProgramHeader[] = [];
  if (phnum > 0) {
    if (phentsize < 32) fail(`program header size ${phentsize} is too small`);
    inFile(phoff, phnum * phentsize, 'program header table');
    for (let i = 0; i < phnum; i++) {
      const at = phoff + i * phentsize;
      const header: ProgramHeader = {
        type: u32(at), offset: u32(at + 4), vaddr: u32(at + 8), paddr: u32(at + 12),
        filesz: u32(at + 16), memsz: u32(at + 20), flags: u32(at + 24), align: u32(at + 28),
      };
      if (header.type === PT_LOAD) {
        inFile(header.offset, header.filesz, `segment ${i}`);
        if (header.filesz > header.memsz) fail(`segment ${i} has file size larger than memory size`);
      }
      programHeaders.push(header);
    }
  }

  const sections: SectionHeader[] = [];
  if (shnum > 0 && shoff !== 0) {
    if (shentsize < 40) fail(`section header size ${shentsize} is too small`);
    inFile(shoff, shnum * shentsize, 'section header table');
    for (let i = 0; i < shnum; i++) {
      const at = shoff + i * shentsize;
      sections.push({
        index: i, name: '', type: u32(at + 4), flags: u32(at + 8), addr: u32(at + 12),
        offset: u32(at + 16), size: u32(at + 20), link: u32(at + 24), info: u32(at + 28),
        addralign: u32(at + 32), entsize: u32(at + 36),
      });
      const nameOffset = u32(at);
      (sections[i] as SectionHeader & { nameOffset: number }).nameOffset = nameOffset;
    }
    for (const section of sections) {
      if (section.type !== SHT_NOBITS) inFile(section.offset, section.size, `section ${section.index}`);
    }
    const names = sections[shstrndx];
    if (names && names.type === SHT_STRTAB) {
      for (const section of sections) {
        const withName = section as SectionHeader & { nameOffset?: number };
        section.name = readCString(bytes, names.offset + (withName.nameOffset ?? 0), names.offset + names.size);
        delete withName.nameOffset;
      }
    }
  }

  const symbols: ElfSymbol[] = [];
  const symtab = sections.find((s) => s.type === SHT_SYMTAB);
  if (symtab) {
    const strtab = sections[symtab.link];
    if (!strtab || strtab.type !== SHT_STRTAB) fail('symbol table has no string table');
    for (let at = symtab.offset; at + 16 <= symtab.offset + symtab.size; at += 16) {
      const info = bytes[at + 12];
      symbols.push({
        name: readCString(bytes, strtab!.offset + u32(at), strtab!.offset + strtab!.size),
        value: u32(at + 4),
        size: u32(at + 8),
        type: info & 0xf,
        bind: info >> 4,
        sectionIndex: u16(at + 14),
      });
    }
  }

  const relocations: ElfRelocation[] = [];
  for (const section of sections) {
    if (section.type !== SHT_REL) continue;
    const target = sections[section.info];
    if (!target) fail(`relocation section ${section.name} names missing section ${section.info}`);
    for (let at = section.offset; at + 8 <= section.offset + section.size; at += 8) {
      const info = u32(at + 4);
      relocations.push({ targetSection: target!, offset: u32(at), type: info & 0xff, symbolIndex: info >>> 8 });
    }
  }

  const notes: ElfNote[] = [];
  const noteRanges = programHeaders.filter((p) => p.type === PT_NOTE).map((p): [number, number] => [p.offset, p.filesz]);
  if (noteRanges.length === 0) {
    for (const s of sections) if (s.type === SHT_NOTE) noteRanges.push([s.offset, s.size]);
  }
  for (const [offset, size] of noteRanges) {
    inFile(offset, size, 'note');
    notes.push(...parseNotes(bytes, offset, offset + size, fail));
  }

  return { path, bytes, type, entry, programHeaderOffset: phoff, programHeaders, sections, symbols, relocations, notes };
}

/** Refuses what a static i386 program runner cannot load: dynamic linking, PIE, no segments. */
export function requireStaticExecutable(elf: ElfFile): void {
  if (elf.programHeaders.some((p) => p.type === PT_INTERP || p.type === PT_DYNAMIC)) {
    throw new MemvisorError(`${elf.path}: dynamically linked; memvisor runs static executables only (link with -static)`);
  }
  if (elf.type !== ET_EXEC) {
    throw new MemvisorError(`${elf.path}: position-independent executable; link with -no-pie -static`);
  }
  if (!elf.programHeaders.some((p) => p.type === PT_LOAD)) {
    throw new MemvisorError(`${elf.path}: no loadable segments`);
  }
}

/**
 * Where the sections and the segments of a file disagree, or null: every allocated section
 * must lie inside a PT_LOAD segment, and one with contents must be the bytes that segment
 * loads at its address (the same file offset). A tool that reads code by sections and
 * writes memory by segments (the translator) must not trust a file where they differ.
 */
export function sectionSegmentMismatch(elf: ElfFile): string | null {
  const loads = elf.programHeaders.filter((p) => p.type === PT_LOAD);
  const hex = (n: number) => `0x${n.toString(16)}`;
  for (const s of elf.sections) {
    if ((s.flags & SHF_ALLOC) === 0 || s.size === 0 || (s.flags & SHF_TLS && s.type === SHT_NOBITS)) continue;
    const end = s.addr + s.size;
    const name = s.name || `#${s.index}`;
    const home = loads.find((p) => s.addr >= p.vaddr && end <= p.vaddr + p.memsz);
    if (!home) return `section ${name} [${hex(s.addr)}, ${hex(end)}) is in no loadable segment`;
    if (s.type === SHT_NOBITS) continue;
    if (end > home.vaddr + home.filesz) return `section ${name} [${hex(s.addr)}, ${hex(end)}) has contents where its segment loads zeros`;
    const loadedFrom = home.offset + (s.addr - home.vaddr);
    if (s.offset !== loadedFrom) return `section ${name} at ${hex(s.addr)} is read from file offset ${hex(s.offset)}, but its segment loads it from ${hex(loadedFrom)}`;
  }
  return null;
}

/** The bytes a PT_LOAD segment places in memory (file part, then zeros up to memsz). */
export function segmentImage(elf: ElfFile, segment: ProgramHeader): Uint8Array {
  const image = new Uint8Array(segment.memsz);
  image.set(elf.bytes.subarray(segment.offset, segment.offset + segment.filesz));
  return image;
}

/**
 * The notes in [start, end) of the file. Every size is checked against what is left
 * before it is used, so a hostile size (a name size of 0xfffffff4, say) is an error
 * naming the note, never a loop or a read past the range; each note moves `at` on by
 * at least its 12-byte header.
 */
function parseNotes(bytes: Uint8Array, start: number, end: number, fail: (what: string) => never): ElfNote[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const notes: ElfNote[] = [];
  for (let at = start; end - at >= 12;) {
    const namesz = view.getUint32(at, true);
    const descsz = view.getUint32(at + 4, true);
    const where = `note at file offset 0x${at.toString(16)}`;
    const nameAt = at + 12;
    if (namesz > end - nameAt) fail(`${where}: name size 0x${namesz.toString(16)} runs past the end of the notes`);
    const descAt = nameAt + align4(namesz);
    if (descAt > end || descsz > end - descAt) fail(`${where}: description size 0x${descsz.toString(16)} runs past the end of the notes`);
    notes.push({
      name: readCString(bytes, nameAt, nameAt + namesz),
      type: view.getUint32(at + 8, true),
      desc: bytes.slice(descAt, descAt + descsz),
    });
    at = descAt + align4(descsz);
  }
  return notes;
}

/** n rounded up to a multiple of 4 (in doubles: n may be any 32-bit size). */
function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

function readCString(bytes: Uint8Array, start: number, limit: number): string {
  let end = start;
  while (end < limit && end < bytes.length && bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.subarray(start, end));
}
