/**
 * The program's DWARF debug information, moved with its code: every code address the
 * compiler recorded (lines, functions, scopes, variable locations, call sites, unwind
 * rules) is rewritten through the translator's address map, so gdb shows source lines,
 * local variables and backtraces in the translated program as in the original.
 *
 * The address map sends an original instruction to the start of its group (the code
 * inserted before it, the instruction, its mirror code), and the end of an instruction to
 * the end of its group; an unwind rule that changes after an instruction changes right
 * after the instruction's own copy, before its mirror code (mirror code moves neither
 * the stack pointer nor a saved register). Data addresses do not move.
 *
 * DWARF 5 as gcc writes it (32-bit format): .debug_info keeps its size (addresses and
 * section offsets are patched in place, function and scope lengths recomputed);
 * .debug_line, .debug_rnglists, .debug_loclists and .debug_frame are written anew with
 * absolute addresses; .debug_aranges is patched. Other debug sections are copied. What
 * this cannot rewrite exactly (another DWARF version, indexed addresses) is left out of
 * the output, with the reason in the translation report.
 */
import type { ElfFile, SectionHeader } from '../elf/index.js';

/** Where the translator put the original code. */
export interface AddressMap {
  /** The new address of original code address `address` (an instruction start or end); other addresses are returned unchanged. */
  map(address: number): number;
  /** Where an unwind rule that changes at original `address` changes in the new code. */
  mapUnwind(address: number): number;
}

/** Sorted instruction starts and their places in the new code. */
export function addressMap(instructions: Array<{ start: number; end: number; newStart: number; newEnd: number; afterOriginal: number }>,
  inCode: (address: number) => boolean): AddressMap {
  const starts = instructions.map((i) => i.start);
  /** The last instruction starting at or before `address`. */
  const find = (address: number): number => {
    let lo = 0, hi = starts.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]! <= address) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return found;
  };
  const lookup = (address: number, unwind: boolean): number => {
    address >>>= 0;
    if (!inCode(address)) return address;
    const i = find(address);
    if (i < 0) return address;
    const instruction = instructions[i]!;
    if (instruction.start === address) {
      const previous = instructions[i - 1];
      return unwind && previous !== undefined && previous.end === address ? previous.afterOriginal : instruction.newStart;
    }
    if (address >= instruction.end) return unwind ? instruction.afterOriginal : instruction.newEnd;
    return instruction.newStart;  // inside an instruction: not a place code can be
  };
  return { map: (a) => lookup(a, false), mapUnwind: (a) => lookup(a, true) };
}

/** A debug section of the output (not loaded). */
export interface DebugSection {
  name: string;
  contents: Uint8Array;
}

export type DebugInfoResult = { sections: DebugSection[]; note: string };

class Unsupported extends Error {}

// ---------------------------------------------------------------- bytes

class Reader {
  pos: number;
  constructor(readonly bytes: Uint8Array, pos = 0, readonly end = bytes.length) {
    this.pos = pos;
  }
  get done(): boolean {
    return this.pos >= this.end;
  }
  /** A unit's (or call-frame entry's) 32-bit initial length: where it starts, how long it is, where it ends. */
  unit(): { start: number; length: number; end: number } {
    const start = this.pos;
    const length = this.u32();
    if (length >= 0xfffffff0) throw new Unsupported('64-bit DWARF');
    return { start, length, end: this.pos + length };
  }
  u8(): number {
    if (this.pos >= this.end) throw new Unsupported('truncated debug section');
    return this.bytes[this.pos++]!;
  }
  u16(): number {
    return this.u8() | (this.u8() << 8);
  }
  u32(): number {
    return (this.u16() | (this.u16() << 16)) >>> 0;
  }
  /** A LEB128 number: unsigned, or signed (its last byte's bit 6 is the sign). */
  private leb(signed: boolean): number {
    let value = 0, shift = 0, b: number;
    do {
      b = this.u8();
      value += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return signed && b & 0x40 ? value - 2 ** shift : value;
  }
  uleb(): number {
    return this.leb(false);
  }
  sleb(): number {
    return this.leb(true);
  }
  cstring(): void {
    while (this.u8() !== 0) { /* skip */ }
  }
  skip(n: number): void {
    this.pos += n;
    if (this.pos > this.end) throw new Unsupported('truncated debug section');
  }
  slice(from: number, to = this.pos): Uint8Array {
    return this.bytes.subarray(from, to);
  }
}

class Writer {
  private readonly out: number[] = [];
  get length(): number {
    return this.out.length;
  }
  u8(v: number): void {
    this.out.push(v & 0xff);
  }
  u16(v: number): void {
    this.u8(v); this.u8(v >>> 8);
  }
  u32(v: number): void {
    this.u16(v); this.u16(v >>> 16);
  }
  uleb(v: number): void {
    do {
      const b = v % 128;
      v = Math.floor(v / 128);
      this.u8(v > 0 ? b | 0x80 : b);
    } while (v > 0);
  }
  sleb(v: number): void {
    for (;;) {
      const b = v & 0x7f;
      v = Math.floor(v / 128);
      if ((v === 0 && !(b & 0x40)) || (v === -1 && b & 0x40)) { this.u8(b); return; }
      this.u8(b | 0x80);
    }
  }
  bytes(b: Uint8Array): void {
    for (const x of b) this.out.push(x);
  }
  /** Overwrites 4 bytes already written. */
  patch32(at: number, v: number): void {
    for (let i = 0; i < 4; i++) this.out[at + i] = (v >>> (8 * i)) & 0xff;
  }
  result(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

const put32 = (bytes: Uint8Array, at: number, v: number) => {
  for (let i = 0; i < 4; i++) bytes[at + i] = (v >>> (8 * i)) & 0xff;
};

// ---------------------------------------------------------------- .debug_info

const DW_FORM = {
  addr: 0x01, block2: 0x03, block4: 0x04, data2: 0x05, data4: 0x06, data8: 0x07, string: 0x08, block: 0x09, block1: 0x0a,
  data1: 0x0b, flag: 0x0c, sdata: 0x0d, strp: 0x0e, udata: 0x0f, ref_addr: 0x10, ref1: 0x11, ref2: 0x12, ref4: 0x13, ref8: 0x14,
  ref_udata: 0x15, indirect: 0x16, sec_offset: 0x17, exprloc: 0x18, flag_present: 0x19, strx: 0x1a, ref_sup4: 0x1c,
  strp_sup: 0x1d, data16: 0x1e, line_strp: 0x1f, ref_sig8: 0x20, implicit_const: 0x21, ref_sup8: 0x24, strx1: 0x25,
  strx2: 0x26, strx3: 0x27, strx4: 0x28, GNU_ref_alt: 0x1f20, GNU_strp_alt: 0x1f21,
} as const;

const AT_low_pc = 0x11, AT_high_pc = 0x12, AT_stmt_list = 0x10, AT_ranges = 0x55, AT_entry_pc = 0x52, AT_locviews = 0x2137;
/** Attributes whose sec_offset form points into .debug_loclists. */
const LOCLIST_ATTRIBUTES = new Set([0x02, 0x40, 0x38, 0x19, 0x2a, 0x2e, 0x48, 0x4d, 0x4a, 0x37, 0x2f, AT_locviews]);

interface Abbreviation {
  tag: number;
  children: boolean;
  attributes: Array<{ name: number; form: number }>;
}

function readAbbreviations(section: Uint8Array, offset: number): Map<number, Abbreviation> {
  const r = new Reader(section, offset);
  const table = new Map<number, Abbreviation>();
  for (;;) {
    const code = r.uleb();
    if (code === 0) return table;
    const tag = r.uleb();
    const children = r.u8() !== 0;
    const attributes: Abbreviation['attributes'] = [];
    for (;;) {
      const name = r.uleb(), form = r.uleb();
      if (name === 0 && form === 0) break;
      if (form === DW_FORM.implicit_const) r.sleb();
      attributes.push({ name, form });
    }
    table.set(code, { tag, children, attributes });
  }
}

/** A section offset in .debug_info that must be rewritten once the section it points into is rewritten. */
interface Reference {
  at: number;
  target: number;
  /** The old base address of its compilation unit (for list entries relative to it). */
  base: number;
  kind: 'line' | 'ranges' | 'loclist' | 'locviews';
}

/** Skips one attribute value of `form` (32-bit DWARF, 4-byte addresses); returns the value for fixed-size forms. */
function skipForm(r: Reader, form: number, version: number): number | null {
  switch (form) {
    case DW_FORM.addr: case DW_FORM.data4: case DW_FORM.strp: case DW_FORM.ref4: case DW_FORM.sec_offset: case DW_FORM.line_strp:
    case DW_FORM.ref_sup4: case DW_FORM.strp_sup: case DW_FORM.strx4: case DW_FORM.GNU_ref_alt: case DW_FORM.GNU_strp_alt:
      return r.u32();
    case DW_FORM.ref_addr: if (version < 3) throw new Unsupported('DWARF 2 references'); return r.u32();
    case DW_FORM.data1: case DW_FORM.ref1: case DW_FORM.flag: case DW_FORM.strx1: return r.u8();
    case DW_FORM.data2: case DW_FORM.ref2: case DW_FORM.strx2: return r.u16();
    case DW_FORM.strx3: r.skip(3); return null;
    case DW_FORM.data8: case DW_FORM.ref8: case DW_FORM.ref_sig8: case DW_FORM.ref_sup8: r.skip(8); return null;
    case DW_FORM.data16: r.skip(16); return null;
    case DW_FORM.sdata: return r.sleb();
    case DW_FORM.udata: case DW_FORM.ref_udata: case DW_FORM.strx: return r.uleb();
    case DW_FORM.string: r.cstring(); return null;
    case DW_FORM.block1: r.skip(r.u8()); return null;
    case DW_FORM.block2: r.skip(r.u16()); return null;
    case DW_FORM.block4: r.skip(r.u32()); return null;
    case DW_FORM.block: case DW_FORM.exprloc: r.skip(r.uleb()); return null;
    case DW_FORM.flag_present: case DW_FORM.implicit_const: return null;
    case DW_FORM.indirect: return skipForm(r, r.uleb(), version);
    default: throw new Unsupported(`attribute form 0x${form.toString(16)} (indexed addresses or lists)`);
  }
}

/**
 * Patches .debug_info in place (addresses, function and scope lengths) and returns the
 * offsets into other sections it holds, to be rewritten with those sections.
 */
function patchInfo(info: Uint8Array, abbrev: Uint8Array, map: AddressMap): Reference[] {
  const references: Reference[] = [];
  const r = new Reader(info);
  while (!r.done) {
    const { start: unitStart, end: unitEnd } = r.unit();
    const version = r.u16();
    let abbrevOffset: number;
    if (version === 5) {
      const unitType = r.u8();
      if (r.u8() !== 4) throw new Unsupported('addresses of another size');
      abbrevOffset = r.u32();
      if (unitType !== 1) throw new Unsupported(`DWARF 5 unit type ${unitType}`);
    } else throw new Unsupported(`DWARF version ${version}`);
    const abbreviations = readAbbreviations(abbrev, abbrevOffset);
    const unitReferences: Reference[] = [];
    let cuBase: number | null = null;
    while (r.pos < unitEnd) {
      const code = r.uleb();
      if (code === 0) continue;
      const entry = abbreviations.get(code);
      if (!entry) throw new Unsupported(`abbreviation ${code} missing (unit at 0x${unitStart.toString(16)})`);
      let lowPc: number | null = null;
      const relative: Array<{ at: number; size: number; form: number; value: number }> = [];
      for (const { name, form } of entry.attributes) {
        const at = r.pos;
        const value = skipForm(r, form, version);
        if (form === DW_FORM.addr) {
          if (name === AT_low_pc) lowPc = value!;
          put32(info, at, map.map(value!));
        } else if ((name === AT_high_pc || name === AT_entry_pc) && value !== null && form !== DW_FORM.sec_offset) {
          relative.push({ at, size: r.pos - at, form, value });
        } else if (form === DW_FORM.sec_offset) {
          const kind = name === AT_stmt_list ? 'line' : name === AT_ranges ? 'ranges' : name === AT_locviews ? 'locviews'
            : LOCLIST_ATTRIBUTES.has(name) ? 'loclist' : null;
          if (kind) unitReferences.push({ at, target: value!, base: 0, kind });
        }
      }
      cuBase ??= lowPc ?? 0;  // the unit's own entry comes first
      for (const { at, size, form, value } of relative) {
        if (lowPc === null) throw new Unsupported('a length without a start address');
        const newLength = map.map(lowPc + value) - map.map(lowPc);
        const fixed = form === DW_FORM.data1 || form === DW_FORM.data2 || form === DW_FORM.data4;
        // A ULEB keeps its byte count: padded with continuation bits when the new value is shorter.
        const fits = fixed ? newLength < 2 ** (8 * size) : form === DW_FORM.udata && newLength < 2 ** (7 * size);
        if (!fits) throw new Unsupported(`a function or scope length in form 0x${form.toString(16)} that no longer fits`);
        for (let i = 0; i < size; i++) {
          info[at + i] = fixed ? (newLength >>> (8 * i)) & 0xff : (Math.floor(newLength / 2 ** (7 * i)) & 0x7f) | (i < size - 1 ? 0x80 : 0);
        }
      }
    }
    for (const ref of unitReferences) references.push({ ...ref, base: cuBase ?? 0 });
    r.pos = unitEnd;
  }
  return references;
}

// ---------------------------------------------------------------- lists

const RLE = { end: 0, baseAddressx: 1, startxEndx: 2, startxLength: 3, offsetPair: 4, baseAddress: 5, startEnd: 6, startLength: 7 } as const;
const LLE = { end: 0, baseAddressx: 1, startxEndx: 2, startxLength: 3, offsetPair: 4, defaultLocation: 5, baseAddress: 6, startEnd: 7, startLength: 8 } as const;

/**
 * Rewrites a DWARF 5 list section (.debug_rnglists or .debug_loclists): every list a
 * reference points at is decoded and written again with absolute, mapped addresses
 * (view lists are copied as they are: their entries count the list's bounded entries,
 * which stay one for one). Returns the new section and old → new offsets.
 */
function rewriteLists(section: Uint8Array, references: Reference[], kinds: Reference['kind'][], map: AddressMap): { bytes: Uint8Array; moved: Map<number, number> } {
  const E = kinds.includes('ranges') ? RLE : LLE;
  const listed = references.filter((ref) => kinds.includes(ref.kind)).sort((a, b) => a.target - b.target);
  const out = new Writer();
  const moved = new Map<number, number>();
  const r = new Reader(section);
  while (!r.done) {
    const { start: unitStart, end: unitEnd } = r.unit();
    if (r.u16() !== 5) throw new Unsupported('list section of another DWARF version');
    if (r.u8() !== 4 || r.u8() !== 0) throw new Unsupported('list addresses of another size');
    if (r.u32() !== 0) throw new Unsupported('indexed lists');
    const outStart = out.length;
    out.u32(0);
    out.bytes(section.subarray(unitStart + 4, r.pos));
    const inUnit = listed.filter((ref) => ref.target >= r.pos && ref.target < unitEnd);
    for (let k = 0; k < inUnit.length; k++) {
      const ref = inUnit[k]!;
      if (moved.has(ref.target)) continue;
      moved.set(ref.target, out.length);
      const next = inUnit.slice(k + 1).find((other) => other.target > ref.target)?.target ?? unitEnd;
      if (ref.kind === 'locviews') {
        out.bytes(section.subarray(ref.target, next));
        continue;
      }
      const list = new Reader(section, ref.target, unitEnd);
      let base = ref.base;
      for (let kind = list.u8(); ; kind = list.u8()) {
        if (kind === E.end) { out.u8(E.end); break; }
        let start: number, end: number;
        if (kind === E.baseAddress) { base = list.u32(); continue; }
        if (kind === E.offsetPair) { start = base + list.uleb(); end = base + list.uleb(); }
        else if (kind === E.startEnd) { start = list.u32(); end = list.u32(); }
        else if (kind === E.startLength) { start = list.u32(); end = start + list.uleb(); }
        else if (E === LLE && kind === LLE.defaultLocation) {
          const from = list.pos;
          list.skip(list.uleb());
          out.u8(kind);
          out.bytes(list.slice(from));
          continue;
        } else throw new Unsupported(`list entry kind ${kind}`);
        out.u8(E.startEnd);
        out.u32(map.map(start));
        out.u32(map.map(end));
        if (E === LLE) {
          const from = list.pos;
          list.skip(list.uleb());
          out.bytes(list.slice(from));
        }
      }
    }
    out.patch32(outStart, out.length - outStart - 4);
    r.pos = unitEnd;
  }
  return { bytes: out.result(), moved };
}

// ---------------------------------------------------------------- .debug_line

const LNS = { copy: 1, advancePc: 2, advanceLine: 3, setFile: 4, setColumn: 5, negateStmt: 6, setBasicBlock: 7, constAddPc: 8,
  fixedAdvancePc: 9, setPrologueEnd: 10, setEpilogueBegin: 11, setIsa: 12 } as const;
const LNE = { endSequence: 1, setAddress: 2, defineFile: 3, setDiscriminator: 4 } as const;

interface Row {
  address: number; file: number; line: number; column: number; isStmt: boolean; basicBlock: boolean;
  endSequence: boolean; prologueEnd: boolean; epilogueBegin: boolean; isa: number; discriminator: number;
}

/** Writes every line program again with mapped addresses (headers copied); old → new unit offsets. */
function rewriteLines(section: Uint8Array, map: AddressMap): { bytes: Uint8Array; moved: Map<number, number> } {
  const out = new Writer();
  const moved = new Map<number, number>();
  const r = new Reader(section);
  while (!r.done) {
    const { start: unitStart, end: unitEnd } = r.unit();
    const version = r.u16();
    if (version !== 5) throw new Unsupported(`line table version ${version}`);
    r.skip(2);  // address size, segment selector size
    const headerLength = r.u32();
    const programStart = r.pos + headerLength;
    const minimumLength = r.u8();
    r.skip(1);  // maximum operations per instruction
    const defaultIsStmt = r.u8() !== 0;
    const lineBase = (r.u8() << 24) >> 24;
    const lineRange = r.u8();
    const opcodeBase = r.u8();
    const argumentCounts = Array.from({ length: opcodeBase - 1 }, () => r.u8());
    const rows: Row[] = [];
    const fresh = (): Row => ({ address: 0, file: 1, line: 1, column: 0, isStmt: defaultIsStmt, basicBlock: false, endSequence: false,
      prologueEnd: false, epilogueBegin: false, isa: 0, discriminator: 0 });
    let s = fresh();
    const emit = () => {
      rows.push({ ...s });
      s.basicBlock = s.prologueEnd = s.epilogueBegin = false;
      s.discriminator = 0;
    };
    const p = new Reader(section, programStart, unitEnd);
    while (!p.done) {
      const op = p.u8();
      if (op >= opcodeBase) {
        const adjusted = op - opcodeBase;
        s.address += Math.floor(adjusted / lineRange) * minimumLength;
        s.line += lineBase + (adjusted % lineRange);
        emit();
      } else if (op === 0) {
        const size = p.uleb(), next = p.pos + size;
        const sub = p.u8();
        if (sub === LNE.endSequence) {
          s.endSequence = true;
          emit();
          s = fresh();
        } else if (sub === LNE.setAddress) s.address = p.u32();
        else if (sub === LNE.setDiscriminator) s.discriminator = p.uleb();
        else throw new Unsupported(`line program extended opcode ${sub}`);
        p.pos = next;
      } else if (op === LNS.copy) emit();
      else if (op === LNS.advancePc) s.address += p.uleb() * minimumLength;
      else if (op === LNS.advanceLine) s.line += p.sleb();
      else if (op === LNS.setFile) s.file = p.uleb();
      else if (op === LNS.setColumn) s.column = p.uleb();
      else if (op === LNS.negateStmt) s.isStmt = !s.isStmt;
      else if (op === LNS.setBasicBlock) s.basicBlock = true;
      else if (op === LNS.constAddPc) s.address += Math.floor((255 - opcodeBase) / lineRange) * minimumLength;
      else if (op === LNS.fixedAdvancePc) s.address += p.u16();
      else if (op === LNS.setPrologueEnd) s.prologueEnd = true;
      else if (op === LNS.setEpilogueBegin) s.epilogueBegin = true;
      else if (op === LNS.setIsa) s.isa = p.uleb();
      else for (let k = 0; k < argumentCounts[op - 1]!; k++) p.uleb();
    }
    // The header as it was, then the rows: absolute addresses, every change spelled out.
    moved.set(unitStart, out.length);
    const outStart = out.length;
    out.u32(0);
    out.bytes(section.subarray(unitStart + 4, programStart));
    let w = fresh(), started = false;
    for (const row of rows) {
      const address = map.map(row.address);
      if (!started) {
        out.u8(0); out.uleb(5); out.u8(LNE.setAddress); out.u32(address);
        w.address = address;
        started = true;
      } else if (address !== w.address) {
        if (address < w.address) throw new Unsupported('line rows out of order after mapping');
        out.u8(LNS.advancePc); out.uleb((address - w.address) / minimumLength);
        w.address = address;
      }
      if (row.file !== w.file) { out.u8(LNS.setFile); out.uleb(row.file); }
      if (row.column !== w.column) { out.u8(LNS.setColumn); out.uleb(row.column); }
      if (row.line !== w.line) { out.u8(LNS.advanceLine); out.sleb(row.line - w.line); }
      if (row.isStmt !== w.isStmt) out.u8(LNS.negateStmt);
      if (row.isa !== w.isa) { out.u8(LNS.setIsa); out.uleb(row.isa); }
      if (row.basicBlock) out.u8(LNS.setBasicBlock);
      if (row.prologueEnd) out.u8(LNS.setPrologueEnd);
      if (row.epilogueBegin) out.u8(LNS.setEpilogueBegin);
      if (row.discriminator) { out.u8(0); out.uleb(1 + uleb128Size(row.discriminator)); out.u8(LNE.setDiscriminator); out.uleb(row.discriminator); }
      if (row.endSequence) {
        out.u8(0); out.uleb(1); out.u8(LNE.endSequence);
        w = fresh();
        started = false;
      } else {
        out.u8(LNS.copy);
        w = { ...row, address: w.address };
      }
    }
    out.patch32(outStart, out.length - outStart - 4);
    r.pos = unitEnd;
  }
  return { bytes: out.result(), moved };
}

function uleb128Size(v: number): number {
  let n = 1;
  while (v >= 128) { v = Math.floor(v / 128); n++; }
  return n;
}

// ---------------------------------------------------------------- .debug_frame

const CFA = { advanceLoc: 0x40, offset: 0x80, restore: 0xc0, nop: 0, setLoc: 0x01, advanceLoc1: 0x02, advanceLoc2: 0x03, advanceLoc4: 0x04 } as const;

/** Operand shapes of the call-frame instructions without an address (u: ULEB, s: SLEB, b: ULEB-counted block). */
const CFA_OPERANDS: Record<number, string> = {
  0x00: '', 0x05: 'uu', 0x06: 'u', 0x07: 'u', 0x08: 'u', 0x09: 'uu', 0x0a: '', 0x0b: '', 0x0c: 'uu', 0x0d: 'u', 0x0e: 'u', 0x0f: 'b',
  0x10: 'ub', 0x11: 'us', 0x12: 'us', 0x13: 's', 0x14: 'uu', 0x15: 'us', 0x16: 'ub', 0x2e: 'u', 0x2f: 'uu',
};

/** Writes every FDE of .debug_frame again (mapped start, length and advances); CIEs are copied. */
function rewriteFrames(section: Uint8Array, map: AddressMap): Uint8Array {
  const out = new Writer();
  const cieMoved = new Map<number, number>();
  const codeAlignment = new Map<number, number>();
  const r = new Reader(section);
  while (!r.done) {
    const { start, length, end } = r.unit();
    if (length === 0) { out.u32(0); continue; }
    const cie = r.u32();
    if (cie === 0xffffffff) {
      cieMoved.set(start, out.length);
      const version = r.u8();
      const augmentation = r.pos;
      r.cstring();
      if (r.pos !== augmentation + 1) throw new Unsupported('CIE augmentation');
      if (version >= 4) r.skip(2);
      codeAlignment.set(start, r.uleb());
      out.bytes(section.subarray(start, end));
      r.pos = end;
      continue;
    }
    const newCie = cieMoved.get(cie);
    const alignment = codeAlignment.get(cie);
    if (newCie === undefined || alignment === undefined) throw new Unsupported('an FDE before its CIE');
    const initial = r.u32(), range = r.u32();
    const outStart = out.length;
    out.u32(0);
    out.u32(newCie);
    const newInitial = map.map(initial);
    out.u32(newInitial);
    out.u32(map.map(initial + range) - newInitial);
    let old = initial, now = newInitial;
    while (r.pos < end) {
      const op = r.u8();
      const high = op & 0xc0;
      let advance: number | null = null;
      if (high === CFA.advanceLoc) advance = (op & 0x3f) * alignment;
      else if (op === CFA.advanceLoc1) advance = r.u8() * alignment;
      else if (op === CFA.advanceLoc2) advance = r.u16() * alignment;
      else if (op === CFA.advanceLoc4) advance = r.u32() * alignment;
      else if (op === CFA.setLoc) advance = r.u32() - old;
      if (advance !== null) {
        old += advance;
        const target = map.mapUnwind(old);
        if (target < now || (target - now) % alignment !== 0) throw new Unsupported('unwind rows out of order after mapping');
        out.u8(CFA.advanceLoc4);
        out.u32((target - now) / alignment);
        now = target;
        continue;
      }
      const from = r.pos - 1;
      if (high === CFA.offset) r.uleb();
      else if (high !== CFA.restore) {
        const shape = CFA_OPERANDS[op];
        if (shape === undefined) throw new Unsupported(`call-frame instruction 0x${op.toString(16)}`);
        for (const operand of shape) {
          if (operand === 'u') r.uleb();
          else if (operand === 's') r.sleb();
          else r.skip(r.uleb());
        }
      }
      out.bytes(r.slice(from));
    }
    while ((out.length - outStart) % 4 !== 0) out.u8(CFA.nop);
    out.patch32(outStart, out.length - outStart - 4);
    r.pos = end;
  }
  return out.result();
}

// ---------------------------------------------------------------- .debug_aranges

function patchAranges(section: Uint8Array, map: AddressMap): void {
  const r = new Reader(section);
  while (!r.done) {
    const unitStart = r.pos;
    const length = r.u32();
    const end = r.pos + length;
    r.skip(2 + 4);
    if (r.u8() !== 4 || r.u8() !== 0) throw new Unsupported('address ranges of another size');
    r.pos = unitStart + ((r.pos - unitStart + 7) & ~7);  // tuples are aligned to their size within the unit
    while (r.pos + 8 <= end) {
      const at = r.pos;
      const address = r.u32(), size = r.u32();
      if (address === 0 && size === 0) break;
      const newAddress = map.map(address);
      put32(section, at, newAddress);
      put32(section, at + 4, map.map(address + size) - newAddress);
    }
    r.pos = end;
  }
}

// ---------------------------------------------------------------- all of it

/**
 * The input's debug sections rewritten for the translated code, or none (with the
 * reason) when they cannot be rewritten exactly.
 */
export function translateDebugInfo(elf: ElfFile, map: AddressMap): DebugInfoResult {
  const debug = elf.sections.filter((s) => s.name.startsWith('.debug_') && s.size > 0);
  if (debug.length === 0) return { sections: [], note: 'none in the input' };
  const contents = (s: SectionHeader) => elf.bytes.slice(s.offset, s.offset + s.size);
  const byName = new Map<string, Uint8Array>(debug.map((s) => [s.name, contents(s)]));
  try {
    for (const name of ['.debug_loc', '.debug_ranges', '.debug_addr', '.debug_types']) {
      if (byName.has(name)) throw new Unsupported(`${name} (DWARF 4 lists or indexed addresses)`);
    }
    const info = byName.get('.debug_info'), abbrev = byName.get('.debug_abbrev');
    if (!info || !abbrev) throw new Unsupported('no .debug_info');
    const references = patchInfo(info, abbrev, map);
    const patchReferences = (kinds: Reference['kind'][], moved: Map<number, number>) => {
      for (const ref of references) {
        if (!kinds.includes(ref.kind)) continue;
        const target = moved.get(ref.target);
        if (target === undefined) throw new Unsupported(`a ${ref.kind} offset 0x${ref.target.toString(16)} that starts nothing`);
        put32(info, ref.at, target);
      }
    };
    const line = byName.get('.debug_line');
    if (line) {
      const lines = rewriteLines(line, map);
      byName.set('.debug_line', lines.bytes);
      patchReferences(['line'], lines.moved);
    }
    for (const [name, kinds] of [['.debug_rnglists', ['ranges']], ['.debug_loclists', ['loclist', 'locviews']]] as const) {
      const section = byName.get(name);
      if (!section) continue;
      const lists = rewriteLists(section, references, [...kinds], map);
      byName.set(name, lists.bytes);
      patchReferences([...kinds], lists.moved);
    }
    const frame = byName.get('.debug_frame');
    if (frame) byName.set('.debug_frame', rewriteFrames(frame, map));
    const aranges = byName.get('.debug_aranges');
    if (aranges) patchAranges(aranges, map);
    return { sections: [...byName].map(([name, bytes]) => ({ name, contents: bytes })), note: `${byName.size} sections moved with the code` };
  } catch (e) {
    if (e instanceof Unsupported) return { sections: [], note: `left out: ${e.message}` };
    throw e;
  }
}
