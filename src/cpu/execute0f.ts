/**
 * Instruction semantics of the two-byte (0F) opcode map: system instructions,
 * movzx/movsx, setcc/cmovcc/jcc, bit operations, shld/shrd, cmpxchg/xadd, cpuid,
 * rdtsc, rdmsr/wrmsr, bswap. MMX/SSE opcodes raise #UD.
 */
import type { CPU } from './cpu.js';
import { alu, doubleShift, imulTrunc, sext, BITS } from './alu.js';
import { CF, ZF, SIZE_MASK } from './flags.js';
import { loadFarPointer } from './execute.js';
import {
  CPUID_FEATURES, CPUID_SIGNATURE, CR0_PE, CR0_TS, CR4_PCE, CR4_TSD, DESC_CODE, DESC_CONFORMING, DESC_PRESENT, DESC_RW,
  DESC_S, EAX, EBX, ECX, EDX, FS, GS, VEC_NP,
} from './state.js';

const VENDOR = 'memvisor-386';

const MSR_TSC = 0x10;

function osize(c: CPU): number {
  return c.opsize32 ? 4 : 2;
}

function needCpl0(c: CPU): void {
  if (c.protectedMode && c.cpl !== 0) c.gp(0);
}

function needProtected(c: CPU): void {
  if (!c.protectedMode || c.flags & 0x20000) c.ud();
}

/** 0F opcodes LOCK may prefix. */
const LOCKABLE_0F = new Set([0xab, 0xb3, 0xbb, 0xba, 0xb0, 0xb1, 0xc0, 0xc1, 0xc7]);

export function exec0f(c: CPU, op: number): void {
  const reg = c.reg;
  if (c.lock && !LOCKABLE_0F.has(op)) c.ud();
  if (op >= 0x80 && op <= 0x8f) {
    const s = osize(c);
    const rel = c.fetchImm(s);
    if (c.cond(op & 15)) c.eip = s === 4 ? (c.eip + rel) | 0 : (c.eip + rel) & 0xffff;
    return;
  }
  if (op >= 0x40 && op <= 0x4f) {
    const s = osize(c);
    c.decodeModrm();
    const v = c.readRm(s);
    if (c.cond(op & 15)) c.setReg(s, c.modrmReg, v);
    return;
  }
  if (op >= 0x90 && op <= 0x9f) {
    c.decodeModrm();
    c.writeRm(1, c.cond(op & 15) ? 1 : 0);
    return;
  }
  if (op >= 0xc8 && op <= 0xcf) {
    const v = reg[op & 7]!;
    reg[op & 7] = c.opsize32 ? ((v >>> 24) | ((v >>> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24)) : v & ~0xffff;
    return;
  }
  switch (op) {
    case 0x00: group6(c); return;
    case 0x01: group7(c); return;
    case 0x02: case 0x03: larLsl(c, op === 0x02); return;
    case 0x06: needCpl0(c); c.cr0 &= ~CR0_TS; return;
    case 0x08: case 0x09: needCpl0(c); return; // INVD, WBINVD: no caches
    case 0x0b: case 0xb9: case 0xff: c.ud(); return; // UD2, UD1, UD0
    case 0x0d: case 0x18: case 0x19: case 0x1a: case 0x1b: case 0x1c: case 0x1d: case 0x1e: case 0x1f:
      c.decodeModrm(); // hint NOPs and prefetches: operand decoded, never accessed
      return;
    case 0x20: case 0x22: movCr(c, op === 0x22); return;
    case 0x21: case 0x23: movDr(c, op === 0x23); return;
    case 0x30: wrmsr(c); return;
    case 0x31: {
      if (c.cr4 & CR4_TSD && c.protectedMode && c.cpl !== 0) c.gp(0);
      const t = c.readTsc();
      reg[EAX] = t % 0x100000000;
      reg[EDX] = Math.floor(t / 0x100000000);
      return;
    }
    case 0x32: rdmsr(c); return;
    case 0x33: {
      if (!(c.cr4 & CR4_PCE) && c.protectedMode && c.cpl !== 0) c.gp(0);
      if (reg[ECX]! !== 0 && reg[ECX]! !== 1) c.gp(0);
      reg[EAX] = 0; reg[EDX] = 0; // no performance counters: they read as zero
      return;
    }
    case 0xa0: c.push(osize(c), c.sel[FS]!); return;
    case 0xa8: c.push(osize(c), c.sel[GS]!); return;
    case 0xa1: case 0xa9: {
      const s = osize(c);
      c.loadSegment(op === 0xa1 ? FS : GS, c.peek(s) & 0xffff);
      c.adjustEsp(s);
      return;
    }
    case 0xa2: cpuid(c); return;
    case 0xa3: bitOp(c, 0, false); return;
    case 0xab: bitOp(c, 1, false); return;
    case 0xb3: bitOp(c, 2, false); return;
    case 0xbb: bitOp(c, 3, false); return;
    case 0xba: {
      c.decodeModrm();
      if (c.modrmReg < 4) c.ud();
      bitOpDecoded(c, c.modrmReg - 4, true);
      return;
    }
    case 0xa4: case 0xa5: case 0xac: case 0xad: {
      const s = osize(c);
      c.decodeModrm();
      const a = c.readRmw(s);
      const count = op & 1 ? reg[ECX]! & 0xff : c.fetch8();
      c.writeRm(s, doubleShift(c, op < 0xa8, a, c.getReg(s, c.modrmReg), count, s));
      return;
    }
    case 0xaf: {
      const s = osize(c);
      c.decodeModrm();
      c.setReg(s, c.modrmReg, imulTrunc(c, c.getReg(s, c.modrmReg), c.readRm(s), s));
      return;
    }
    case 0xb0: case 0xb1: {
      const s = op & 1 ? osize(c) : 1;
      c.decodeModrm();
      if (c.lock && c.rmReg >= 0) c.ud();
      const dest = c.readRmw(s);
      const acc = c.getReg(s, EAX);
      alu(c, 7, acc, dest, s);
      if (((acc ^ dest) & SIZE_MASK[s]!) === 0) c.writeRm(s, c.getReg(s, c.modrmReg));
      else {
        c.writeRm(s, dest);
        c.setReg(s, EAX, dest);
      }
      return;
    }
    case 0xb2: loadFarPointer(c, 2); return;
    case 0xb4: loadFarPointer(c, FS); return;
    case 0xb5: loadFarPointer(c, GS); return;
    case 0xb6: case 0xb7: case 0xbe: case 0xbf: {
      const s = osize(c);
      const from = op & 1 ? 2 : 1;
      c.decodeModrm();
      const v = c.readRm(from);
      c.setReg(s, c.modrmReg, op >= 0xbe ? sext(v, from) : v);
      return;
    }
    case 0xbc: case 0xbd: {
      const s = osize(c);
      c.decodeModrm();
      const v = c.readRm(s) & SIZE_MASK[s]!;
      c.materializeFlags();
      if (v === 0) {
        c.flags |= ZF;
        return;
      }
      c.flags &= ~ZF;
      c.setReg(s, c.modrmReg, op === 0xbc ? 31 - Math.clz32(v & -v) : 31 - Math.clz32(v));
      return;
    }
    case 0xc0: case 0xc1: {
      const s = op & 1 ? osize(c) : 1;
      c.decodeModrm();
      if (c.lock && c.rmReg >= 0) c.ud();
      const dest = c.readRmw(s);
      const src = c.getReg(s, c.modrmReg);
      const sum = alu(c, 0, dest, src, s);
      c.setReg(s, c.modrmReg, dest);
      c.writeRm(s, sum);
      return;
    }
    case 0xc7: {
      c.decodeModrm();
      if (c.modrmReg !== 1 || c.rmReg >= 0) c.ud();
      const lo = c.rdw(4, c.ea), hi = c.rdw(4, (c.ea + 4) | 0);
      c.materializeFlags();
      if (lo === reg[EAX]! && hi === reg[EDX]!) {
        c.wr32(c.ea, reg[EBX]!);
        c.wr32((c.ea + 4) | 0, reg[ECX]!);
        c.flags |= ZF;
      } else {
        c.wr32(c.ea, lo);
        c.wr32((c.ea + 4) | 0, hi);
        reg[EAX] = lo;
        reg[EDX] = hi;
        c.flags &= ~ZF;
      }
      return;
    }
    default:
      c.ud();
  }
}

/** BT BTS BTR BTC (kind 0..3) with a register bit offset. */
function bitOp(c: CPU, kind: number, immediate: boolean): void {
  c.decodeModrm();
  bitOpDecoded(c, kind, immediate);
}

function bitOpDecoded(c: CPU, kind: number, immediate: boolean): void {
  const s = osize(c);
  const bits = BITS[s]!;
  if (c.lock && (kind === 0 || c.rmReg >= 0)) c.ud();
  let offset: number;
  if (immediate) offset = c.fetch8() & (bits - 1);
  else {
    const raw = c.getReg(s, c.modrmReg);
    if (c.rmReg < 0) {
      // A register offset addresses memory beyond the operand, signed.
      const signed = sext(raw, s);
      c.ea = (c.ea + Math.floor(signed / bits) * s) | 0;
    }
    offset = raw & (bits - 1);
  }
  const v = kind === 0 ? c.readRm(s) : c.readRmw(s);
  const bit = (v >>> offset) & 1;
  c.materializeFlags();
  c.flags = (c.flags & ~CF) | bit;
  if (kind === 0) return;
  const m = 1 << offset;
  c.writeRm(s, kind === 1 ? v | m : kind === 2 ? v & ~m : v ^ m);
}

function cpuid(c: CPU): void {
  const reg = c.reg;
  const leaf = reg[EAX]! >>> 0;
  const text = (s: string) => s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24);
  switch (leaf) {
    case 0:
      reg[EAX] = 1;
      reg[EBX] = text(VENDOR.slice(0, 4));
      reg[EDX] = text(VENDOR.slice(4, 8));
      reg[ECX] = text(VENDOR.slice(8, 12));
      return;
    case 1:
      reg[EAX] = CPUID_SIGNATURE;
      reg[EBX] = 0;
      reg[ECX] = 0;
      reg[EDX] = CPUID_FEATURES;
      return;
    case 0x80000000:
      reg[EAX] = 0x80000000 | 0;
      reg[EBX] = reg[ECX] = reg[EDX] = 0;
      return;
    default:
      reg[EAX] = reg[EBX] = reg[ECX] = reg[EDX] = 0;
  }
}

function rdmsr(c: CPU): void {
  needCpl0(c);
  const reg = c.reg;
  const index = reg[ECX]! >>> 0;
  if (index === MSR_TSC) {
    const t = c.readTsc();
    reg[EAX] = t % 0x100000000;
    reg[EDX] = Math.floor(t / 0x100000000);
    return;
  }
  const value = c.msrHandler?.readMsr(index);
  if (!value) c.gp(0);
  reg[EAX] = value[0];
  reg[EDX] = value[1];
}

function wrmsr(c: CPU): void {
  needCpl0(c);
  const reg = c.reg;
  const index = reg[ECX]! >>> 0;
  if (index === MSR_TSC) {
    const wanted = (reg[EDX]! >>> 0) * 0x100000000 + (reg[EAX]! >>> 0);
    c.tscOffset = wanted - c.instructionCount;
    return;
  }
  if (!c.msrHandler?.writeMsr(index, reg[EAX]! >>> 0, reg[EDX]! >>> 0)) c.gp(0);
}

function movCr(c: CPU, toCr: boolean): void {
  const m = c.fetch8(); // the mod field is ignored: always a register
  const n = (m >> 3) & 7, r = m & 7;
  if (n === 1 || n > 4) c.ud();
  needCpl0(c);
  if (!toCr) {
    c.reg[r] = n === 0 ? c.cr0 : n === 2 ? c.cr2 : n === 3 ? c.cr3 : c.cr4;
    return;
  }
  const v = c.reg[r]!;
  if (n === 0) c.setCr0(v);
  else if (n === 2) c.cr2 = v;
  else if (n === 3) c.setCr3(v);
  else c.setCr4(v);
  // No batch end: nothing here can make an interrupt deliverable, the TLB is flushed where
  // the translation changes, and the dispatcher looks the next block up through it; a
  // block that runs this in place leaves after it (compile.ts interpretAndLeave). MemV6
  // loads CR3 130,000 times a usertests run, all but a few hundred with IF clear, where
  // each batch ended for nothing.
}

function movDr(c: CPU, toDr: boolean): void {
  const m = c.fetch8();
  let n = (m >> 3) & 7;
  const r = m & 7;
  needCpl0(c);
  if (n === 4 || n === 5) n += 2;
  if (toDr) c.dr[n] = c.reg[r]!;
  else c.reg[r] = n === 6 ? c.dr[6]! | 0xffff0ff0 : c.dr[n]!;
}

function group6(c: CPU): void {
  needProtected(c);
  c.decodeModrm();
  switch (c.modrmReg) {
    case 0: storeSelector(c, c.ldtSel); return;
    case 1: storeSelector(c, c.trSel); return;
    case 2: {
      needCpl0(c);
      const sel = c.readRm(2);
      if ((sel & ~3) === 0) {
        c.ldtSel = 0; c.ldtBase = 0; c.ldtLimit = 0;
        return;
      }
      if (sel & 4) c.gp(sel & ~3);
      const d = c.readDescriptor(sel);
      if (!d) c.gp(sel & ~3);
      const access = (d[1] >> 8) & 0xff;
      if ((access & 0x1f) !== 0x02) c.gp(sel & ~3);
      if (!(access & DESC_PRESENT)) c.raise(VEC_NP, sel & ~3);
      c.ldtSel = sel;
      c.ldtBase = (d[0] >>> 16) | ((d[1] & 0xff) << 16) | (d[1] & 0xff000000);
      c.ldtLimit = (d[0] & 0xffff) | (d[1] & 0xf0000);
      if (d[1] & 0x800000) c.ldtLimit = (c.ldtLimit << 12) | 0xfff;
      return;
    }
    case 3: {
      needCpl0(c);
      const sel = c.readRm(2);
      if ((sel & ~3) === 0 || sel & 4) c.gp(sel & ~3);
      const d = c.readDescriptor(sel);
      if (!d) c.gp(sel & ~3);
      const access = (d[1] >> 8) & 0xff;
      const type = access & 0x1f;
      if (type !== 0x01 && type !== 0x09) c.gp(sel & ~3);
      if (!(access & DESC_PRESENT)) c.raise(VEC_NP, sel & ~3);
      c.sysWrite32((c.gdtBase + (sel & ~7)) | 0, d[1] | 0x200); // mark busy
      c.trSel = sel;
      c.trType = type | 2;
      c.trBase = (d[0] >>> 16) | ((d[1] & 0xff) << 16) | (d[1] & 0xff000000);
      c.trLimit = (d[0] & 0xffff) | (d[1] & 0xf0000);
      if (d[1] & 0x800000) c.trLimit = (c.trLimit << 12) | 0xfff;
      return;
    }
    case 4: case 5: {
      const sel = c.readRm(2);
      const ok = verify(c, sel, c.modrmReg === 5);
      c.materializeFlags();
      c.flags = ok ? c.flags | ZF : c.flags & ~ZF;
      return;
    }
    default: c.ud();
  }
}

function storeSelector(c: CPU, sel: number): void {
  if (c.rmReg >= 0) c.setReg(osize(c), c.rmReg, sel);
  else c.wr16(c.ea, sel);
}

/** VERR / VERW: is the segment readable (writable) from here? */
function verify(c: CPU, sel: number, write: boolean): boolean {
  if ((sel & ~3) === 0) return false;
  const d = c.readDescriptor(sel);
  if (!d) return false;
  const access = (d[1] >> 8) & 0xff;
  if (!(access & DESC_S)) return false;
  const dpl = (access >> 5) & 3;
  const conforming = (access & (DESC_CODE | DESC_CONFORMING)) === (DESC_CODE | DESC_CONFORMING);
  if (!conforming && (dpl < c.cpl || dpl < (sel & 3))) return false;
  if (write) return !(access & DESC_CODE) && (access & DESC_RW) !== 0;
  return !(access & DESC_CODE) || (access & DESC_RW) !== 0;
}

/** LAR / LSL. */
function larLsl(c: CPU, lar: boolean): void {
  needProtected(c);
  const s = osize(c);
  c.decodeModrm();
  const sel = c.readRm(2);
  c.materializeFlags();
  const fail = () => { c.flags &= ~ZF; };
  if ((sel & ~3) === 0) return fail();
  const d = c.readDescriptor(sel);
  if (!d) return fail();
  const access = (d[1] >> 8) & 0xff;
  const dpl = (access >> 5) & 3;
  if (access & DESC_S) {
    const conforming = (access & (DESC_CODE | DESC_CONFORMING)) === (DESC_CODE | DESC_CONFORMING);
    if (!conforming && (dpl < c.cpl || dpl < (sel & 3))) return fail();
  } else {
    const type = access & 0xf;
    const allowed = lar ? [1, 2, 3, 4, 5, 9, 0xb, 0xc] : [1, 2, 3, 9, 0xb];
    if (!allowed.includes(type) || dpl < c.cpl || dpl < (sel & 3)) return fail();
  }
  let value: number;
  if (lar) value = d[1] & 0x00ffff00;
  else {
    value = (d[0] & 0xffff) | (d[1] & 0xf0000);
    if (d[1] & 0x800000) value = (value << 12) | 0xfff;
  }
  c.setReg(s, c.modrmReg, value);
  c.flags |= ZF;
}

function group7(c: CPU): void {
  c.decodeModrm();
  const n = c.modrmReg;
  if (n <= 3) {
    c.requireMemory();
    if (n >= 2) {
      needCpl0(c);
      const limit = c.rd16(c.ea);
      let base = c.rd32((c.ea + 2) | 0);
      if (!c.opsize32) base &= 0xffffff;
      if (n === 2) { c.gdtBase = base; c.gdtLimit = limit; } else { c.idtBase = base; c.idtLimit = limit; }
      return;
    }
    const limit = n === 0 ? c.gdtLimit : c.idtLimit;
    const base = n === 0 ? c.gdtBase : c.idtBase;
    c.probeWrite(c.ea, 6);
    c.wr16(c.ea, limit);
    c.wr32((c.ea + 2) | 0, c.opsize32 ? base : base & 0xffffff);
    return;
  }
  if (n === 4) {
    if (c.rmReg >= 0) c.setReg(osize(c), c.rmReg, c.cr0);
    else c.wr16(c.ea, c.cr0);
    return;
  }
  if (n === 6) {
    needCpl0(c);
    const v = c.readRm(2);
    // LMSW sets PE but never clears it; it changes MP, EM, TS.
    c.setCr0((c.cr0 & ~0xe) | (v & 0xf) | (c.cr0 & CR0_PE));
    return;
  }
  if (n === 7) {
    c.requireMemory();
    needCpl0(c);
    c.invalidatePage(c.ea);
    return;
  }
  c.ud();
}

