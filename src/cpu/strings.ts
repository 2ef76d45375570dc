/**
 * String instructions (MOVS CMPS STOS LODS SCAS INS OUTS) with REP/REPE/REPNE, 16- and
 * 32-bit addressing, and segment overrides on the source. Registers are committed after
 * every element, so a fault part-way restarts the instruction where it stopped.
 *
 * Each element of a repeated instruction counts as one instruction (as QEMU's -icount
 * counts them), charged to the run loop's batch as it goes: when the batch has no room for
 * another element, or an element made an event pending (a port or MMIO write that raised
 * an interrupt), the instruction stops with EIP on itself and goes on in the next batch,
 * after any interrupt is taken, as a real processor interrupts a REP between elements.
 * So `rep stosb` with ECX = 0xFFFFFFFF takes 43 s of virtual time, in slices, and never
 * holds the host's event loop (--timeout, Ctrl-A X).
 *
 * `rep stos` and `rep movs` forward over ordinary RAM run in bulk, a page at a time (into
 * a page with compiled code or a write hook too: the memory is told of the run afterwards);
 * stores into unassigned physical memory, which land nowhere, skip to the end of the page.
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
  const setIndex = (r: number, v: number) => {
    reg[r] = a32 ? v | 0 : (reg[r]! & ~0xffff) | (v & 0xffff);
  };
  if (c.rep === 0) {
    stringElement(c, kind, size, srcBase, dstBase, mask, delta, setIndex);
    return;
  }
  const compare = kind === 0xa6 || kind === 0xae;
  if (!compare && a32 && delta > 0 && (kind === 0xaa || kind === 0xa4)) {
    bulk(c, kind, size, srcBase, dstBase);
    return;
  }
  for (let done = 0; ; done++) {
    const count = reg[ECX]! & mask;
    if (count === 0) return;
    if (done > 0 && !charge(c, 1)) return;
    stringElement(c, kind, size, srcBase, dstBase, mask, delta, setIndex);
    setIndex(ECX, count - 1);
    if (compare && c.getZF() !== (c.rep === 0xf3)) return;
  }
}

/**
 * Charges `n` more elements of a repeated instruction to the batch, the first element
 * excepted (the run loop counts the instruction itself). False, with EIP back on the
 * instruction, when the batch has no room for them or an event is pending: it goes on
 * in the next batch.
 */
function charge(c: CPU, n: number): boolean {
  if (c.batchLeft <= n || c.eventPending) {
    c.eip = c.startEip;
    return false;
  }
  c.batchLeft -= n;
  return true;
}

/** How many more elements the batch has room for (`done` elements of this instruction ran already). */
function room(c: CPU, done: number): number {
  return done === 0 ? Math.max(c.batchLeft, 1) : c.batchLeft - 1;
}

function stringElement(c: CPU, kind: number, size: number, srcBase: number, dstBase: number, mask: number, delta: number,
  setIndex: (r: number, v: number) => void): void {
  const reg = c.reg;
  const si = reg[ESI]! & mask, di = reg[EDI]! & mask;
  switch (kind) {
    case 0xa4: // MOVS
      c.wr(size, (dstBase + di) | 0, c.rd(size, (srcBase + si) | 0));
      setIndex(ESI, si + delta);
      setIndex(EDI, di + delta);
      return;
    case 0xa6: { // CMPS
      const a = c.rd(size, (srcBase + si) | 0);
      const b = c.rd(size, (dstBase + di) | 0);
      alu(c, 7, a, b, size);
      setIndex(ESI, si + delta);
      setIndex(EDI, di + delta);
      return;
    }
    case 0xaa: // STOS
      c.wr(size, (dstBase + di) | 0, reg[EAX]!);
      setIndex(EDI, di + delta);
      return;
    case 0xac: // LODS
      c.setReg(size, EAX, c.rd(size, (srcBase + si) | 0));
      setIndex(ESI, si + delta);
      return;
    case 0xae: // SCAS
      alu(c, 7, c.getReg(size, EAX), c.rd(size, (dstBase + di) | 0), size);
      setIndex(EDI, di + delta);
      return;
    case 0x6c: { // INS: the destination is probed before the port is read
      const lin = (dstBase + di) | 0;
      c.probeWrite(lin, size);
      c.wr(size, lin, c.io.read(reg[EDX]! & 0xffff, size as 1 | 2 | 4));
      setIndex(EDI, di + delta);
      return;
    }
    default: // OUTS
      c.io.write(reg[EDX]! & 0xffff, size as 1 | 2 | 4, c.rd(size, (srcBase + si) | 0) >>> 0);
      setIndex(ESI, si + delta);
  }
}

/**
 * REP STOS / REP MOVS forward with 32-bit addresses over pages that are in the TLB:
 * whole runs within a page become one fill or copy, charged to the batch element by
 * element like the slow loop.
 */
function bulk(c: CPU, kind: number, size: number, srcBase: number, dstBase: number): void {
  const reg = c.reg;
  const u8 = c.u8;
  for (let done = 0; (reg[ECX]! >>> 0) !== 0;) {
    const di = reg[EDI]!, dst = (dstBase + di) | 0;
    const count = reg[ECX]! >>> 0;
    let n = Math.min(count, Math.floor((0x1000 - (dst & 0xfff)) / size), room(c, done));
    if (n === 0 || (done > 0 && c.eventPending)) {
      c.eip = c.startEip;
      return;
    }
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
      if (done > 0) c.batchLeft--;
      stringElement(c, kind, size, srcBase, dstBase, -1, size, (r, v) => { reg[r] = v | 0; });
      reg[ECX] = (count - 1) | 0;
      done++;
      // Stores into unassigned physical memory land nowhere: the rest of the run on this
      // page is only the registers moving (a source in RAM is read without side effects).
      if (tw === -1 && n > 1 && (kind === 0xaa || (tr & 1) === 0) && c.discardsWrites(dst)) {
        const rest = n - 1;
        c.batchLeft -= rest;
        if (kind === 0xa4) reg[ESI] = (reg[ESI]! + rest * size) | 0;
        reg[EDI] = (reg[EDI]! + rest * size) | 0;
        reg[ECX] = (count - 1 - rest) | 0;
        done += rest;
      }
      continue;
    }
    c.batchLeft -= done === 0 ? n - 1 : n;
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
