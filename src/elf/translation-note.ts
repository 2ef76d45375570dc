/**
 * The note that marks a program made by `memvisor translate`: a PT_NOTE named "MemV6",
 * type 1 (translated), whose description is the mirror offset and then the address of
 * the translator's spill page, a little-endian u32 each (a 4-byte description has no
 * spill page). The translator writes it; the translator (refusing its own output), its
 * verifier and `memvisor exec --mirror` read it here; MemV6's exec reads the same bytes
 * (guest/kernel/exec.c).
 */
import { MemvisorError } from '../errors.js';
import { mirrorOffsetProblem } from '../layout.js';
import type { ElfFile } from './index.js';

export const MEMV6_NOTE_NAME = 'MemV6';
export const MEMV6_NOTE_TRANSLATED = 1;

export interface TranslationNote {
  /** Mirror stores go to address + offset. */
  offset: number;
  /** The translator's scratch page, which has no twin (null in a 4-byte note). */
  spillPage: number | null;
}

/** The description bytes of the note for a translation at `offset` with its spill page (4 bytes without one). */
export function translationNoteDescription(note: TranslationNote): Uint8Array {
  const desc = new Uint8Array(note.spillPage === null ? 4 : 8);
  const view = new DataView(desc.buffer);
  view.setUint32(0, note.offset, true);
  if (note.spillPage !== null) view.setUint32(4, note.spillPage, true);
  return desc;
}

/** The program's translation note, or null for a program not made by the translator. */
export function readTranslationNote(elf: ElfFile): TranslationNote | null {
  const note = elf.notes.find((n) => n.name === MEMV6_NOTE_NAME && n.type === MEMV6_NOTE_TRANSLATED);
  if (!note) return null;
  const malformed = (why: string): never => {
    throw new MemvisorError(`${elf.path}: malformed MemV6 translation note (${why})`);
  };
  if (note.desc.length !== 4 && note.desc.length !== 8) malformed(`${note.desc.length} description bytes, 4 or 8 expected`);
  const view = new DataView(note.desc.buffer, note.desc.byteOffset, note.desc.byteLength);
  const offset = view.getUint32(0, true);
  const offsetProblem = mirrorOffsetProblem(offset);
  if (offsetProblem) malformed(`offset 0x${offset.toString(16)} is ${offsetProblem}`);
  const spillPage = note.desc.length === 8 ? view.getUint32(4, true) : null;
  if (spillPage !== null && spillPage % 4096 !== 0) malformed(`spill page 0x${spillPage.toString(16)} is not page-aligned`);
  return { offset, spillPage };
}

/**
 * The translator's record of where store pairs are open: a section (not loaded) of
 * little-endian u32 pairs [start, end), sorted and disjoint. While EIP lies in one, a
 * native store has been made and its mirror store has not (docs/system-mode.md §4).
 */
export const STORE_PAIRS_SECTION = '.memvisor.pairs';

/** The bytes of the store-pair section for these [start, end) intervals (merged and sorted here). */
export function storePairsSection(intervals: Array<[number, number]>): Uint8Array {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const [start, end] of sorted) {
    const last = merged[merged.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  const bytes = new Uint8Array(merged.length * 8);
  const view = new DataView(bytes.buffer);
  merged.forEach(([start, end], i) => { view.setUint32(i * 8, start, true); view.setUint32(i * 8 + 4, end, true); });
  return bytes;
}

/** The program's store pairs as [start, end) intervals, or null when it has no such section. */
export function readStorePairs(elf: ElfFile): Array<[number, number]> | null {
  const section = elf.sections.find((s) => s.name === STORE_PAIRS_SECTION);
  if (!section) return null;
  if (section.size % 8 !== 0 || section.offset + section.size > elf.bytes.length) {
    throw new MemvisorError(`${elf.path}: malformed ${STORE_PAIRS_SECTION} section (${section.size} bytes)`);
  }
  const view = new DataView(elf.bytes.buffer, elf.bytes.byteOffset + section.offset, section.size);
  const pairs: Array<[number, number]> = [];
  for (let at = 0; at < section.size; at += 8) {
    const start = view.getUint32(at, true), end = view.getUint32(at + 4, true);
    if (end <= start || (pairs.length > 0 && start < pairs[pairs.length - 1]![1])) {
      throw new MemvisorError(`${elf.path}: malformed ${STORE_PAIRS_SECTION} section (intervals out of order at byte ${at})`);
    }
    pairs.push([start, end]);
  }
  return pairs;
}
