/**
 * `--linux-stub`: makes a translated program runnable under Linux (qemu-i386, `memvisor
 * exec`), where no kernel maps the mirror for us. The output's entry point becomes this
 * stub, which
 *   1. mmap2s an anonymous RW mirror of the image at +OFFSET and copies each segment there;
 *   2. maps a fresh stack [stackBase, stackTop) and its mirror, copies the initial frame
 *      (argc, argv[], envp[] — the pointers; the strings stay on the old stack) to it and
 *      mirrors that frame, so every stack write the program makes is mirrored;
 *   3. jumps to the translated entry.
 * With checkAtExit every `int $0x80` is replaced by a call to a hook (its return address
 * mirrored like any call) that passes syscalls through unchanged, except exit/exit_group:
 * then it compares native and mirror over the image segments and the live stack
 * [ESP, stackTop) and prints, on fd 2, one line
 *   memvisor-mirror-check: mismatches=0xNNNNNNNN first=0xAAAAAAAA
 * before exiting. brk is not mirrored: test programs must not use the heap.
 */
import { Code, Instruction, MemoryOperand, Register } from './iced.js';
import type { Item } from './layout.js';

export const MIRROR_CHECK_PREFIX = 'memvisor-mirror-check: ';

/** Layout of the spill page (first page of the translated segment). */
export const SPILL_PAGE = {
  slots: 0x000, // S0..S15 for the mirror sequences
  hookEsp: 0x040, hookEax: 0x044, hookEbx: 0x048, hookFirst: 0x04c,
  hexDigits: 0x080,
  message: 0x0c0,
  failMessage: 0x140,
  hookStackTop: 0x1000,
} as const;

export interface StubParameters {
  offset: number;
  spillBase: number;
  /** Page-rounded [start, end) of each original PT_LOAD. */
  segments: Array<[number, number]>;
  stackBase: number;
  stackTop: number;
  /** Global index the first stub item will have, and the translated entry's item. */
  firstItem: number;
  entryItem: number;
  checkAtExit: boolean;
}

export interface Stub {
  items: Item[];
  /** Global item index of the syscall hook (when checkAtExit). */
  hookItem: number;
  /** Initial contents of the spill page. */
  spillPage: Uint8Array;
}

const MESSAGE = `${MIRROR_CHECK_PREFIX}mismatches=0x00000000 first=0x00000000\n`;
const FAIL_MESSAGE = 'memvisor stub: mmap2 of the mirror failed\n';

/** A few-instruction assembler over iced's Instruction.create*, with labels. */
class Assembler {
  readonly items: Item[] = [];
  private readonly labels = new Map<string, number>();
  private readonly fixups: Array<[number, string]> = [];
  constructor(private readonly firstItem: number) {}

  here(label: string): void { this.labels.set(label, this.firstItem + this.items.length); }
  emit(instruction: Instruction): void { this.items.push({ instruction, role: 'stub' }); }
  branch(code: number, label: string | number): void {
    this.items.push({ instruction: Instruction.createBranch(code, 0n), role: 'stub', branchTo: typeof label === 'number' ? label : -1 });
    if (typeof label === 'string') this.fixups.push([this.items.length - 1, label]);
  }
  resolve(): void {
    for (const [item, label] of this.fixups) {
      const target = this.labels.get(label);
      if (target === undefined) throw new Error(`internal error: stub label ${label}`);
      this.items[item]!.branchTo = target;
    }
  }
  label(name: string): number { return this.labels.get(name)!; }

  movImm(register: number, value: number): void { this.emit(Instruction.createRegU32(Code.Mov_r32_imm32, register, value >>> 0)); }
  load(register: number, mem: MemoryOperand): void { this.emit(Instruction.createRegMem(Code.Mov_r32_rm32, register, mem)); }
  store(mem: MemoryOperand, register: number): void { this.emit(Instruction.createMemReg(Code.Mov_rm32_r32, mem, register)); }
  storeByte(mem: MemoryOperand, register: number): void { this.emit(Instruction.createMemReg(Code.Mov_rm8_r8, mem, register)); }
  lea(register: number, mem: MemoryOperand): void { this.emit(Instruction.createRegMem(Code.Lea_r32_m, register, mem)); }
  cmpImm(register: number, value: number): void { this.emit(Instruction.createRegU32(Code.Cmp_rm32_imm32, register, value >>> 0)); }
  cmpMem(register: number, mem: MemoryOperand): void { this.emit(Instruction.createRegMem(Code.Cmp_r32_rm32, register, mem)); }
  cmpReg(a: number, b: number): void { this.emit(Instruction.createRegReg(Code.Cmp_rm32_r32, a, b)); }
  addImm(register: number, value: number): void { this.emit(Instruction.createRegU32(Code.Add_rm32_imm32, register, value >>> 0)); }
  andImm(register: number, value: number): void { this.emit(Instruction.createRegU32(Code.And_rm32_imm32, register, value >>> 0)); }
  sub(a: number, b: number): void { this.emit(Instruction.createRegReg(Code.Sub_rm32_r32, a, b)); }
  shr(register: number, count: number): void { this.emit(Instruction.createRegU32(Code.Shr_rm32_imm8, register, count)); }
  rol(register: number, count: number): void { this.emit(Instruction.createRegU32(Code.Rol_rm32_imm8, register, count)); }
  test(a: number, b: number): void { this.emit(Instruction.createRegReg(Code.Test_rm32_r32, a, b)); }
  inc(register: number): void { this.emit(Instruction.createReg(Code.Inc_r32, register)); }
  dec(register: number): void { this.emit(Instruction.createReg(Code.Dec_r32, register)); }
  xor(register: number): void { this.emit(Instruction.createRegReg(Code.Xor_rm32_r32, register, register)); }
  movzxByte(register: number, mem: MemoryOperand): void { this.emit(Instruction.createRegMem(Code.Movzx_r32_rm8, register, mem)); }
  mov(to: number, from: number): void { this.emit(Instruction.createRegReg(Code.Mov_r32_rm32, to, from)); }
  plain(code: number): void { this.emit(Instruction.create(code)); }
  int80(): void { this.emit(Instruction.createU32(Code.Int_imm8, 0x80)); }
  repMovsd(): void { this.emit(Instruction.createRepMovsd(32)); }
}

const abs = (address: number) => new MemoryOperand(Register.None, Register.None, 1, BigInt(address >>> 0), 4, false, Register.None);
const at = (base: number, displacement = 0, index: number = Register.None, scale = 1) =>
  new MemoryOperand(base, index, scale, BigInt(displacement >>> 0), displacement === 0 && index === Register.None ? 0 : 4, false, Register.None);

export function buildLinuxStub(p: StubParameters): Stub {
  const a = new Assembler(p.firstItem);
  const { EAX, EBX, ECX, EDX, ESI, EDI, EBP, ESP, DL } = Register;
  const spill = (offset: number) => p.spillBase + offset;

  const mmap = (address: number, length: number) => {
    a.movImm(EAX, 192); a.movImm(EBX, address); a.movImm(ECX, length); a.movImm(EDX, 3);
    a.movImm(ESI, 0x32); a.movImm(EDI, -1); a.xor(EBP); a.int80();
    a.cmpImm(EAX, address); a.branch(Code.Jne_rel32_32, 'fail');
  };
  const copy = (from: number, to: number, length: number) => {
    a.movImm(ESI, from); a.movImm(EDI, to); a.movImm(ECX, length / 4); a.repMovsd();
  };

  // --- entry stub ---
  a.here('stub');
  a.plain(Code.Cld);
  for (const [start, end] of p.segments) mmap(start + p.offset, end - start);
  for (const [start, end] of p.segments) copy(start, start + p.offset, end - start);
  mmap(p.stackBase, p.stackTop - p.stackBase);
  mmap(p.stackBase + p.offset, p.stackTop - p.stackBase);
  // The initial frame: argc, argv[0..argc-1], NULL, envp..., NULL.
  a.mov(ESI, ESP);
  a.load(ECX, at(ESI));
  a.lea(EDX, at(ESI, 8, ECX, 4));
  a.here('scan');
  a.load(EAX, at(EDX)); a.addImm(EDX, 4); a.test(EAX, EAX); a.branch(Code.Jne_rel32_32, 'scan');
  a.mov(ECX, EDX); a.sub(ECX, ESI);
  a.movImm(EDI, p.stackTop); a.sub(EDI, ECX); a.andImm(EDI, -16); a.mov(EBP, EDI);
  a.shr(ECX, 2); a.repMovsd();
  a.mov(ESI, EBP); a.lea(EDI, at(EBP, p.offset)); a.movImm(ECX, p.stackTop); a.sub(ECX, EBP); a.shr(ECX, 2); a.repMovsd();
  a.mov(ESP, EBP);
  for (const register of [EAX, EBX, ECX, EDX, ESI, EDI, EBP]) a.xor(register);
  a.branch(Code.Jmp_rel32_32, p.entryItem);
  a.here('fail');
  a.movImm(EAX, 4); a.movImm(EBX, 2); a.movImm(ECX, spill(SPILL_PAGE.failMessage)); a.movImm(EDX, FAIL_MESSAGE.length); a.int80();
  a.movImm(EAX, 1); a.movImm(EBX, 127); a.int80();

  // --- syscall hook ---
  a.here('hook');
  if (p.checkAtExit) {
    a.store(abs(spill(SPILL_PAGE.hookEsp)), ESP);
    a.movImm(ESP, spill(SPILL_PAGE.hookStackTop));
    a.plain(Code.Pushfd);
    a.cmpImm(EAX, 1); a.branch(Code.Je_rel32_32, 'check');
    a.cmpImm(EAX, 252); a.branch(Code.Je_rel32_32, 'check');
    a.plain(Code.Popfd);
    a.load(ESP, abs(spill(SPILL_PAGE.hookEsp)));
    a.int80();
    a.plain(Code.Retnd);
    a.here('check');
    a.store(abs(spill(SPILL_PAGE.hookEax)), EAX);
    a.store(abs(spill(SPILL_PAGE.hookEbx)), EBX);
    a.xor(EBP);
    a.xor(EAX); a.store(abs(spill(SPILL_PAGE.hookFirst)), EAX);
    for (const [start, end] of p.segments) { a.movImm(ESI, start); a.movImm(ECX, end); a.branch(Code.Call_rel32_32, 'compare'); }
    a.load(ESI, abs(spill(SPILL_PAGE.hookEsp))); a.movImm(ECX, p.stackTop); a.branch(Code.Call_rel32_32, 'compare');
    const digitsAt = (field: string) => spill(SPILL_PAGE.message) + MESSAGE.indexOf(field) + field.length;
    a.mov(EAX, EBP); a.movImm(EDI, digitsAt('mismatches=0x')); a.branch(Code.Call_rel32_32, 'hex8');
    a.load(EAX, abs(spill(SPILL_PAGE.hookFirst))); a.movImm(EDI, digitsAt('first=0x')); a.branch(Code.Call_rel32_32, 'hex8');
    a.movImm(EAX, 4); a.movImm(EBX, 2); a.movImm(ECX, spill(SPILL_PAGE.message)); a.movImm(EDX, MESSAGE.length); a.int80();
    a.load(EAX, abs(spill(SPILL_PAGE.hookEax))); a.load(EBX, abs(spill(SPILL_PAGE.hookEbx))); a.int80();
    // compare [ESI, ECX) word by word with the mirror; EBP counts, hookFirst = first address.
    a.here('compare');
    a.cmpReg(ESI, ECX); a.branch(Code.Jae_rel32_32, 'compareDone');
    a.load(EAX, at(ESI)); a.cmpMem(EAX, at(ESI, p.offset)); a.branch(Code.Je_rel32_32, 'compareNext');
    a.test(EBP, EBP); a.branch(Code.Jne_rel32_32, 'compareCount');
    a.store(abs(spill(SPILL_PAGE.hookFirst)), ESI);
    a.here('compareCount');
    a.inc(EBP);
    a.here('compareNext');
    a.addImm(ESI, 4); a.branch(Code.Jmp_rel32_32, 'compare');
    a.here('compareDone');
    a.plain(Code.Retnd);
    // hex8: EAX as 8 hex digits at EDI.
    a.here('hex8');
    a.movImm(ECX, 8);
    a.here('hexLoop');
    a.rol(EAX, 4); a.mov(EDX, EAX); a.andImm(EDX, 15); a.movzxByte(EDX, at(EDX, spill(SPILL_PAGE.hexDigits)));
    a.storeByte(at(EDI), DL); a.inc(EDI); a.dec(ECX); a.branch(Code.Jne_rel32_32, 'hexLoop');
    a.plain(Code.Retnd);
  }
  a.resolve();

  const spillPage = new Uint8Array(4096);
  const text = new TextEncoder();
  spillPage.set(text.encode('0123456789abcdef'), SPILL_PAGE.hexDigits);
  spillPage.set(text.encode(MESSAGE), SPILL_PAGE.message);
  spillPage.set(text.encode(FAIL_MESSAGE), SPILL_PAGE.failMessage);
  return { items: a.items, hookItem: a.label('hook'), spillPage };
}
