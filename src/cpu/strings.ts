/**
 * String instructions (MOVS CMPS STOS LODS SCAS INS OUTS) with REP/REPE/REPNE, 16- and
 * 32-bit addressing, and segment overrides on the source. Registers are committed after
 * every element, so a fault part-way restarts the instruction where it stopped.
 *
 * A repeated instruction does at most REP_CHUNK elements as one instruction: with more
 * left, it stops with EIP on itself, so the run loop counts it, may end its batch there and
 * take an interrupt, and the instruction goes on as the next one, as a processor
 * interrupts a REP between elements. It also stops after an element that made an event
 * pending (a port or MMIO access that raised an interrupt). Where it stops depends only
 * on the count and the guest's own accesses, never on the batch or the tier, so every
 * tier and every slicing of a run agree. A REP of up to REP_CHUNK elements (a page of
 * `rep stosb`) is one instruction, as before; `rep stosb` with ECX = 0xFFFFFFFF is about
 * a million, run in slices. A chunk may cost the host up to a millisecond (elements one by
 * one through a device or unassigned memory), so between chunks the CPU yields to the host
 * once its host deadline has passed (CPU.hostDeadline): --timeout and Ctrl-A X work while
 * such an instruction runs, and the run goes on from the same point.
 *
 * `rep stos` and `rep movs` forward over ordinary RAM run in bulk, a page at a time (into
 * a page with compiled code or a write hook too: the memory is told of the run afterwards);
 * stores into unassigned physical memory, which land nowhere, skip to the end of the page.
 * `rep outs` forward from RAM goes to the port's bulk write where the device has one (the
 * IDE data port takes a sector's worth at a time, up to the element that completes it),
 * and `rep ins` forward into RAM to its bulk read (the IDE data port gives a sector's worth).
 */
import type { CPU } from './cpu.js';
import { alu } from './alu.js';
import { DF } from './flags.js';
import { DS, EAX, ECX, EDI, EDX, ES, ESI } from './state.js';

export function stringInstruction(c: CPU, op: number): void {
  const size = op & 1 ? (c.opsize32 ? 4 : 2) : 1;
  const reg = c.reg;
  const a32 = c.adsize32;
  const mask = a32 ? -1 : 0xffff;
  const delta = c.flags & DF ? -size : size;
  const srcBase = c.segBase[c.segOv >= 0 ? c.segOv : DS]!;
  const dstBase = c.segBase[ES]!;
  const kind = op & 0xfe;
  const isIo = kind === 0x6c || kind === 0x6e;
  if (isIo) c.checkIo(reg[EDX]! & 0xffff, size);
  if (c.rep === 0) {
    stringElement(c, kind, size, srcBase, dstBase, delta, a32);
    return;
  }
  const compare = kind === 0xa6 || kind === 0xae;
  if (!compare && a32 && delta > 0 && (kind === 0xaa || kind === 0xa4)) {
    bulk(c, kind, size, srcBase, dstBase);
    return;
  }
  if (isIo && a32 && delta > 0 && (kind === 0x6e ? c.io.writeString : c.io.readString) !== undefined) {
    bulkIo(c, kind, size as 1 | 2 | 4, kind === 0x6e ? srcBase : dstBase);
    return;
  }
  for (let done = 0; ; done++) {
    const count = reg[ECX]! & mask;
    if (count === 0) return;
    if (done > 0 && stopAt(c, done)) return;
    stringElement(c, kind, size, srcBase, dstBase, delta, a32);
    setIndex(reg, a32, ECX, count - 1);
    if (compare && c.getZF() !== (c.rep === 0xf3)) return;
  }
}

/** Elements of a repeated string instruction that count as one instruction. */
export const REP_CHUNK = 4096;

/**
 * Whether a repeated instruction that has done `done` elements (some left) stops here, to
 * go on as the next instruction: after REP_CHUNK of them, or when an element made an
 * event pending. EIP goes back onto the instruction.
 */
function stopAt(c: CPU, done: number): boolean {
  if (done < REP_CHUNK && !c.eventPending) return false;
  c.eip = c.startEip;
  // A chunk can cost the host a millisecond (stores to a device page, loads from unassigned memory).
  if (done >= REP_CHUNK) c.yieldIfLate();
  return true;
}

/** An index register after an element: all of it with 32-bit addresses, its low half with 16-bit ones. */
function setIndex(reg: Int32Array, a32: boolean, r: number, v: number): void {
  reg[r] = a32 ? v | 0 : (reg[r]! & ~0xffff) | (v & 0xffff);
}

function stringElement(c: CPU, kind: number, size: number, srcBase: number, dstBase: number, delta: number, a32: boolean): void {
  const reg = c.reg;
  const mask = a32 ? -1 : 0xffff;
  const si = reg[ESI]! & mask, di = reg[EDI]! & mask;
  switch (kind) {
    case 0xa4: // MOVS
      c.wr(size, (dstBase + di) | 0, c.rd(size, (srcBase + si) | 0));
      setIndex(reg, a32, ESI, si + delta);
      setIndex(reg, a32, EDI, di + delta);
      return;
    case 0xa6: { // CMPS
      const a = c.rd(size, (srcBase + si) | 0);
      const b = c.rd(size, (dstBase + di) | 0);
      alu(c, 7, a, b, size);
      setIndex(reg, a32, ESI, si + delta);
      setIndex(reg, a32, EDI, di + delta);
      return;
    }
    case 0xaa: // STOS
      c.wr(size, (dstBase + di) | 0, reg[EAX]!);
      setIndex(reg, a32, EDI, di + delta);
      return;
    case 0xac: // LODS
      c.setReg(size, EAX, c.rd(size, (srcBase + si) | 0));
      setIndex(reg, a32, ESI, si + delta);
      return;
    case 0xae: // SCAS
      alu(c, 7, c.getReg(size, EAX), c.rd(size, (dstBase + di) | 0), size);
      setIndex(reg, a32, EDI, di + delta);
      return;
    case 0x6c: { // INS: the destination is probed before the port is read
      const lin = (dstBase + di) | 0;
      c.probeWrite(lin, size);
      c.wr(size, lin, c.io.read(reg[EDX]! & 0xffff, size as 1 | 2 | 4));
      setIndex(reg, a32, EDI, di + delta);
      return;
    }
    default: // OUTS
      c.io.write(reg[EDX]! & 0xffff, size as 1 | 2 | 4, c.rd(size, (srcBase + si) | 0) >>> 0);
      setIndex(reg, a32, ESI, si + delta);
  }
}

/**
 * REP OUTS from RAM and REP INS into RAM, forward with 32-bit addresses, in a page in the
 * TLB: the elements up to the page's end go to the port's bulk write or read
 * (IoSpace.writeString/readString), which takes or gives those that only move data (an IDE
 * sector up to its last element); anything else goes element by element (INS probing its
 * destination before the port is read). The elements, the registers after each run, and
 * where the instruction stops (stopAt, after the element that raised an event) are those
 * of the element-by-element loop.
 */
function bulkIo(c: CPU, kind: number, size: 1 | 2 | 4, base: number): void {
  const reg = c.reg;
  const port = reg[EDX]! & 0xffff;
  const input = kind === 0x6c, index = input ? EDI : ESI;
  for (let done = 0; (reg[ECX]! >>> 0) !== 0;) {
    const count = reg[ECX]! >>> 0;
    if (done > 0 && stopAt(c, done)) return;
    const at = (base + reg[index]!) | 0;
    const t = (input ? c.tlbW : c.tlbR)[at >>> 12]!;
    const n = Math.min(count, Math.floor((0x1000 - (at & 0xfff)) / size), REP_CHUNK - done);
    // An odd write entry marks a page with compiled code or a write hook (the memory hears of
    // the run afterwards); an odd read entry has no host bytes to read.
    const host = (t & ~1) ^ at;
    const taken = n < 2 ? 0 : input ? (t === -1 ? 0 : c.io.readString!(port, size, c.u8, host, n))
      : ((t & 1) !== 0 ? 0 : c.io.writeString!(port, size, c.u8, host, n));
    if (taken === 0) {
      stringElement(c, kind, size, base, base, size, true);
      reg[ECX] = (count - 1) | 0;
      done++;
      continue;
    }
    if (input && (t & 1) !== 0) c.mem.afterMarkedWrite(host, taken * size);
    reg[index] = (reg[index]! + taken * size) | 0;
    reg[ECX] = (count - taken) | 0;
    done += taken;
  }
}

/**
 * REP STOS / REP MOVS forward with 32-bit addresses over pages that are in the TLB:
 * whole runs within a page become one fill or copy, up to REP_CHUNK elements.
 */
function bulk(c: CPU, kind: number, size: number, srcBase: number, dstBase: number): void {
  const reg = c.reg;
  const u8 = c.u8;
  for (let done = 0; (reg[ECX]! >>> 0) !== 0;) {
    const di = reg[EDI]!, dst = (dstBase + di) | 0;
    const count = reg[ECX]! >>> 0;
    if (done > 0 && stopAt(c, done)) return;
    let n = Math.min(count, Math.floor((0x1000 - (dst & 0xfff)) / size), REP_CHUNK - done);
    let src = 0;
    if (kind === 0xa4) {
      src = (srcBase + reg[ESI]!) | 0;
      n = Math.min(n, Math.floor((0x1000 - (src & 0xfff)) / size));
    }
    const tw = c.tlbW[dst >>> 12]!;
    const tr = kind === 0xa4 ? c.tlbR[src >>> 12]! : 0;
    // An odd write entry marks a page with compiled code or a write hook: the memory hears of the run afterwards.
    const marked = (tw & 1) !== 0;
    const host = (tw & ~1) ^ dst;
    // An odd read entry (-1, or a device page) has no host bytes to copy from.
    const overlapping = kind === 0xa4 && (tr & 1) === 0 && tw !== -1 && (tr ^ src) < host && (tr ^ src) + n * size > host;
    if (n < 2 || tw === -1 || (tr & 1) !== 0 || overlapping) {
      // One element through the normal path (fills the TLB, or crosses a page).
      stringElement(c, kind, size, srcBase, dstBase, size, true);
      reg[ECX] = (count - 1) | 0;
      done++;
      // Stores into unassigned physical memory land nowhere: the rest of the run on this
      // page is only the registers moving (a source in RAM is read without side effects).
      if (tw === -1 && n > 1 && (kind === 0xaa || (tr & 1) === 0) && c.discardsWrites(dst)) {
        const rest = n - 1;
        if (kind === 0xa4) reg[ESI] = (reg[ESI]! + rest * size) | 0;
        reg[EDI] = (reg[EDI]! + rest * size) | 0;
        reg[ECX] = (count - 1 - rest) | 0;
        done += rest;
      }
      continue;
    }
    done += n;
    const bytes = n * size;
    if (kind === 0xaa) {
      const v = reg[EAX]!;
      if (size === 1) u8.fill(v & 0xff, host, host + bytes);
      else if (size === 4 && (host & 3) === 0) c.i32.fill(v, host >> 2, (host + bytes) >> 2);
      else for (let i = 0; i < bytes; i++) u8[host + i] = v >>> (8 * (i % size));
    } else {
      const from = tr ^ src;
      u8.copyWithin(host, from, from + bytes);
      reg[ESI] = (reg[ESI]! + bytes) | 0;
    }
    if (marked) c.mem.afterMarkedWrite(host, bytes);
    reg[EDI] = (di + bytes) | 0;
    reg[ECX] = (count - n) | 0;
  }
}
