/**
 * The independent verifier (reference §4.8.1). It does not look at the rewriter's
 * bookkeeping: it re-decodes the original and the output, walks both in step, and checks
 * that every original instruction appears once (changed only in branch targets and code
 * pointers), that every writer is followed (call: preceded) by a mirror sequence that
 * provably writes the bytes iced says the writer wrote at +OFFSET, that inserted code
 * touches no flags, that branches land on group starts, that every code pointer in data
 * was moved, and that the rest of the image is unchanged (old code poisoned with int3).
 */
import { type ElfFile, PT_LOAD, R_386_32, SHF_ALLOC, SHF_EXECINSTR, SHT_NOBITS, parseElf, readTranslationNote } from '../elf/index.js';
import { IMAGE_END_SYMBOLS, NOMIRROR_SECTION } from './discover.js';
import type { Scratch } from './rewrite.js';
import {
  Code, Decoder, DecoderOptions, InstructionInfoFactory, MemorySizeExt, Mnemonic, OpAccess, OpKind, Register,
  disassemble, fullGpr32, type Instruction,
} from './iced.js';
import { hex } from './discover.js';

export interface VerifyResult {
  errors: string[];
  summary: string;
}

const WRITES = new Set<number>([OpAccess.Write, OpAccess.CondWrite, OpAccess.ReadWrite, OpAccess.ReadCondWrite]);
const STATEFUL = new Set<number>([Mnemonic.Fnsave, Mnemonic.Fsave, Mnemonic.Fnstenv, Mnemonic.Fstenv, Mnemonic.Fxsave]);

interface Mem { base: number; index: number; scale: number; disp: number }
const memOf = (i: Instruction): Mem => ({ base: i.memoryBase, index: i.memoryIndex, scale: i.memoryIndexScale, disp: Number(BigInt.asUintN(32, i.memoryDisplacement)) });
const sameAddress = (a: Mem, b: Mem, delta: number) => a.base === b.base && a.index === b.index
  && (a.index === Register.None || a.scale === b.scale) && ((a.disp + delta) >>> 0) === b.disp;

function decodeRange(bytes: Uint8Array, fileOffset: number, address: number, size: number): Instruction[] {
  const decoder = new Decoder(32, bytes.subarray(fileOffset, fileOffset + size), DecoderOptions.None);
  decoder.ip = BigInt(address);
  const out: Instruction[] = [];
  while (decoder.canDecode) out.push(decoder.decode());
  decoder.free();
  return out;
}

const isMovStore = (i: Instruction) => i.code === Code.Mov_rm32_r32 || i.code === Code.Mov_rm16_r16 || i.code === Code.Mov_rm8_r8;
const isMovLoad = (i: Instruction) => i.code === Code.Mov_r32_rm32 || i.code === Code.Mov_r16_rm16 || i.code === Code.Mov_r8_rm8;
const moveSize = (i: Instruction) => i.code === Code.Mov_rm32_r32 || i.code === Code.Mov_r32_rm32 ? 4 : i.code === Code.Mov_rm16_r16 || i.code === Code.Mov_r16_rm16 ? 2 : 1;

const ESP0: Mem = { base: Register.ESP, index: Register.None, scale: 1, disp: 0 };
const at = (m: Mem, delta: number): Mem => ({ ...m, disp: (m.disp + delta) >>> 0 });

export function verifyTranslation(originalBytes: Uint8Array, outputBytes: Uint8Array, options: { path: string; offset: number; scratch?: Scratch }): VerifyResult {
  const OFF = options.offset >>> 0;
  const stack = options.scratch === 'stack';
  const errors: string[] = [];
  const original = parseElf(originalBytes, options.path);
  const output = parseElf(outputBytes, `${options.path} (translated)`);
  const info = new InstructionInfoFactory();
  const codeSections = original.sections.filter((s) => (s.flags & (SHF_ALLOC | SHF_EXECINSTR)) === (SHF_ALLOC | SHF_EXECINSTR) && s.size > 0);
  const newText = output.sections.find((s) => s.name === '.text');
  const spill = output.sections.find((s) => s.name === '.memvisor.spill');
  const note = readTranslationNote(output);
  if (!newText || (!spill && !stack)) return { errors: ['output has no .text or .memvisor.spill section'], summary: '' };
  if (stack && spill) errors.push('a translation with stack scratch has a spill page');
  if (note?.offset !== OFF || note.spillPage !== (spill?.addr ?? null)) errors.push('missing or wrong MemV6 note');
  const inSpill = (m: Mem) => spill !== undefined && m.base === Register.None && m.index === Register.None && m.disp >= spill.addr && m.disp + 4 <= spill.addr + spill.size;
  // What the program lists as device-register stores, and where its image ends (the `end` symbol moves there).
  const unmirrored = listedAddresses(original, NOMIRROR_SECTION);
  const imageEnds = new Set(original.symbols.filter((y) => IMAGE_END_SYMBOLS.has(y.name)).map((y) => y.value >>> 0));
  const outputEnd = Math.max(...output.programHeaders.filter((p) => p.type === PT_LOAD).map((p) => p.vaddr + p.memsz)) >>> 0;
  /** Stack scratch: push r ; mov r,OFF(%esp) — a saved register and its mirror. */
  const pushedRegister = (): number | string => {
    const push = next(); const mirror = next();
    if (!insertedOk(push) || !insertedOk(mirror) || push.code !== Code.Push_r32 || mirror.code !== Code.Mov_rm32_r32
      || mirror.op1Register !== push.op0Register || !sameAddress(at(ESP0, OFF), memOf(mirror), 0)) return 'scratch push is not followed by its mirror';
    return push.op0Register;
  };
  const stubSymbol = output.symbols.find((s) => s.name === '__memvisor_linux_stub');
  const olds = codeSections.flatMap((s) => decodeRange(originalBytes, s.offset, s.addr, s.size));
  const news = decodeRange(outputBytes, newText.offset, newText.addr, newText.size);
  const groupStart = new Map<number, number>();
  const pendingBranches: Array<[Instruction, number]> = [];
  const pendingImmediates: Array<[number, number, string]> = [];
  const newStarts = new Set(news.map((n) => n.ip32));
  let j = 0;
  let checkedWriters = 0;
  let inserted = 0;
  const fail = (o: Instruction, what: string) => { errors.push(`${hex(o.ip32)} ${disassemble(o)}: ${what}`); };
  const next = () => news[j++];
  const peek = (k = 0) => news[j + k];
  const insertedOk = (n: Instruction | undefined): n is Instruction => {
    if (!n) return false;
    inserted++;
    if (n.rflagsModified !== 0) { errors.push(`${hex(n.ip32)} ${disassemble(n)}: inserted instruction changes flags`); }
    return true;
  };
  const inCode = (a: number) => codeSections.some((s) => a >= s.addr && a < s.addr + s.size);

  /**
   * mov t,S ; (mov m+k,t ; mov t,m'+k)* ; mov S,t — or with stack scratch
   * push t ; mov t,OFF(%esp) ; (mov m+4?+k,t ; mov t,m'+4?+k)* ; pop t — returns covered byte offsets, or a reason.
   */
  const copySequence = (m: Mem, regDelta: Mem | undefined): Set<number> | string => {
    let scratch: number;
    let moved = 0;
    if (stack) {
      const pushed = pushedRegister();
      if (typeof pushed === 'string') return pushed;
      scratch = pushed;
      if (fullGpr32(m.base) === Register.ESP) moved = 4;
    } else {
      const save = next();
      if (!insertedOk(save) || !isMovStore(save) || !inSpill(memOf(save)) || moveSize(save) !== 4) return 'no scratch save';
      scratch = save.op1Register;
    }
    if (scratch === fullGpr32(m.base) || scratch === fullGpr32(m.index)) return 'scratch register is an address register';
    const covered = new Set<number>();
    for (;;) {
      const load = peek();
      if (stack && load && load.code === Code.Pop_r32 && load.op0Register === scratch) { insertedOk(next()); return covered; }
      if (!stack && load && isMovLoad(load) && inSpill(memOf(load)) && load.op0Register === scratch) { insertedOk(next()); return covered; }
      const store = peek(1);
      if (!load || !store || !isMovLoad(load) || !isMovStore(store)) return 'copy sequence broken';
      insertedOk(next()); insertedOk(next());
      if (fullGpr32(load.op0Register) !== scratch || store.op1Register !== load.op0Register) return 'copy does not go through the scratch register';
      const from = memOf(load); const to = memOf(store);
      const base = at(regDelta ?? m, moved);
      const k = (from.disp - base.disp) | 0;
      if (!sameAddress(base, from, k) || !sameAddress(from, to, OFF)) return `copy ${disassemble(load)} / ${disassemble(store)} is not m+k -> m+k+OFFSET`;
      for (let b = 0; b < moveSize(load); b++) covered.add(k + b);
    }
  };

  for (const o of olds) {
    groupStart.set(o.ip32, peek()?.ip32 ?? -1);
    const oinfo = info.info(o);
    const written: Array<Mem & { size: number }> = [];
    for (const u of oinfo.usedMemory()) {
      if (WRITES.has(u.access)) written.push({ base: u.base, index: u.index, scale: u.scale, disp: Number(BigInt.asUintN(32, u.displacement)), size: MemorySizeExt.size(u.memorySize) });
      u.free();
    }
    const writtenRegs = new Set<number>();
    for (const r of oinfo.usedRegisters()) { if (WRITES.has(r.access)) writtenRegs.add(fullGpr32(r.register)); r.free(); }
    oinfo.free();
    const isCall = o.isCallNear || o.isCallNearIndirect;
    const isSyscall = o.code === Code.Int_imm8 && o.immediate8 === 0x80 && stubSymbol !== undefined;
    const rep = o.isStringInstruction && (o.hasRepPrefix || o.hasRepnePrefix) && written.length > 0;

    // Before the original.
    let returnStore: Instruction | undefined;
    let savedAddressSlot: Mem | undefined;
    const addressWritten = written.length === 1 && !o.isStringInstruction && !o.isStackInstruction
      && (writtenRegs.has(fullGpr32(written[0]!.base)) || writtenRegs.has(fullGpr32(written[0]!.index)));
    if (isCall || isSyscall) {
      returnStore = next();
      if (!insertedOk(returnStore) || returnStore.code !== Code.Mov_rm32_imm32 || !sameAddress({ base: Register.ESP, index: Register.None, scale: 1, disp: (OFF - 4) >>> 0 }, memOf(returnStore), 0)) {
        fail(o, 'call is not preceded by the mirror of its return address'); break;
      }
    } else if (rep && stack) {
      if (pushedRegister() !== Register.EDI || pushedRegister() !== Register.ECX) { fail(o, 'rep string op without EDI/ECX pushed before it'); break; }
    } else if (rep) {
      const a = next(); const b = next();
      if (!insertedOk(a) || !insertedOk(b) || !isMovStore(a) || !isMovStore(b) || a.op1Register !== Register.EDI || b.op1Register !== Register.ECX || !inSpill(memOf(a)) || !inSpill(memOf(b))) {
        fail(o, 'rep string op without EDI/ECX saved before it'); break;
      }
      savedAddressSlot = memOf(a);
      (o as Instruction & { savedCount?: Mem }).savedCount = memOf(b);
    } else if (addressWritten && stack) {
      fail(o, 'a writer that changes its address registers cannot be mirrored with stack scratch'); break;
    } else if (addressWritten) {
      const save = next(); const lea = next(); const keep = next(); const restore = next();
      if (!insertedOk(save) || !insertedOk(lea) || !insertedOk(keep) || !insertedOk(restore) || lea.code !== Code.Lea_r32_m
        || !sameAddress(written[0]!, memOf(lea), 0) || !isMovStore(keep) || !inSpill(memOf(keep)) || keep.op1Register !== lea.op0Register) {
        fail(o, 'writer that changes its address registers has no saved address'); break;
      }
      savedAddressSlot = memOf(keep);
    }

    // The original itself.
    const n = next();
    if (!n) { fail(o, 'missing from the output'); break; }
    if (isSyscall) {
      if (!n.isCallNear || n.nearBranch32 < stubSymbol!.value) { fail(o, 'int $0x80 not routed to the stub hook'); break; }
    } else if (o.op0Kind === OpKind.NearBranch32) {
      // Branches may be relaxed from rel8 to rel32: same mnemonic, same condition.
      if (n.mnemonic !== o.mnemonic || n.op0Kind !== OpKind.NearBranch32) { fail(o, `output has ${disassemble(n)} where the branch should be`); break; }
      pendingBranches.push([n, o.nearBranch32]);
    } else if (n.code !== o.code) {
      fail(o, `output has ${disassemble(n)} where the original instruction should be`); break;
    } else {
      for (let op = 0; op < o.opCount; op++) {
        const kind = o.opKind(op);
        if (kind === OpKind.Register && o.opRegister(op) !== n.opRegister(op)) fail(o, 'register operand changed');
        if (kind === OpKind.Memory && !sameAddress(memOf(o), memOf(n), 0)) fail(o, 'memory operand changed');
        if (kind === OpKind.Immediate32 && o.immediate32 !== n.immediate32) {
          if (inCode(o.immediate32 >>> 0)) pendingImmediates.push([n.immediate32 >>> 0, o.immediate32 >>> 0, `${hex(o.ip32)} ${disassemble(o)}`]);
          else if (imageEnds.has(o.immediate32 >>> 0)) { if (n.immediate32 >>> 0 !== outputEnd) fail(o, `the image's end became ${hex(n.immediate32)}, not ${hex(outputEnd)}`); }
          else fail(o, 'immediate changed');
        }
      }
    }
    if (returnStore) {
      const expected = n.nextIP32;
      if (returnStore.immediate32 >>> 0 !== expected) fail(o, `return-address mirror holds ${hex(returnStore.immediate32)}, the call returns to ${hex(expected)}`);
      checkedWriters++;
      continue;
    }
    if (written.length === 0) continue;
    checkedWriters++;
    if (unmirrored.has(o.ip32)) {
      // A device-register store: it must be a plain store, and nothing follows it.
      if (o.mnemonic !== Mnemonic.Mov || written.length !== 1) fail(o, `listed in ${NOMIRROR_SECTION}, but not a plain store`);
      continue;
    }

    // After it: the mirror sequence.
    const mnemonic = o.mnemonic;
    const isIns = mnemonic === Mnemonic.Insb || mnemonic === Mnemonic.Insw || mnemonic === Mnemonic.Insd;
    if (rep && stack) {
      // [push esi;] push edi; push ecx (each mirrored); the start and count as they were; rep movs or the same rep stos; pops; drop 8.
      const fromNative = !(mnemonic === Mnemonic.Stosb || mnemonic === Mnemonic.Stosw || mnemonic === Mnemonic.Stosd);
      const pushed: Array<number | string> = [];
      for (let k = 0; k < (fromNative ? 3 : 2); k++) pushed.push(pushedRegister());
      const expected = fromNative ? [Register.ESI, Register.EDI, Register.ECX] : [Register.EDI, Register.ECX];
      const before = fromNative ? 12 : 8;
      const start = fromNative ? Register.ESI : Register.EDI;
      const seq: Instruction[] = [];
      for (let k = 0; k < (fromNative ? 8 : 7); k++) { const x = next(); if (!insertedOk(x)) break; seq.push(x); }
      const [load, lea, count, replay, ...restores] = seq;
      const replayOk = replay !== undefined && replay.code === replayCodeOf(o) && replay.hasRepPrefix;
      const ok = pushed.every((r, k) => r === expected[k]) && seq.length === (fromNative ? 8 : 7) && replayOk
        && isMovLoad(load!) && load!.op0Register === start && sameAddress(at(ESP0, before + 4), memOf(load!), 0)
        && lea!.code === Code.Lea_r32_m && lea!.op0Register === Register.EDI && sameAddress({ base: start, index: Register.None, scale: 1, disp: 0 }, memOf(lea!), OFF)
        && isMovLoad(count!) && count!.op0Register === Register.ECX && sameAddress(at(ESP0, before), memOf(count!), 0)
        && restores.slice(0, -1).every((x, k) => x.code === Code.Pop_r32 && x.op0Register === [...expected].reverse()[k])
        && restores[restores.length - 1]!.code === Code.Lea_r32_m && restores[restores.length - 1]!.op0Register === Register.ESP
        && sameAddress(at(ESP0, 8), memOf(restores[restores.length - 1]!), 0);
      if (!ok) fail(o, `rep string replay is not exact: ${seq.map((x) => disassemble(x)).join('; ')}`);
      continue;
    }
    if (rep) {
      const size = o.mnemonic === Mnemonic.Stosb || o.mnemonic === Mnemonic.Movsb ? 1 : o.mnemonic === Mnemonic.Stosw || o.mnemonic === Mnemonic.Movsw ? 2 : 4;
      void size;
      const isMovs = o.mnemonic === Mnemonic.Movsb || o.mnemonic === Mnemonic.Movsw || o.mnemonic === Mnemonic.Movsd || isIns;
      const seq: Instruction[] = [];
      const length = isMovs ? 10 : 8;
      for (let k = 0; k < length; k++) { const x = next(); if (!insertedOk(x)) break; seq.push(x); }
      const text = seq.map((x) => disassemble(x)).join('; ');
      const count = (o as Instruction & { savedCount?: Mem }).savedCount!;
      const replay = seq[isMovs ? 6 : 5];
      const ok = seq.length === length && replay !== undefined && replay.code === replayCodeOf(o)
        && (isMovs
          ? isMovLoad(seq[3]!) && seq[3]!.op0Register === Register.ESI && sameAddress(memOf(seq[3]!), savedAddressSlot!, 0)
            && seq[4]!.code === Code.Lea_r32_m && seq[4]!.op0Register === Register.EDI && sameAddress({ base: Register.ESI, index: Register.None, scale: 1, disp: 0 }, memOf(seq[4]!), OFF)
            && isMovLoad(seq[5]!) && seq[5]!.op0Register === Register.ECX && sameAddress(memOf(seq[5]!), count, 0)
          : isMovLoad(seq[2]!) && seq[2]!.op0Register === Register.EDI && sameAddress(memOf(seq[2]!), savedAddressSlot!, 0)
            && seq[3]!.code === Code.Lea_r32_m && seq[3]!.op0Register === Register.EDI && sameAddress({ base: Register.EDI, index: Register.None, scale: 1, disp: 0 }, memOf(seq[3]!), OFF)
            && isMovLoad(seq[4]!) && seq[4]!.op0Register === Register.ECX && sameAddress(memOf(seq[4]!), count, 0));
      // Registers restored: every register the sequence loads last comes from the slot it was saved to after the original.
      const saves = new Map<number, string>(); const restores = new Map<number, string>();
      for (const x of seq) {
        if (isMovStore(x) && inSpill(memOf(x))) saves.set(x.op1Register, hex(memOf(x).disp));
        if (isMovLoad(x) && inSpill(memOf(x))) restores.set(x.op0Register, hex(memOf(x).disp));
      }
      const restored = [...saves].every(([r, slot]) => restores.get(r) === slot);
      if (!ok || !restored) fail(o, `rep string replay is not exact: ${text}`);
      continue;
    }
    if (written.length === 1 && o.isStringInstruction && (mnemonic === Mnemonic.Stosb || mnemonic === Mnemonic.Stosw || mnemonic === Mnemonic.Stosd)) {
      const size = written[0]!.size;
      const s = next();
      const register = size === 1 ? Register.AL : size === 2 ? Register.AX : Register.EAX;
      if (!insertedOk(s) || !isMovStore(s) || s.op1Register !== register || !sameAddress({ base: Register.EDI, index: Register.None, scale: 1, disp: -size >>> 0 }, memOf(s), OFF)) {
        fail(o, 'stos is not followed by the same store at OFFSET-k(%edi)');
      }
      continue;
    }
    if (o.mnemonic === Mnemonic.Push && o.op0Kind === OpKind.Register && fullGpr32(o.op0Register) === o.op0Register && o.op0Register !== Register.ESP && written[0]!.size === 4) {
      const s = next();
      if (!insertedOk(s) || s.code !== Code.Mov_rm32_r32 || s.op1Register !== o.op0Register || !sameAddress({ base: Register.ESP, index: Register.None, scale: 1, disp: 0 }, memOf(s), OFF)) {
        fail(o, 'push is not followed by the mirror store of its register');
      }
      continue;
    }
    if (o.mnemonic === Mnemonic.Push && (o.op0Kind === OpKind.Immediate32 || o.op0Kind === OpKind.Immediate8to32)) {
      const s = next();
      const value = o.op0Kind === OpKind.Immediate32 ? n.immediate32 >>> 0 : o.immediate8to32 >>> 0;
      if (!insertedOk(s) || s.code !== Code.Mov_rm32_imm32 || s.immediate32 >>> 0 !== value || !sameAddress({ base: Register.ESP, index: Register.None, scale: 1, disp: 0 }, memOf(s), OFF)) {
        fail(o, 'push imm is not followed by the mirror store of the same value');
      }
      continue;
    }
    // The written bytes, expressed in the registers as they are after the writer.
    const deltaOf = (register: number) => register === Register.ESP ? o.stackPointerIncrement
      : o.isStringInstruction && register === Register.EDI ? written[0]!.size : 0;
    const base = written[0]!;
    const bytes = new Set<number>();
    for (const w of written) {
      if (w.base !== base.base || w.index !== base.index || w.size === 0) { fail(o, 'writes memory the verifier cannot express'); break; }
      const rel = (w.disp - base.disp) | 0;
      for (let b = 0; b < w.size; b++) bytes.add(rel + b);
    }
    const post: Mem = { base: base.base, index: base.index, scale: base.scale, disp: (base.disp - deltaOf(fullGpr32(base.base)) - deltaOf(fullGpr32(base.index))) >>> 0 };
    const pure = written.length === 1 && o.opCount > 0 && Array.from({ length: o.opCount }, (_, k) => o.opKind(k)).includes(OpKind.Memory)
      && ![...writtenRegs].some((r) => r !== Register.None) && o.rflagsModified === 0 && o.fpuTopIncrement === 0 && !STATEFUL.has(o.mnemonic)
      && !o.isStackInstruction && !o.isStringInstruction;
    const candidate = peek();
    if (pure && candidate && candidate.code === o.code && sameAddress(memOf(n), memOf(candidate), OFF)) {
      insertedOk(next());
      let same = true;
      for (let op = 0; op < o.opCount; op++) {
        const kind = o.opKind(op);
        if (kind === OpKind.Register && n.opRegister(op) !== candidate.opRegister(op)) same = false;
        if ((kind === OpKind.Immediate32 || kind === OpKind.Immediate8 || kind === OpKind.Immediate16 || kind === OpKind.Immediate8to32) && n.immediate(op) !== candidate.immediate(op)) same = false;
      }
      if (!same) fail(o, 'mirror duplicate has different operands');
      continue;
    }
    if (savedAddressSlot) {
      // mov %esi,S0; mov %eax,S1; mov Saddr,%esi; (mov k(%esi),t; mov t,OFF+k(%esi))*; mov S1,%eax; mov S0,%esi
      const a = next(); const b = next(); const load = next();
      if (!insertedOk(a) || !insertedOk(b) || !insertedOk(load) || !isMovLoad(load) || !sameAddress(memOf(load), savedAddressSlot, 0) || load.op0Register !== Register.ESI
        || !isMovStore(a) || a.op1Register !== Register.ESI || !isMovStore(b) || b.op1Register !== Register.EAX) {
        fail(o, 'copy through the saved address is malformed'); continue;
      }
      const covered = new Set<number>();
      while (peek() && isMovLoad(peek()!) && !inSpill(memOf(peek()!))) {
        const l = next()!; const s = next()!; insertedOk(l); insertedOk(s);
        const k = memOf(l).disp | 0;
        if (memOf(l).base !== Register.ESI || !isMovStore(s) || !sameAddress(memOf(l), memOf(s), OFF) || s.op1Register !== l.op0Register) { fail(o, 'bad copy through saved address'); break; }
        for (let x = 0; x < moveSize(l); x++) covered.add(k + x);
      }
      const r1 = next(); const r2 = next();
      if (!insertedOk(r1) || !insertedOk(r2) || r1.op0Register !== Register.EAX || r2.op0Register !== Register.ESI) fail(o, 'saved registers not restored');
      for (const x of bytes) if (!covered.has(x)) { fail(o, `byte +${x} of the written memory is not mirrored`); break; }
      continue;
    }
    const addressRegsWritten = [fullGpr32(base.base), fullGpr32(base.index)].some((r) => r !== Register.None && writtenRegs.has(r) && deltaOf(r) === 0);
    if (addressRegsWritten) { fail(o, 'address registers change and no address was saved'); continue; }
    const covered = copySequence(post, undefined);
    if (typeof covered === 'string') { fail(o, `no valid mirror sequence (${covered})`); continue; }
    for (const x of bytes) if (!covered.has(x)) { fail(o, `byte +${x} of the written memory is not mirrored`); break; }
  }

  // Branches land on group starts; code pointers moved.
  for (const [n, target] of pendingBranches) {
    if (n.nearBranch32 !== groupStart.get(target)) errors.push(`${hex(n.ip32)} ${disassemble(n)}: branch should go to ${hex(groupStart.get(target) ?? -1)} (was ${hex(target)})`);
  }
  for (const n of news) {
    if (n.op0Kind === OpKind.NearBranch32 && !newStarts.has(n.nearBranch32)) errors.push(`${hex(n.ip32)} ${disassemble(n)}: branch into the middle of an instruction`);
  }
  for (const [value, old, where] of pendingImmediates) {
    if (value !== groupStart.get(old)) errors.push(`${where}: code pointer ${hex(old)} became ${hex(value)}, expected ${hex(groupStart.get(old) ?? -1)}`);
  }
  const { used, dataPointers } = checkImage(original, output, codeSections, groupStart, outputEnd, errors);
  for (const n of news) n.free();
  for (const o of olds) o.free();
  info.free();
  return {
    errors,
    summary: `${olds.length} instructions, ${checkedWriters} writers checked, ${inserted} inserted instructions flag-free, ${used} relocations used, ${dataPointers} data code pointers moved`,
  };
}

/** The image is unchanged except moved code pointers; the old code is all int3. */
function checkImage(original: ElfFile, output: ElfFile, codeSections: ElfFile['sections'], groupStart: Map<number, number>, outputEnd: number,
  errors: string[]): { used: number; dataPointers: number } {
  const byteAt = (elf: ElfFile, address: number): number | undefined => {
    const s = elf.sections.find((x) => (x.flags & SHF_ALLOC) && x.type !== SHT_NOBITS && address >= x.addr && address < x.addr + x.size);
    return s ? elf.bytes[s.offset + address - s.addr] : undefined;
  };
  const word = (elf: ElfFile, address: number) => [0, 1, 2, 3].reduce((v, k) => v + (byteAt(elf, address + k) ?? 0) * 2 ** (8 * k), 0);
  const moved = new Set<number>();
  let used = 0;
  let dataPointers = 0;
  for (const r of original.relocations) {
    const s = r.targetSection;
    if (!(s.flags & SHF_ALLOC) || s.name.startsWith('.eh_frame') || s.name.startsWith('.debug')) continue;
    used++;
    if (codeSections.includes(s) || s.type === SHT_NOBITS || r.type !== R_386_32) continue;
    const value = word(original, r.offset);
    const symbol = original.symbols[r.symbolIndex];
    if (symbol && IMAGE_END_SYMBOLS.has(symbol.name) && symbol.value === value) {
      // The image's end moves past the translated code.
      for (let k = 0; k < 4; k++) moved.add(r.offset + k);
      if (word(output, r.offset) !== outputEnd) errors.push(`data word at 0x${r.offset.toString(16)}: the image's end not moved to 0x${outputEnd.toString(16)}`);
      continue;
    }
    const target = groupStart.get(value);
    if (target === undefined) continue;
    dataPointers++;
    for (let k = 0; k < 4; k++) moved.add(r.offset + k);
    if (word(output, r.offset) !== target) errors.push(`data word at 0x${r.offset.toString(16)}: code pointer 0x${value.toString(16)} not moved to 0x${target.toString(16)}`);
  }
  for (const s of original.sections) {
    if (!(s.flags & SHF_ALLOC) || s.type === SHT_NOBITS) continue;
    const isCode = codeSections.includes(s);
    for (let a = s.addr; a < s.addr + s.size; a++) {
      if (moved.has(a)) continue;
      const expected = isCode ? 0xcc : original.bytes[s.offset + a - s.addr];
      if (byteAt(output, a) !== expected) { errors.push(`image byte at 0x${a.toString(16)} in ${s.name} changed`); break; }
    }
  }
  return { used, dataPointers };
}

/** What mirrors a rep string writer: the same rep stos or rep movs; for rep ins, a rep movs of its element size. */
function replayCodeOf(o: Instruction): number {
  const ins = [Mnemonic.Insb, Mnemonic.Insw, Mnemonic.Insd].indexOf(o.mnemonic);
  return ins >= 0 ? [Code.Movsb_m8_m8, Code.Movsw_m16_m16, Code.Movsd_m32_m32][ins]! : o.code;
}

/** The u32 addresses listed in a section of the original program (none when it has no such section). */
function listedAddresses(elf: ElfFile, name: string): Set<number> {
  const section = elf.sections.find((s) => s.name === name);
  const list = new Set<number>();
  if (!section) return list;
  for (let k = 0; k + 4 <= section.size; k += 4) {
    const b = elf.bytes, o = section.offset + k;
    list.add((b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0);
  }
  return list;
}
