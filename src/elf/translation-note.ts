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

/** The description bytes of the note for a translation at `offset` with its spill page. */
export function translationNoteDescription(note: { offset: number; spillPage: number }): Uint8Array {
  const desc = new Uint8Array(8);
  const view = new DataView(desc.buffer);
  view.setUint32(0, note.offset, true);
  view.setUint32(4, note.spillPage, true);
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
