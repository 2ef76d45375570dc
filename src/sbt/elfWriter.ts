/**
 * Writes the translated ELF32 executable: ELF header, program headers (the original
 * PT_LOADs, the new code segment, a PT_NOTE marking the file as translated), segment
 * contents at file offsets congruent to their addresses mod 4096 (qemu-user needs it),
 * then section headers, a .symtab and a .shstrtab so objdump and gdb can read the result.
 */
import { PT_LOAD, PT_NOTE, SHF_ALLOC, SHT_NOTE, SHT_STRTAB, SHT_SYMTAB } from '../elf/index.js';

export interface OutputSegment {
  vaddr: number;
  /** The load address (a kernel's is physical); vaddr when absent. */
  paddr?: number;
  memsz: number;
  flags: number;
  bytes: Uint8Array;
}

export interface OutputSection {
  name: string;
  type: number;
  flags: number;
  addr: number;
  size: number;
  addralign: number;
  entsize?: number;
  /** For allocated sections: contents come from the segment holding `addr` (none for NOBITS). */
  inSegment?: boolean;
  /** For non-allocated sections: their own contents. */
  contents?: Uint8Array;
}

export interface OutputSymbol {
  name: string;
  value: number;
  size: number;
  info: number;
  other: number;
  /** Name of the output section, or a special index (0 undefined, 0xfff1 absolute). */
  section: string | number;
}

export interface OutputNote {
  name: string;
  type: number;
  desc: Uint8Array;
}

const PAGE = 4096;
const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

export function encodeNote(note: OutputNote): Uint8Array {
  const name = new TextEncoder().encode(note.name + '\0');
  const bytes = new Uint8Array(12 + alignUp(name.length, 4) + alignUp(note.desc.length, 4));
  const view = new DataView(bytes.buffer);
  view.setUint32(0, name.length, true);
  view.setUint32(4, note.desc.length, true);
  view.setUint32(8, note.type, true);
  bytes.set(name, 12);
  bytes.set(note.desc, 12 + alignUp(name.length, 4));
  return bytes;
}

class StringTable {
  private readonly parts: Uint8Array[] = [new Uint8Array(1)];
  private size = 1;
  private readonly seen = new Map<string, number>();
  add(name: string): number {
    if (name === '') return 0;
    const known = this.seen.get(name);
    if (known !== undefined) return known;
    const bytes = new TextEncoder().encode(name + '\0');
    const at = this.size;
    this.parts.push(bytes);
    this.size += bytes.length;
    this.seen.set(name, at);
    return at;
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const part of this.parts) { out.set(part, at); at += part.length; }
    return out;
  }
}

export function writeElf(entry: number, segments: OutputSegment[], note: OutputNote, sections: OutputSection[], symbols: OutputSymbol[]): Uint8Array {
  const noteBytes = encodeNote(note);
  const phnum = segments.length + 1;
  const headerEnd = 52 + 32 * phnum;
  const noteOffset = alignUp(headerEnd, 4);
  let cursor = noteOffset + noteBytes.length;
  const segmentOffsets = segments.map((segment) => {
    const offset = alignUp(cursor, PAGE) + (segment.vaddr % PAGE);
    cursor = offset + segment.bytes.length;
    return offset;
  });

  // Section contents that are not in a segment, then the symbol table.
  const shstrtab = new StringTable();
  const strtab = new StringTable();
  const allSections: Array<OutputSection & { offset: number }> = [];
  const place = (section: OutputSection, bytes?: Uint8Array) => {
    let offset = 0;
    if (section.inSegment) {
      // The segment that contains the section's first byte; a section starting exactly where
      // one segment ends belongs to the next (e.g. the spill page right after the image).
      let index = segments.findIndex((s) => section.addr >= s.vaddr && section.addr < s.vaddr + s.memsz);
      if (index < 0) index = segments.findIndex((s) => section.addr >= s.vaddr && section.addr <= s.vaddr + s.memsz);
      offset = index >= 0 ? segmentOffsets[index]! + section.addr - segments[index]!.vaddr : 0;
    } else if (bytes) {
      cursor = alignUp(cursor, Math.max(section.addralign, 1));
      offset = cursor;
      cursor += bytes.length;
    }
    allSections.push({ ...section, offset, contents: bytes ?? section.contents });
  };
  for (const section of sections) place(section, section.inSegment ? undefined : section.contents);
  place({ name: '.note.memv6', type: SHT_NOTE, flags: 0, addr: 0, size: noteBytes.length, addralign: 4 }, undefined);
  allSections[allSections.length - 1]!.offset = noteOffset;

  const sectionIndex = (name: string | number) => typeof name === 'number' ? name : allSections.findIndex((s) => s.name === name) + 1;
  const ordered = [...symbols.filter((s) => s.info >> 4 === 0), ...symbols.filter((s) => s.info >> 4 !== 0)];
  const firstGlobal = 1 + symbols.filter((s) => s.info >> 4 === 0).length;
  const symtab = new Uint8Array(16 * (ordered.length + 1));
  const symView = new DataView(symtab.buffer);
  ordered.forEach((symbol, i) => {
    const at = 16 * (i + 1);
    symView.setUint32(at, strtab.add(symbol.name), true);
    symView.setUint32(at + 4, symbol.value >>> 0, true);
    symView.setUint32(at + 8, symbol.size, true);
    symtab[at + 12] = symbol.info;
    symtab[at + 13] = symbol.other;
    symView.setUint16(at + 14, sectionIndex(symbol.section), true);
  });
  const symtabIndex = allSections.length + 1;
  place({ name: '.symtab', type: SHT_SYMTAB, flags: 0, addr: 0, size: symtab.length, addralign: 4, entsize: 16 }, symtab);
  const strtabBytes = strtab.bytes();
  place({ name: '.strtab', type: SHT_STRTAB, flags: 0, addr: 0, size: strtabBytes.length, addralign: 1 }, strtabBytes);
  for (const section of allSections) shstrtab.add(section.name);
  shstrtab.add('.shstrtab');
  const shstrtabBytes = shstrtab.bytes();
  place({ name: '.shstrtab', type: SHT_STRTAB, flags: 0, addr: 0, size: shstrtabBytes.length, addralign: 1 }, shstrtabBytes);

  const shoff = alignUp(cursor, 4);
  const shnum = allSections.length + 1;
  const out = new Uint8Array(shoff + 40 * shnum);
  const view = new DataView(out.buffer);
  // ELF header.
  out.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0]);
  view.setUint16(16, 2, true); // ET_EXEC
  view.setUint16(18, 3, true); // EM_386
  view.setUint32(20, 1, true);
  view.setUint32(24, entry >>> 0, true);
  view.setUint32(28, 52, true);
  view.setUint32(32, shoff, true);
  view.setUint16(40, 52, true);
  view.setUint16(42, 32, true);
  view.setUint16(44, phnum, true);
  view.setUint16(46, 40, true);
  view.setUint16(48, shnum, true);
  view.setUint16(50, shnum - 1, true);
  // Program headers.
  segments.forEach((segment, i) => {
    const at = 52 + 32 * i;
    view.setUint32(at, PT_LOAD, true);
    view.setUint32(at + 4, segmentOffsets[i]!, true);
    view.setUint32(at + 8, segment.vaddr, true);
    view.setUint32(at + 12, (segment.paddr ?? segment.vaddr) >>> 0, true);
    view.setUint32(at + 16, segment.bytes.length, true);
    view.setUint32(at + 20, segment.memsz, true);
    view.setUint32(at + 24, segment.flags, true);
    view.setUint32(at + 28, PAGE, true);
    out.set(segment.bytes, segmentOffsets[i]!);
  });
  const noteHeader = 52 + 32 * segments.length;
  view.setUint32(noteHeader, PT_NOTE, true);
  view.setUint32(noteHeader + 4, noteOffset, true);
  view.setUint32(noteHeader + 16, noteBytes.length, true);
  view.setUint32(noteHeader + 20, noteBytes.length, true);
  view.setUint32(noteHeader + 24, 4, true); // PF_R
  view.setUint32(noteHeader + 28, 4, true);
  out.set(noteBytes, noteOffset);
  // Sections.
  allSections.forEach((section, i) => {
    if (section.contents && !section.inSegment) out.set(section.contents, section.offset);
    const at = shoff + 40 * (i + 1);
    view.setUint32(at, shstrtab.add(section.name), true);
    view.setUint32(at + 4, section.type, true);
    view.setUint32(at + 8, section.flags, true);
    view.setUint32(at + 12, section.flags & SHF_ALLOC ? section.addr : 0, true);
    view.setUint32(at + 16, section.offset, true);
    view.setUint32(at + 20, section.size, true);
    const isSymtab = section.type === SHT_SYMTAB;
    view.setUint32(at + 24, isSymtab ? symtabIndex + 1 : 0, true);
    view.setUint32(at + 28, isSymtab ? firstGlobal : 0, true);
    view.setUint32(at + 32, section.addralign, true);
    view.setUint32(at + 36, section.entsize ?? 0, true);
  });
  return out;
}
