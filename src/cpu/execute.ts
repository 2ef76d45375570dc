/**
 * Instruction semantics of the one-byte opcode map, and the prefix loop (`step`).
 * Each case is short and calls into alu.ts or the CPU's machinery so that no function
 * grows past what V8 optimises (see ../shared/reference/emulator.md §2.1).
 */
import type { CPU } from './cpu.js';
import { alu, dec, divAcc, imulTrunc, inc, mulAcc, sext, shift, szp } from './alu.js';
import { AF, CF, DF, IF, IOPL, OP_LOGIC, OP_SUB, PF, RF, SF, VM, ZF } from './flags.js';
import { exec0f } from './execute0f.js';
import { stringInstruction } from './strings.js';
import { FPU_SW_ES, x87Instruction } from './x87.js';
import {
  CR0_MP, CR0_TS, CS, DS, EAX, EBP, EBX, ECX, EDX, ES, ESP, FS, GS, SS, VEC_BP, VEC_BR, VEC_DB, VEC_MF, VEC_NM, VEC_OF,
  PREFIX_BYTE,
} from './state.js';

const SEG_PREFIX: Record<number, number> = { 0x26: ES, 0x2e: CS, 0x36: SS, 0x3e: DS, 0x64: FS, 0x65: GS };
/** One-byte opcodes LOCK may prefix (handlers then check the memory destination and ModRM.reg). */
const LOCKABLE = new Uint8Array(256);
for (const b of [0x00, 0x01, 0x08, 0x09, 0x10, 0x11, 0x18, 0x19, 0x20, 0x21, 0x28, 0x29, 0x30, 0x31, 0x80, 0x81, 0x82, 0x83, 0x86, 0x87,
  0xf6, 0xf7, 0xfe, 0xff, 0x0f]) LOCKABLE[b] = 1;

/** Runs one instruction: prefixes, then the opcode. */
export function step(this: CPU): void {
  const c = this;
  const op = c.fetch8();
  if (PREFIX_BYTE[op]) {
    // Prefix state lives in the CPU between here and resetPrefixes (also called on a fault).
    exec1(c, prefixes(c, op));
    c.resetPrefixes();
  } else exec1(c, op);
}

function prefixes(c: CPU, op: number): number {
  for (let n = 0; PREFIX_BYTE[op]; n++) {
    if (n >= 14) c.gp(0); // longer than 15 bytes
    if (op === 0x66) c.opsize32 = !c.code32;
    else if (op === 0x67) c.adsize32 = !c.code32;
    else if (op === 0xf0) c.lock = true;
    else if (op === 0xf2 || op === 0xf3) c.rep = op;
    else c.segOv = SEG_PREFIX[op]!;
    op = c.fetch8();
  }
  if (c.lock && !LOCKABLE[op]) c.ud();
  return op;
}

/** LOCK is allowed only on these read-modify-write forms with a memory destination. */
function checkLock(c: CPU, allowed: boolean): void {
  if (c.lock && (!allowed || c.rmReg >= 0)) c.ud();
}

function jumpRel(c: CPU, rel: number): void {
  c.eip = c.opsize32 ? (c.eip + rel) | 0 : (c.eip + rel) & 0xffff;
}

function osize(c: CPU): number {
  return c.opsize32 ? 4 : 2;
}

export function exec1(c: CPU, op: number): void {
  const reg = c.reg;
  switch (op) {
    case 0x0f: exec0f(c, c.fetch8()); return;
    case 0x06: c.push(osize(c), c.sel[ES]!); return;
    case 0x0e: c.push(osize(c), c.sel[CS]!); return;
    case 0x16: c.push(osize(c), c.sel[SS]!); return;
    case 0x1e: c.push(osize(c), c.sel[DS]!); return;
    case 0x07: popSegment(c, ES); return;
    case 0x17: popSegment(c, SS); c.startShadow(); return;
    case 0x1f: popSegment(c, DS); return;
    case 0x27: daa(c, false); return;
    case 0x2f: daa(c, true); return;
    case 0x37: aaa(c, false); return;
    case 0x3f: aaa(c, true); return;
    case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47: {
      const s = osize(c), r = op & 7;
      c.setReg(s, r, inc(c, c.getReg(s, r), s));
      return;
    }
    case 0x48: case 0x49: case 0x4a: case 0x4b: case 0x4c: case 0x4d: case 0x4e: case 0x4f: {
      const s = osize(c), r = op & 7;
      c.setReg(s, r, dec(c, c.getReg(s, r), s));
      return;
    }
    case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57:
      if (c.opsize32) c.push(4, reg[op & 7]!);
      else c.push(2, reg[op & 7]!);
      return;
    case 0x58: case 0x59: case 0x5a: case 0x5b: case 0x5c: case 0x5d: case 0x5e: case 0x5f: {
      const s = osize(c);
      const v = c.pop(s);
      c.setReg(s, op & 7, v);
      return;
    }
    case 0x60: pusha(c); return;
    case 0x61: popa(c); return;
    case 0x62: bound(c); return;
    case 0x63: arpl(c); return;
    case 0x68: c.push(osize(c), c.fetchImm(osize(c))); return;
    case 0x6a: c.push(osize(c), (c.fetch8() << 24) >> 24); return;
    case 0x69: case 0x6b: {
      const s = osize(c);
      c.decodeModrm();
      const a = c.readRm(s);
      const b = op === 0x69 ? c.fetchImm(s) : (c.fetch8() << 24) >> 24;
      c.setReg(s, c.modrmReg, imulTrunc(c, a, b, s));
      return;
    }
    case 0x6c: case 0x6d: case 0x6e: case 0x6f:
    case 0xa4: case 0xa5: case 0xa6: case 0xa7: case 0xaa: case 0xab: case 0xac: case 0xad: case 0xae: case 0xaf:
      stringInstruction(c, op);
      return;
    case 0x70: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76: case 0x77:
    case 0x78: case 0x79: case 0x7a: case 0x7b: case 0x7c: case 0x7d: case 0x7e: case 0x7f: {
      const rel = (c.fetch8() << 24) >> 24;
      if (c.cond(op & 15)) jumpRel(c, rel);
      return;
    }
    case 0x80: case 0x81: case 0x82: case 0x83: group1(c, op); return;
    case 0x84: case 0x85: {
      const s = op & 1 ? osize(c) : 1;
      c.decodeModrm();
      const a = c.readRm(s);
      c.setLazy(OP_LOGIC, 0, 0, a & c.getReg(s, c.modrmReg), s);
      return;
    }
    case 0x86: case 0x87: {
      const s = op & 1 ? osize(c) : 1;
      c.decodeModrm();
      checkLock(c, true);
      const a = c.readRmw(s);
      c.writeRm(s, c.getReg(s, c.modrmReg));
      c.setReg(s, c.modrmReg, a);
      return;
    }
    case 0x88: c.decodeModrm(); c.writeRm(1, c.getReg8(c.modrmReg)); return;
    case 0x89:
      c.decodeModrm();
      if (c.opsize32) {
        if (c.rmReg >= 0) reg[c.rmReg] = reg[c.modrmReg]!;
        else c.wr32(c.ea, reg[c.modrmReg]!);
      } else c.writeRm(2, reg[c.modrmReg]!);
      return;
    case 0x8a: c.decodeModrm(); c.setReg8(c.modrmReg, c.readRm(1)); return;
    case 0x8b:
      c.decodeModrm();
      if (c.opsize32) reg[c.modrmReg] = c.rmReg >= 0 ? reg[c.rmReg]! : c.rd32(c.ea);
      else c.setReg16(c.modrmReg, c.readRm(2));
      return;
    case 0x8c: {
      c.decodeModrm();
      if (c.modrmReg > 5) c.ud();
      const v = c.sel[c.modrmReg]!;
      if (c.rmReg >= 0) c.setReg(osize(c), c.rmReg, v);
      else c.wr16(c.ea, v);
      return;
    }
    case 0x8d:
      c.decodeModrm();
      c.requireMemory();
      c.setReg(osize(c), c.modrmReg, c.eaOffset);
      return;
    case 0x8e: {
      c.decodeModrm();
      if (c.modrmReg === CS || c.modrmReg > 5) c.ud();
      c.loadSegment(c.modrmReg, c.readRm(2));
      if (c.modrmReg === SS) c.startShadow();
      return;
    }
    case 0x8f: popRm(c); return;
    case 0x90:
      return; // NOP, PAUSE
    case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97: {
      const s = osize(c), r = op & 7;
      const a = c.getReg(s, EAX);
      c.setReg(s, EAX, c.getReg(s, r));
      c.setReg(s, r, a);
      return;
    }
    case 0x98:
      if (c.opsize32) reg[EAX] = (reg[EAX]! << 16) >> 16;
      else c.setReg16(EAX, (reg[EAX]! << 24) >> 24);
      return;
    case 0x99:
      if (c.opsize32) reg[EDX] = reg[EAX]! >> 31;
      else c.setReg16(EDX, (reg[EAX]! << 16) >> 31);
      return;
    case 0x9a: {
      const off = c.fetchImm(osize(c));
      const sel = c.fetch16();
      c.farTransfer(sel, off, true);
      return;
    }
    case 0x9b: // FWAIT: a pending unmasked x87 exception is raised here
      if ((c.cr0 & (CR0_MP | CR0_TS)) === (CR0_MP | CR0_TS)) c.raise(VEC_NM);
      if (c.fpu.sw & FPU_SW_ES) c.raise(VEC_MF);
      return;
    case 0x9c: {
      if (c.flags & VM && ((c.flags & IOPL) >> 12) < 3) c.gp(0);
      c.push(osize(c), c.getEflags() & ~(VM | RF));
      return;
    }
    case 0x9d: {
      if (c.flags & VM && ((c.flags & IOPL) >> 12) < 3) c.gp(0);
      const s = osize(c);
      const v = c.peek(s);
      c.adjustEsp(s);
      c.writeEflagsChecked(s === 4 ? v : (c.getEflags() & ~0xffff) | (v & 0xffff), s, true);
      return;
    }
    case 0x9e: {
      c.materializeFlags();
      const ah = (reg[EAX]! >> 8) & 0xff;
      c.flags = (c.flags & ~(SF | ZF | AF | PF | CF)) | (ah & (SF | ZF | AF | PF | CF));
      return;
    }
    case 0x9f: c.setReg8(4, (c.getEflags() & (SF | ZF | AF | PF | CF)) | 2); return;
    case 0xa0: case 0xa1: case 0xa2: case 0xa3: {
      const s = op & 1 ? osize(c) : 1;
      const off = c.adsize32 ? c.fetch32() : c.fetch16();
      const lin = c.dataAddress(off);
      if (op & 2) c.wr(s, lin, c.getReg(s, EAX));
      else c.setReg(s, EAX, c.rd(s, lin));
      return;
    }
    case 0xa8: c.setLazy(OP_LOGIC, 0, 0, reg[EAX]! & c.fetch8(), 1); return;
    case 0xa9: {
      const s = osize(c);
      c.setLazy(OP_LOGIC, 0, 0, reg[EAX]! & c.fetchImm(s), s);
      return;
    }
    case 0xb0: case 0xb1: case 0xb2: case 0xb3: case 0xb4: case 0xb5: case 0xb6: case 0xb7:
      c.setReg8(op & 7, c.fetch8());
      return;
    case 0xb8: case 0xb9: case 0xba: case 0xbb: case 0xbc: case 0xbd: case 0xbe: case 0xbf:
      if (c.opsize32) reg[op & 7] = c.fetch32();
      else c.setReg16(op & 7, c.fetch16());
      return;
    case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
      const s = op & 1 ? osize(c) : 1;
      c.decodeModrm();
      const a = c.readRmw(s);
      const count = op <= 0xc1 ? c.fetch8() : op <= 0xd1 ? 1 : reg[ECX]! & 0xff;
      c.writeRm(s, shift(c, c.modrmReg, a, count, s));
      return;
    }
    case 0xc2: case 0xc3: {
      const extra = op === 0xc2 ? c.fetch16() : 0;
      const s = osize(c);
      const target = c.peek(s);
      c.adjustEsp(s + extra);
      c.eip = s === 4 ? target : target & 0xffff;
      return;
    }
    case 0xc4: loadFarPointer(c, ES); return;
    case 0xc5: loadFarPointer(c, DS); return;
    case 0xc6: case 0xc7: {
      const s = op & 1 ? osize(c) : 1;
      c.decodeModrm();
      if (c.modrmReg !== 0) c.ud();
      c.writeRm(s, c.fetchImm(s));
      return;
    }
    case 0xc8: enter(c); return;
    case 0xc9: {
      const s = osize(c);
      const ebp = c.stack32 ? reg[EBP]! : reg[EBP]! & 0xffff;
      const v = c.rd(s, c.stackAddress(ebp));
      reg[ESP] = c.stack32 ? (ebp + s) | 0 : (reg[ESP]! & ~0xffff) | ((ebp + s) & 0xffff);
      c.setReg(s, EBP, v);
      return;
    }
    case 0xca: c.farReturn(c.fetch16()); return;
    case 0xcb: c.farReturn(0); return;
    case 0xcc: c.softwareInterrupt(VEC_BP); return;
    case 0xcd: {
      const vector = c.fetch8();
      if (c.flags & VM && ((c.flags & IOPL) >> 12) < 3) c.gp(0);
      c.softwareInterrupt(vector);
      return;
    }
    case 0xce: if (c.getOF()) c.softwareInterrupt(VEC_OF); return;
    case 0xcf: c.iret(); return;
    case 0xd4: {
      const base = c.fetch8();
      if (base === 0) c.raise(0);
      const al = reg[EAX]! & 0xff;
      const r = al % base;
      c.setReg16(EAX, ((Math.floor(al / base) & 0xff) << 8) | r);
      c.setArith(szp(r, 1));
      return;
    }
    case 0xd5: {
      const base = c.fetch8();
      const r = ((reg[EAX]! & 0xff) + ((reg[EAX]! >> 8) & 0xff) * base) & 0xff;
      c.setReg16(EAX, r);
      c.setArith(szp(r, 1));
      return;
    }
    case 0xd6: c.setReg8(0, c.getCF() ? 0xff : 0); return; // SALC
    case 0xd7: {
      const off = c.adsize32 ? reg[EBX]! + (reg[EAX]! & 0xff) : (reg[EBX]! + (reg[EAX]! & 0xff)) & 0xffff;
      c.setReg8(0, c.rd8(c.dataAddress(off)));
      return;
    }
    case 0xd8: case 0xd9: case 0xda: case 0xdb: case 0xdc: case 0xdd: case 0xde: case 0xdf:
      x87Instruction(c, op);
      return;
    case 0xe0: case 0xe1: case 0xe2: case 0xe3: loopJump(c, op); return;
    case 0xe4: case 0xe5: {
      const port = c.fetch8(), s = op & 1 ? osize(c) : 1;
      c.checkIo(port, s);
      c.setReg(s, EAX, c.io.read(port, s as 1 | 2 | 4));
      return;
    }
    case 0xe6: case 0xe7: {
      const port = c.fetch8(), s = op & 1 ? osize(c) : 1;
      c.checkIo(port, s);
      c.io.write(port, s as 1 | 2 | 4, c.getReg(s, EAX) >>> 0);
      return;
    }
    case 0xec: case 0xed: {
      const port = reg[EDX]! & 0xffff, s = op & 1 ? osize(c) : 1;
      c.checkIo(port, s);
      c.setReg(s, EAX, c.io.read(port, s as 1 | 2 | 4));
      return;
    }
    case 0xee: case 0xef: {
      const port = reg[EDX]! & 0xffff, s = op & 1 ? osize(c) : 1;
      c.checkIo(port, s);
      c.io.write(port, s as 1 | 2 | 4, c.getReg(s, EAX) >>> 0);
      return;
    }
    case 0xe8: {
      const s = osize(c);
      const rel = c.fetchImm(s);
      c.push(s, c.eip);
      jumpRel(c, s === 2 ? sext(rel, 2) : rel);
      return;
    }
    case 0xe9: {
      const s = osize(c);
      const rel = c.fetchImm(s);
      jumpRel(c, s === 2 ? sext(rel, 2) : rel);
      return;
    }
    case 0xea: {
      const off = c.fetchImm(osize(c));
      const sel = c.fetch16();
      c.farTransfer(sel, off, false);
      return;
    }
    case 0xeb: jumpRel(c, (c.fetch8() << 24) >> 24); return;
    case 0xf1: c.softwareInterruptNoDpl(VEC_DB); return;
    case 0xf4:
      if (c.protectedMode && c.cpl !== 0) c.gp(0);
      c.halted = true;
      c.eventPending = true;
      return;
    case 0xf5: c.materializeFlags(); c.flags ^= CF; return;
    case 0xf6: case 0xf7: group3(c, op & 1 ? osize(c) : 1); return;
    case 0xf8: c.materializeFlags(); c.flags &= ~CF; return;
    case 0xf9: c.materializeFlags(); c.flags |= CF; return;
    case 0xfa:
      if (c.protectedMode && c.cpl > ((c.flags & IOPL) >> 12)) c.gp(0);
      c.flags &= ~IF;
      return;
    case 0xfb:
      if (c.protectedMode && c.cpl > ((c.flags & IOPL) >> 12)) c.gp(0);
      c.sti();
      return;
    case 0xfc: c.flags &= ~DF; return;
    case 0xfd: c.flags |= DF; return;
    case 0xfe: group4(c); return;
    case 0xff: group5(c); return;
    default:
      if (op < 0x40 && (op & 7) < 6) {
        aluForm(c, op);
        return;
      }
      c.ud();
  }
}

/** The 00–3D ALU block: six forms per operation. */
function aluForm(c: CPU, op: number): void {
  const kind = op >> 3;
  const reg = c.reg;
  switch (op & 7) {
    case 0: {
      c.decodeModrm();
      checkLock(c, kind !== 7);
      const r = alu(c, kind, kind === 7 ? c.readRm(1) : c.readRmw(1), c.getReg8(c.modrmReg), 1);
      if (kind !== 7) c.writeRm(1, r);
      return;
    }
    case 1: {
      const s = osize(c);
      c.decodeModrm();
      checkLock(c, kind !== 7);
      if (s === 4 && c.rmReg >= 0) {
        const r = alu(c, kind, reg[c.rmReg]!, reg[c.modrmReg]!, 4);
        if (kind !== 7) reg[c.rmReg] = r;
        return;
      }
      const a = kind === 7 ? c.readRm(s) : c.readRmw(s);
      const r = alu(c, kind, a, c.getReg(s, c.modrmReg), s);
      if (kind !== 7) c.writeRm(s, r);
      return;
    }
    case 2: {
      c.decodeModrm();
      if (c.lock) c.ud();
      const r = alu(c, kind, c.getReg8(c.modrmReg), c.readRm(1), 1);
      if (kind !== 7) c.setReg8(c.modrmReg, r);
      return;
    }
    case 3: {
      const s = osize(c);
      c.decodeModrm();
      if (c.lock) c.ud();
      if (s === 4) {
        const b = c.rmReg >= 0 ? reg[c.rmReg]! : c.rd32(c.ea);
        const r = alu(c, kind, reg[c.modrmReg]!, b, 4);
        if (kind !== 7) reg[c.modrmReg] = r;
        return;
      }
      const r = alu(c, kind, c.getReg16(c.modrmReg), c.readRm(2), 2);
      if (kind !== 7) c.setReg16(c.modrmReg, r);
      return;
    }
    case 4: {
      if (c.lock) c.ud();
      const r = alu(c, kind, reg[EAX]! & 0xff, c.fetch8(), 1);
      if (kind !== 7) c.setReg8(0, r);
      return;
    }
    default: {
      if (c.lock) c.ud();
      const s = osize(c);
      const r = alu(c, kind, c.getReg(s, EAX), c.fetchImm(s), s);
      if (kind !== 7) c.setReg(s, EAX, r);
    }
  }
}

function group1(c: CPU, op: number): void {
  const s = op & 1 ? osize(c) : 1;
  c.decodeModrm();
  const kind = c.modrmReg;
  checkLock(c, kind !== 7);
  const a = kind === 7 ? c.readRm(s) : c.readRmw(s);
  const b = op === 0x81 ? c.fetchImm(s) : (c.fetch8() << 24) >> 24;
  const r = alu(c, kind, a, s === 1 ? b & 0xff : b, s);
  if (kind !== 7) c.writeRm(s, r);
}

function group3(c: CPU, s: number): void {
  c.decodeModrm();
  const kind = c.modrmReg;
  checkLock(c, kind === 2 || kind === 3);
  switch (kind) {
    case 0: case 1: {
      const a = c.readRm(s);
      c.setLazy(OP_LOGIC, 0, 0, a & c.fetchImm(s), s);
      return;
    }
    case 2: c.writeRm(s, ~c.readRmw(s)); return;
    case 3: {
      const a = c.readRmw(s);
      const r = (0 - a) | 0;
      c.writeRm(s, r);
      c.setLazy(OP_SUB, 0, a, r, s);
      return;
    }
    case 4: mulAcc(c, c.readRm(s), s, false); return;
    case 5: mulAcc(c, c.readRm(s), s, true); return;
    case 6: divAcc(c, c.readRm(s), s, false); return;
    default: divAcc(c, c.readRm(s), s, true); return;
  }
}

function group4(c: CPU): void {
  c.decodeModrm();
  if (c.modrmReg > 1) c.ud();
  checkLock(c, true);
  const a = c.readRmw(1);
  c.writeRm(1, c.modrmReg === 0 ? inc(c, a, 1) : dec(c, a, 1));
}

function group5(c: CPU): void {
  const s = osize(c);
  c.decodeModrm();
  switch (c.modrmReg) {
    case 0: case 1: {
      checkLock(c, true);
      const a = c.readRmw(s);
      c.writeRm(s, c.modrmReg === 0 ? inc(c, a, s) : dec(c, a, s));
      return;
    }
    case 2: {
      if (c.lock) c.ud();
      const target = c.readRm(s);
      c.push(s, c.eip);
      c.eip = s === 4 ? target : target & 0xffff;
      return;
    }
    case 3: case 5: {
      if (c.lock) c.ud();
      c.requireMemory();
      const off = c.rd(s, c.ea);
      const sel = c.rd16((c.ea + s) | 0);
      c.farTransfer(sel, off, c.modrmReg === 3);
      return;
    }
    case 4: {
      if (c.lock) c.ud();
      const target = c.readRm(s);
      c.eip = s === 4 ? target : target & 0xffff;
      return;
    }
    case 6:
      if (c.lock) c.ud();
      c.push(s, c.readRm(s));
      return;
    default:
      c.ud();
  }
}

function popSegment(c: CPU, seg: number): void {
  const s = osize(c);
  c.loadSegment(seg, c.peek(s) & 0xffff);
  c.adjustEsp(s);
}

/** POP r/m: ESP is incremented before the destination address is computed. */
function popRm(c: CPU): void {
  const s = osize(c);
  const v = c.peek(s);
  const esp = c.reg[ESP]!;
  c.adjustEsp(s);
  try {
    c.decodeModrm();
    if (c.modrmReg !== 0) c.ud();
    c.writeRm(s, v);
  } catch (e) {
    c.reg[ESP] = esp;
    throw e;
  }
}

function pusha(c: CPU): void {
  const s = osize(c);
  const reg = c.reg;
  const esp = reg[ESP]!;
  try {
    for (let r = 0; r < 8; r++) c.push(s, r === ESP ? esp : reg[r]!);
  } catch (e) {
    reg[ESP] = esp;
    throw e;
  }
}

/** POPA's eight values, all read (a fault leaves the registers as they were) before any is written. */
const popaValues = new Int32Array(8);
function popa(c: CPU): void {
  const s = osize(c);
  for (let i = 0; i < 8; i++) popaValues[i] = c.peek(s, i * s);
  for (let r = 7, i = 0; r >= 0; r--, i++) if (r !== ESP) c.setReg(s, r, popaValues[i]!);
  c.adjustEsp(8 * s);
}

function bound(c: CPU): void {
  const s = osize(c);
  c.decodeModrm();
  c.requireMemory();
  const index = sext(c.getReg(s, c.modrmReg), s);
  const lower = sext(c.rd(s, c.ea), s);
  const upper = sext(c.rd(s, (c.ea + s) | 0), s);
  if (index < lower || index > upper) c.raise(VEC_BR);
}

function arpl(c: CPU): void {
  if (!c.protectedMode || c.flags & VM) c.ud();
  c.decodeModrm();
  const dest = c.readRmw(2);
  const src = c.getReg16(c.modrmReg);
  c.materializeFlags();
  if ((dest & 3) < (src & 3)) {
    c.writeRm(2, (dest & ~3) | (src & 3));
    c.flags |= ZF;
  } else c.flags &= ~ZF;
}

function loadFarPointer(c: CPU, seg: number): void {
  const s = osize(c);
  c.decodeModrm();
  c.requireMemory();
  const off = c.rd(s, c.ea);
  const sel = c.rd16((c.ea + s) | 0);
  c.loadSegment(seg, sel);
  c.setReg(s, c.modrmReg, off);
  if (seg === SS) c.startShadow();
}
export { loadFarPointer };

function enter(c: CPU): void {
  const s = osize(c);
  const size = c.fetch16();
  const level = c.fetch8() & 31;
  const reg = c.reg;
  const esp = reg[ESP]!, ebp = reg[EBP]!;
  try {
    c.push(s, ebp);
    const frame = reg[ESP]!;
    if (level > 0) {
      let bp = ebp;
      for (let i = 1; i < level; i++) {
        bp = c.stack32 ? (bp - s) | 0 : (bp - s) & 0xffff;
        c.push(s, c.rd(s, c.stackAddress(bp)));
      }
      c.push(s, frame);
    }
    const newEsp = c.stack32 ? (reg[ESP]! - size) | 0 : (reg[ESP]! & ~0xffff) | ((reg[ESP]! - size) & 0xffff);
    // The new stack space must be writable (a real CPU checks the last byte).
    if (size > 0) c.probeWrite(c.stackAddress(c.stack32 ? newEsp : newEsp & 0xffff), 1);
    c.setReg(s, EBP, frame);
    reg[ESP] = newEsp;
  } catch (e) {
    reg[ESP] = esp;
    reg[EBP] = ebp;
    throw e;
  }
}

function loopJump(c: CPU, op: number): void {
  const rel = (c.fetch8() << 24) >> 24;
  const reg = c.reg;
  if (op === 0xe3) {
    const count = c.adsize32 ? reg[ECX]! : reg[ECX]! & 0xffff;
    if (count === 0) jumpRel(c, rel);
    return;
  }
  let count: number;
  if (c.adsize32) count = reg[ECX] = (reg[ECX]! - 1) | 0;
  else {
    count = (reg[ECX]! - 1) & 0xffff;
    c.setReg16(ECX, count);
  }
  const taken = count !== 0 && (op === 0xe2 || (op === 0xe1 ? c.getZF() : !c.getZF()));
  if (taken) jumpRel(c, rel);
}

/** DAA (sub = false) / DAS. */
function daa(c: CPU, sub: boolean): void {
  const oldAl = c.reg[EAX]! & 0xff;
  const oldCf = c.getCF();
  c.materializeFlags();
  const af = c.flags & AF;
  let al = oldAl, cf = 0, newAf = 0;
  if ((al & 0xf) > 9 || af) {
    cf = oldCf | (sub ? (al < 6 ? 1 : 0) : (al + 6 > 0xff ? 1 : 0));
    al = (sub ? al - 6 : al + 6) & 0xff;
    newAf = AF;
  }
  if (oldAl > 0x99 || oldCf) {
    al = (sub ? al - 0x60 : al + 0x60) & 0xff;
    cf = 1;
  }
  c.setReg8(0, al);
  c.setArith(szp(al, 1) | cf | newAf);
}

/** AAA (sub = false) / AAS, as QEMU computes them. */
function aaa(c: CPU, sub: boolean): void {
  const reg = c.reg;
  let al = reg[EAX]! & 0xff, ah = (reg[EAX]! >> 8) & 0xff;
  c.materializeFlags();
  const af = c.flags & AF;
  let flags = c.flags & ~(CF | AF);
  if ((al & 0xf) > 9 || af) {
    if (sub) {
      const borrow = al < 6 ? 1 : 0;
      al = (al - 6) & 0xf;
      ah = (ah - 1 - borrow) & 0xff;
    } else {
      const carry = al > 0xf9 ? 1 : 0;
      al = (al + 6) & 0xf;
      ah = (ah + 1 + carry) & 0xff;
    }
    flags |= CF | AF;
  } else al &= 0xf;
  c.setReg16(EAX, (ah << 8) | al);
  c.setArith(flags);
}

