/**
 * Differential testing of the CPU against qemu-i386: one generated program runs many
 * cases; each case loads a random state (eight registers, EFLAGS, a 256-byte scratch
 * area that also holds the stack), executes one instruction form, and writes the
 * resulting state to stdout. The same ELF runs under qemu-i386 and `memvisor exec`, and
 * the dumps are compared case by case, ignoring only the flags the architecture leaves
 * undefined for that form (listed per form below).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SeededRandom } from '../../src/faults/random.js';

export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800, DF = 0x400;
const ARITH = CF | PF | AF | ZF | SF | OF;

const R32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
const R16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];
const R8 = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'];
const ESP = 4;

export const SCRATCH_BYTES = 256;
/** Where ESP points in the scratch area when the instruction runs. */
const STACK_OFFSET = 224;
const BASE_OFFSET = 64;
export const DUMP_BYTES = 36 + SCRATCH_BYTES;
/** With x87 cases, each dump ends with the FNSAVE image (108 bytes) taken after the instruction. */
export const FPU_SAVE_BYTES = 108;

export interface CaseState {
  regs: number[];
  /** Registers whose value is an offset from the scratch area's address. */
  relative: boolean[];
  flags: number;
  mem: Uint8Array;
  /** x87 cases: the FNSAVE image FRSTOR loads before the instruction. */
  fpu?: Uint8Array;
}

/** Builds one case: picks operands, pins the registers they need, returns the text. */
export class CaseBuilder {
  readonly state: CaseState;
  private readonly pinned = new Set<number>([ESP]);

  constructor(readonly rng: SeededRandom) {
    const regs: number[] = [];
    for (let i = 0; i < 8; i++) regs.push(this.value());
    regs[ESP] = STACK_OFFSET;
    const relative = regs.map((_, r) => r === ESP);
    const mem = new Uint8Array(SCRATCH_BYTES);
    for (let i = 0; i < mem.length; i++) mem[i] = rng.nextBelow(256);
    let flags = 0x202;
    for (const bit of [CF, PF, AF, ZF, SF, OF]) if (rng.nextBelow(2)) flags |= bit;
    if (rng.nextBelow(4) === 0) flags |= DF;
    this.state = { regs, relative, flags, mem };
  }

  /** A 32-bit value biased towards the interesting ones. */
  value(): number {
    const r = this.rng;
    switch (r.nextBelow(8)) {
      case 0: return [0, 1, -1, 0x7fffffff, 0x80000000 | 0, 0x80, 0x7f, 0xff, 0x8000, 0xffff, 0x10000][r.nextBelow(11)]!;
      case 1: return r.nextBelow(256);
      case 2: return -(r.nextBelow(256) + 1);
      case 3: return (r.nextUint32() & 0xffff) | 0;
      default: return r.nextUint32() | 0;
    }
  }

  pick<T>(items: readonly T[]): T {
    return items[this.rng.nextBelow(items.length)]!;
  }

  private freeRegister(): number {
    const free = [0, 1, 2, 3, 5, 6, 7].filter((r) => !this.pinned.has(r));
    return this.pick(free);
  }

  /** Pins register `r` to `value` (relative to scratch when `relative`). */
  pin(r: number, value: number, relative = false): void {
    this.pinned.add(r);
    this.state.regs[r] = value | 0;
    this.state.relative[r] = relative;
  }

  reg32(allowPinned = true): string {
    const r = allowPinned ? this.pick([0, 1, 2, 3, 5, 6, 7]) : this.freeRegister();
    return `%${R32[r]}`;
  }
  reg16(): string {
    return `%${R16[this.pick([0, 1, 2, 3, 5, 6, 7])]}`;
  }
  reg8(): string {
    return `%${R8[this.rng.nextBelow(8)]}`;
  }
  reg(size: number): string {
    return size === 4 ? this.reg32() : size === 2 ? this.reg16() : this.reg8();
  }

  /** A memory operand in the scratch area, in one of several addressing forms. */
  mem(): string {
    const disp = this.rng.nextInRange(-48, 100);
    switch (this.rng.nextBelow(6)) {
      case 0: { // absolute
        return `scratch+${BASE_OFFSET + disp}`;
      }
      case 1: { // base + index*scale + disp
        const base = this.freeRegister();
        this.pin(base, BASE_OFFSET, true);
        const index = this.freeRegister();
        const scale = this.pick([1, 2, 4, 8]);
        this.pin(index, this.rng.nextBelow(4));
        return `${disp}(%${R32[base]},%${R32[index]},${scale})`;
      }
      case 2: { // ESP-relative (SS default)
        return `${this.rng.nextInRange(-120, 24)}(%esp)`;
      }
      case 3: { // base only
        const base = this.freeRegister();
        this.pin(base, BASE_OFFSET + this.rng.nextBelow(100), true);
        return `(%${R32[base]})`;
      }
      case 4: { // base + disp32
        const base = this.freeRegister();
        this.pin(base, BASE_OFFSET - 0x10000, true);
        return `${0x10000 + disp}(%${R32[base]})`;
      }
      default: { // base + disp8
        const base = this.freeRegister();
        this.pin(base, BASE_OFFSET, true);
        return `${disp}(%${R32[base]})`;
      }
    }
  }

  /** Register or memory operand. */
  rm(size: number, memory: boolean): string {
    return memory ? this.mem() : this.reg(size);
  }

  imm(size: number): string {
    const v = this.value();
    return `$${size === 4 ? v : size === 2 ? v & 0xffff : v & 0xff}`;
  }
  imm8s(): string {
    return `$${this.rng.nextInRange(-128, 127)}`;
  }
}

export interface Form {
  name: string;
  /** Flags the architecture leaves undefined after this form. */
  undefinedFlags: number;
  build(b: CaseBuilder): string;
}

const SUFFIX = ['', 'b', 'w', '', 'l'];
const SIZES = [1, 2, 4];
const ACC = ['', '%al', '%ax', '', '%eax'];
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

function form(name: string, undefinedFlags: number, build: (b: CaseBuilder) => string): Form {
  return { name, undefinedFlags, build };
}

/** Every instruction form the suite compares. */
export function allForms(): Form[] {
  const forms: Form[] = [];
  const add = (name: string, undef: number, build: (b: CaseBuilder) => string) => forms.push(form(name, undef, build));

  for (const op of ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp']) {
    const undef = ['and', 'or', 'xor'].includes(op) ? AF : 0;
    for (const s of SIZES) {
      const x = `${op}${SUFFIX[s]}`;
      add(`${x} r,r (store form)`, undef, (b) => `{store} ${x} ${b.reg(s)}, ${b.reg(s)}`);
      add(`${x} r,r (load form)`, undef, (b) => `{load} ${x} ${b.reg(s)}, ${b.reg(s)}`);
      add(`${x} r,m`, undef, (b) => `${x} ${b.reg(s)}, ${b.mem()}`);
      add(`${x} m,r`, undef, (b) => `${x} ${b.mem()}, ${b.reg(s)}`);
      add(`${x} imm,r`, undef, (b) => `${x} ${b.imm(s)}, ${b.reg(s)}`);
      add(`${x} imm,m`, undef, (b) => `${x} ${b.imm(s)}, ${SUFFIX[s] ? b.mem() : ''}`);
      add(`${x} imm,acc`, undef, (b) => `${x} ${s === 1 ? b.imm(1) : `$${(b.value() | 0x100) & (s === 2 ? 0xffff : -1)}`}, ${ACC[s]}`);
      if (s > 1) {
        add(`${x} imm8s,r`, undef, (b) => `${x} ${b.imm8s()}, ${b.reg(s)}`);
        add(`${x} imm8s,m`, undef, (b) => `${x} ${b.imm8s()}, ${b.mem()}`);
      }
      if (op !== 'cmp') add(`lock ${x} r,m`, undef, (b) => `lock ${x} ${b.reg(s)}, ${b.mem()}`);
    }
  }
  for (const s of SIZES) {
    const x = SUFFIX[s];
    for (const op of ['inc', 'dec', 'not', 'neg']) {
      add(`${op}${x} r`, 0, (b) => `${op}${x} ${b.reg(s)}`);
      add(`${op}${x} m`, 0, (b) => `${op}${x} ${b.mem()}`);
    }
    add(`test${x} r,r`, AF, (b) => `test${x} ${b.reg(s)}, ${b.reg(s)}`);
    add(`test${x} r,m`, AF, (b) => `test${x} ${b.reg(s)}, ${b.mem()}`);
    add(`test${x} imm,r`, AF, (b) => `test${x} ${b.imm(s)}, ${b.reg(s)}`);
    add(`test${x} imm,m`, AF, (b) => `test${x} ${b.imm(s)}, ${b.mem()}`);
    add(`test${x} imm,acc`, AF, (b) => `test${x} ${b.imm(s)}, ${ACC[s]}`);
    add(`xchg${x} r,r`, 0, (b) => `xchg${x} ${b.reg(s)}, ${b.reg(s)}`);
    add(`xchg${x} r,m`, 0, (b) => `xchg${x} ${b.reg(s)}, ${b.mem()}`);
    add(`mov${x} r,r (store form)`, 0, (b) => `{store} mov${x} ${b.reg(s)}, ${b.reg(s)}`);
    add(`mov${x} r,r (load form)`, 0, (b) => `{load} mov${x} ${b.reg(s)}, ${b.reg(s)}`);
    add(`mov${x} r,m`, 0, (b) => `mov${x} ${b.reg(s)}, ${b.mem()}`);
    add(`mov${x} m,r`, 0, (b) => `mov${x} ${b.mem()}, ${b.reg(s)}`);
    add(`mov${x} imm,r`, 0, (b) => `mov${x} ${b.imm(s)}, ${b.reg(s)}`);
    add(`mov${x} imm,m`, 0, (b) => `mov${x} ${b.imm(s)}, ${b.mem()}`);
    add(`mov${x} moffs,acc`, 0, (b) => `mov${x} scratch+${b.rng.nextBelow(200)}, ${ACC[s]}`);
    add(`mov${x} acc,moffs`, 0, (b) => `mov${x} ${ACC[s]}, scratch+${b.rng.nextBelow(200)}`);
    for (const op of ['mul', 'imul']) {
      const undef = SF | ZF | AF | PF;
      add(`${op}${x} r`, undef, (b) => `${op}${x} ${b.reg(s)}`);
      add(`${op}${x} m`, undef, (b) => `${op}${x} ${b.mem()}`);
    }
    for (const op of ['div', 'idiv']) {
      for (const memory of [false, true]) {
        add(`${op}${x} ${memory ? 'm' : 'r'}`, ARITH, (b) => divCase(b, op === 'idiv', s, memory));
      }
    }
    for (const [i, op] of ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'].entries()) {
      const rotate = i < 4;
      for (const memory of [false, true]) {
        const m = memory ? 'm' : 'r';
        add(`${op}${x} 1,${m}`, rotate ? 0 : AF, (b) => `${op}${x} ${b.rm(s, memory)}`);
        add(`${op}${x} imm,${m}`, rotate ? OF : AF | OF, (b) => `${op}${x} $${b.rng.nextBelow(40)}, ${b.rm(s, memory)}`);
        add(`${op}${x} cl,${m}`, rotate ? OF : AF | OF, (b) => {
          b.pin(1, b.rng.nextBelow(3) === 0 ? b.value() : b.rng.nextBelow(40));
          return `${op}${x} %cl, ${b.rm(s, memory)}`;
        });
      }
    }
    add(`cmpxchg${x} r,r`, 0, (b) => `cmpxchg${x} ${b.reg(s)}, ${b.reg(s)}`);
    add(`cmpxchg${x} r,m`, 0, (b) => {
      const at = b.rng.nextBelow(200);
      if (b.rng.nextBelow(2)) for (let i = 0; i < s; i++) b.state.mem[at + i] = (b.state.regs[0]! >>> (8 * i)) & 0xff; // equal case
      return `cmpxchg${x} ${b.reg(s)}, scratch+${at}`;
    });
    add(`lock cmpxchg${x} r,m`, 0, (b) => `lock cmpxchg${x} ${b.reg(s)}, ${b.mem()}`);
    add(`xadd${x} r,r`, 0, (b) => `xadd${x} ${b.reg(s)}, ${b.reg(s)}`);
    add(`xadd${x} r,m`, 0, (b) => `xadd${x} ${b.reg(s)}, ${b.mem()}`);
    add(`lock xadd${x} r,m`, 0, (b) => `lock xadd${x} ${b.reg(s)}, ${b.mem()}`);
  }
  for (const s of [2, 4]) {
    const x = SUFFIX[s];
    add(`imul${x} r,r`, SF | ZF | AF | PF, (b) => `imul${x} ${b.reg(s)}, ${b.reg(s)}`);
    add(`imul${x} m,r`, SF | ZF | AF | PF, (b) => `imul${x} ${b.mem()}, ${b.reg(s)}`);
    add(`imul${x} imm,r,r`, SF | ZF | AF | PF, (b) => `imul${x} ${b.imm(s)}, ${b.reg(s)}, ${b.reg(s)}`);
    add(`imul${x} imm8s,m,r`, SF | ZF | AF | PF, (b) => `imul${x} ${b.imm8s()}, ${b.mem()}, ${b.reg(s)}`);
    for (const op of ['bsf', 'bsr']) {
      add(`${op}${x} r,r`, CF | OF | SF | AF | PF, (b) => `${op}${x} ${b.reg(s)}, ${b.reg(s)}`);
      add(`${op}${x} m,r`, CF | OF | SF | AF | PF, (b) => `${op}${x} ${b.mem()}, ${b.reg(s)}`);
    }
    for (const op of ['bt', 'bts', 'btr', 'btc']) {
      const undef = OF | SF | AF | PF;
      add(`${op}${x} r,r`, undef, (b) => `${op}${x} ${b.reg(s)}, ${b.reg(s)}`);
      add(`${op}${x} imm,r`, undef, (b) => `${op}${x} $${b.rng.nextBelow(64)}, ${b.reg(s)}`);
      add(`${op}${x} imm,m`, undef, (b) => `${op}${x} $${b.rng.nextBelow(64)}, ${b.mem()}`);
      add(`${op}${x} r,m (bit string)`, undef, (b) => {
        b.pin(2, b.rng.nextInRange(-60, 200)); // EDX: a signed bit offset within the scratch area
        return `${op}${x} %${s === 4 ? 'edx' : 'dx'}, ${b.mem()}`;
      });
      if (op !== 'bt') add(`lock ${op}${x} r,m`, undef, (b) => {
        b.pin(2, b.rng.nextInRange(0, 100));
        return `lock ${op}${x} %${s === 4 ? 'edx' : 'dx'}, ${b.mem()}`;
      });
    }
    for (const op of ['shld', 'shrd']) {
      const maxCount = s === 2 ? 16 : 31; // 16-bit counts above 16 give undefined results
      for (const memory of [false, true]) {
        const m = memory ? 'm' : 'r';
        add(`${op}${x} imm,r,${m}`, AF | OF, (b) => `${op}${x} $${b.rng.nextBelow(maxCount + 1)}, ${b.reg(s)}, ${b.rm(s, memory)}`);
        add(`${op}${x} cl,r,${m}`, AF | OF, (b) => {
          b.pin(1, b.rng.nextBelow(maxCount + 1) | (b.rng.nextBelow(8) << 5));
          return `${op}${x} %cl, ${b.reg(s)}, ${b.rm(s, memory)}`;
        });
      }
    }
    for (const cc of CC) {
      add(`cmov${cc}${x} r,r`, 0, (b) => `cmov${cc}${x} ${b.reg(s)}, ${b.reg(s)}`);
      add(`cmov${cc}${x} m,r`, 0, (b) => `cmov${cc}${x} ${b.mem()}, ${b.reg(s)}`);
    }
    add(`push${x} r`, 0, (b) => `push${x} ${b.reg(s)}`);
    add(`push${x} m`, 0, (b) => `push${x} ${b.mem()}`);
    add(`push${x} imm`, 0, (b) => `push${x} ${b.imm(s)}`);
    add(`push${x} imm8s`, 0, (b) => `push${x} ${b.imm8s()}`);
    add(`pop${x} r`, 0, (b) => `pop${x} ${b.reg(s)}`);
    add(`pop${x} m`, 0, (b) => `pop${x} ${b.mem()}`);
    add(`lea${x} m,r`, 0, (b) => `lea${x} ${b.mem()}, ${b.reg(s)}`);
    add(`pushf${x} / popf${x}`, 0, (b) => `push${x} $${(b.value() & 0x0cd5) | 2}\n  popf${x}\n  pushf${x}`);
    add(`pusha${x}`, 0, () => `pusha${x}`);
    add(`popa${x}`, 0, () => `popa${x}`);
    add(`movzb${x} r,r`, 0, (b) => `movzb${x} ${b.reg8()}, ${b.reg(s)}`);
    add(`movzb${x} m,r`, 0, (b) => `movzb${x} ${b.mem()}, ${b.reg(s)}`);
    add(`movsb${x} r,r`, 0, (b) => `movsb${x} ${b.reg8()}, ${b.reg(s)}`);
    add(`movsb${x} m,r`, 0, (b) => `movsb${x} ${b.mem()}, ${b.reg(s)}`);
    add(`enter${x} imm,0`, 0, (b) => `enter${x} $${b.rng.nextBelow(48)}, $0`);
    add(`enter${x} imm,level`, 0, (b) => {
      b.pin(5, 150 + b.rng.nextBelow(40), true);
      return `enter${x} $${b.rng.nextBelow(16)}, $${1 + b.rng.nextBelow(3)}`;
    });
    add(`leave${x}`, 0, (b) => {
      b.pin(5, 160 + b.rng.nextBelow(60), true);
      return `leave${x}`;
    });
  }
  add('movzwl r,r', 0, (b) => `movzwl ${b.reg16()}, ${b.reg32()}`);
  add('movzwl m,r', 0, (b) => `movzwl ${b.mem()}, ${b.reg32()}`);
  add('movswl r,r', 0, (b) => `movswl ${b.reg16()}, ${b.reg32()}`);
  add('movswl m,r', 0, (b) => `movswl ${b.mem()}, ${b.reg32()}`);
  add('inc r32 (short form)', 0, (b) => `.byte 0x${(0x40 + b.pick([0, 1, 2, 3, 5, 6, 7])).toString(16)}`);
  add('dec r32 (short form)', 0, (b) => `.byte 0x${(0x48 + b.pick([0, 1, 2, 3, 5, 6, 7])).toString(16)}`);
  add('xchg r32,eax (short form)', 0, (b) => `.byte 0x${(0x90 + b.pick([1, 2, 3, 5, 6, 7])).toString(16)}`);
  add('bswap r32', 0, (b) => `bswap ${b.reg32()}`);
  add('cmpxchg8b m', 0, (b) => {
    const at = b.rng.nextBelow(200);
    if (b.rng.nextBelow(2)) {
      for (let i = 0; i < 4; i++) b.state.mem[at + i] = (b.state.regs[0]! >>> (8 * i)) & 0xff;
      for (let i = 0; i < 4; i++) b.state.mem[at + 4 + i] = (b.state.regs[2]! >>> (8 * i)) & 0xff;
    }
    return `cmpxchg8b scratch+${at}`;
  });
  add('lock cmpxchg8b m', 0, (b) => `lock cmpxchg8b ${b.mem()}`);
  for (const cc of CC) {
    add(`set${cc} r`, 0, (b) => `set${cc} ${b.reg8()}`);
    add(`set${cc} m`, 0, (b) => `set${cc} ${b.mem()}`);
    add(`j${cc} rel8`, 0, (b) => `j${cc} 1f\n  xorl $0x5a5a5a5a, ${b.reg32()}\n1:`);
    add(`j${cc} rel32`, 0, (b) => `{disp32} j${cc} 1f\n  xorl $0x5a5a5a5a, ${b.reg32()}\n1:`);
  }
  add('call rel32', 0, () => 'call 1f\n1:');
  add('jmp rel8', 0, (b) => `jmp 1f\n  xorl $0x5a5a5a5a, ${b.reg32()}\n1:`);
  add('jmp rel32', 0, (b) => `{disp32} jmp 1f\n  xorl $0x5a5a5a5a, ${b.reg32()}\n1:`);
  add('jmp r32', 0, () => `leal 1f, %esi\n  jmp *%esi\n  xorl $0x5a5a5a5a, %ebp\n1:`);
  add('call r32', 0, () => `leal 1f, %esi\n  call *%esi\n1:`);
  add('call m32', 0, () => `movl $1f, scratch+8\n  call *scratch+8\n1:`);
  add('jmp m32', 0, () => `movl $1f, scratch+8\n  jmp *scratch+8\n  xorl $0x5a5a5a5a, %ebp\n1:`);
  add('ret', 0, () => `pushl $1f\n  ret\n1:`);
  add('ret imm16', 0, (b) => `pushl $1f\n  ret $${b.rng.nextBelow(16) * 2}\n1:`);
  for (const [op, undef] of [['loop', 0], ['loope', 0], ['loopne', 0], ['jecxz', 0]] as const) {
    add(`${op} rel8`, undef, (b) => {
      b.pin(1, b.pick([0, 1, 2, b.value()]));
      return `${op} 1f\n  xorl $0x5a5a5a5a, %ebp\n1:`;
    });
  }
  for (const s of SIZES) {
    const x = SUFFIX[s];
    for (const op of ['movs', 'cmps', 'stos', 'lods', 'scas']) {
      for (const rep of ['', 'rep ', 'repne ']) {
        if (rep === 'repne ' && op !== 'cmps' && op !== 'scas') continue;
        const repName = rep === 'rep ' && (op === 'cmps' || op === 'scas') ? 'repe ' : rep;
        add(`${repName}${op}${x}`, 0, (b) => {
          b.pin(6, 96 + b.rng.nextBelow(16) * 2, true);
          b.pin(7, 160 + b.rng.nextBelow(16) * 2, true);
          b.pin(1, rep ? b.rng.nextBelow(9) : b.value());
          return `${repName}${op}${x}`;
        });
      }
    }
  }
  add('cbw', 0, () => 'cbtw');
  add('cwde', 0, () => 'cwtl');
  add('cwd', 0, () => 'cwtd');
  add('cdq', 0, () => 'cltd');
  add('lahf', 0, () => 'lahf');
  add('sahf', 0, () => 'sahf');
  for (const op of ['clc', 'stc', 'cmc', 'cld', 'std', 'nop', 'pause']) add(op, 0, () => op);
  add('daa', OF, () => 'daa');
  add('das', OF, () => 'das');
  add('aaa', OF | SF | ZF | PF, () => 'aaa');
  add('aas', OF | SF | ZF | PF, () => 'aas');
  add('aam imm8', OF | AF | CF, (b) => `aam $${1 + b.rng.nextBelow(255)}`);
  add('aad imm8', OF | AF | CF, (b) => `aad $${b.rng.nextBelow(256)}`);
  add('salc', 0, () => '.byte 0xd6');
  add('xlat', 0, (b) => {
    b.pin(3, 40, true);
    return 'xlat';
  });
  add('nopl m (hint nop)', 0, (b) => `nopl ${b.mem()}`);
  add('push/pop ds', 0, () => 'push %ds\n  pop %ds');
  add('mov sreg,r / r,sreg', 0, (b) => `mov %ds, %ax\n  mov %ax, %es\n  mov %ss, ${b.reg32()}`);
  add('mov sreg,m', 0, (b) => `mov %ds, ${b.mem()}`);
  add('push/pop es, fs, gs', 0, () => 'push %es\n  pop %es\n  push %fs\n  pop %fs\n  push %gs\n  pop %gs');
  add('mov m,sreg / sreg,m', 0, (b) => { const m = b.mem(); return `mov %ds, ${m}\n  mov ${m}, %es\n  mov %gs, ${m}\n  mov ${m}, %fs`; });
  add('bound m (in range)', 0, () => 'movl $-5, scratch+8\n  movl $100, scratch+12\n  movl $7, %eax\n  bound %eax, scratch+8');
  return forms;
}

/** A DIV/IDIV whose quotient fits: the divisor and dividend are chosen together. */
function divCase(b: CaseBuilder, signed: boolean, s: number, memory: boolean): string {
  const bits = s * 8;
  const r = b.rng;
  let divisor: bigint;
  do {
    divisor = BigInt.asIntN(bits, BigInt(b.value()));
  } while (divisor === 0n);
  if (!signed) divisor = BigInt.asUintN(bits, divisor);
  const qBits = BigInt(bits);
  const big = 1n << qBits;
  let quotient = BigInt(r.nextUint32()) % (signed ? big / 2n : big);
  if (signed && r.nextBelow(2)) quotient = -quotient;
  if (r.nextBelow(3) === 0) quotient = BigInt(r.nextBelow(100));
  const absD = divisor < 0n ? -divisor : divisor;
  let rem = BigInt(r.nextUint32()) % absD;
  const dividendSign = quotient * divisor < 0n ? -1n : 1n;
  if (signed && dividendSign < 0n) rem = -rem;
  const dividend = quotient * divisor + rem;
  const wide = BigInt.asUintN(2 * bits, dividend);
  const low = Number(wide & (big - 1n)), high = Number(wide >> qBits);
  const st = b.state;
  const dv = Number(BigInt.asUintN(bits, divisor));
  if (s === 1) {
    b.pin(0, (st.regs[0]! & ~0xffff) | (Number(wide) & 0xffff));
  } else if (s === 2) {
    b.pin(0, (st.regs[0]! & ~0xffff) | low);
    b.pin(2, (st.regs[2]! & ~0xffff) | high);
  } else {
    b.pin(0, low);
    b.pin(2, high);
  }
  if (memory) {
    const at = r.nextBelow(200);
    for (let i = 0; i < s; i++) st.mem[at + i] = (dv >>> (8 * i)) & 0xff;
    return `${signed ? 'idiv' : 'div'}${SUFFIX[s]} scratch+${at}`;
  }
  // A register that is not the dividend: for bytes avoid AL/AH, else EAX/EDX.
  const choices = s === 1 ? [1, 2, 3, 5, 6, 7] : [1, 3, 5, 6, 7];
  const n = b.pick(choices);
  if (s === 1) {
    const full = n < 4 ? n : n - 4;
    const shiftBits = n < 4 ? 0 : 8;
    b.pin(full, (st.regs[full]! & ~(0xff << shiftBits)) | ((dv & 0xff) << shiftBits));
    return `${signed ? 'idiv' : 'div'}b %${R8[n]}`;
  }
  b.pin(n, s === 2 ? (st.regs[n]! & ~0xffff) | dv : dv);
  return `${signed ? 'idiv' : 'div'}${SUFFIX[s]} %${(s === 2 ? R16 : R32)[n]}`;
}

export interface GeneratedCase {
  form: Form;
  text: string;
  state: CaseState;
}

/** Generates `perForm` cases for each form, seeded. */
export function generateCases(forms: Form[], perForm: number, seed: number): GeneratedCase[] {
  const rng = new SeededRandom(seed);
  const cases: GeneratedCase[] = [];
  for (const f of forms) {
    for (let i = 0; i < perForm; i++) {
      const b = new CaseBuilder(rng);
      const text = f.build(b);
      cases.push({ form: f, text, state: b.state });
    }
  }
  return cases;
}

/** The assembly source of a program running `cases` and dumping each result (with `x87`, the FNSAVE image too). */
export function programSource(cases: GeneratedCase[], x87 = false): string {
  const dumpBytes = DUMP_BYTES + (x87 ? FPU_SAVE_BYTES : 0);
  const lines: string[] = [];
  lines.push(`
.text
.globl _start
_start:
  mov %esp, real_esp
`);
  cases.forEach((c, i) => {
    lines.push(`case_${i}:
  mov $rec_${i}, %eax
  call load_state${x87 ? `\n  frstor fpu_${i}` : ''}
  mov rec_${i}+260, %eax
  mov rec_${i}+276, %esp
insn_${i}:
  ${c.text}
insn_end_${i}:
  mov %esp, dump+16
  mov real_esp, %esp
  call save_state`);
  });
  lines.push(`
  mov $1, %eax
  xor %ebx, %ebx
  int $0x80

load_state:
  mov %eax, %esi
  mov $scratch, %edi
  mov $${SCRATCH_BYTES / 4}, %ecx
  cld
  rep movsl
  pushl 0(%esi)
  mov 8(%esi), %ecx
  mov 12(%esi), %edx
  mov 16(%esi), %ebx
  mov 24(%esi), %ebp
  mov 32(%esi), %edi
  mov 28(%esi), %esi
  popfl
  ret

save_state:
  mov %eax, dump+0
  mov %ecx, dump+4
  mov %edx, dump+8
  mov %ebx, dump+12
  mov %ebp, dump+20
  mov %esi, dump+24
  mov %edi, dump+28
  pushfl
  popl dump+32${x87 ? `\n  fnsave dump+${DUMP_BYTES}` : ''}
  mov $scratch, %esi
  mov $dump+36, %edi
  mov $${SCRATCH_BYTES / 4}, %ecx
  cld
  rep movsl
  mov $4, %eax
  mov $1, %ebx
  mov $dump, %ecx
  mov $${dumpBytes}, %edx
  int $0x80
  ret

.data
.balign 64
scratch: .space ${SCRATCH_BYTES}
dump: .space ${dumpBytes}
real_esp: .long 0
`);
  cases.forEach((c, i) => {
    const st = c.state;
    const regs = st.regs.map((v, r) => (st.relative[r] ? `scratch+(${v})` : `${v | 0}`));
    lines.push(`rec_${i}:
  .byte ${Array.from(st.mem).join(',')}
  .long ${st.flags}, ${regs.join(', ')}${st.fpu ? `\nfpu_${i}:\n  .byte ${Array.from(st.fpu).join(',')}` : ''}`);
  });
  return lines.join('\n');
}

/** Writes the program's source; returns its path. */
export function writeProgram(dir: string, name: string, cases: GeneratedCase[], x87 = false): string {
  const path = join(dir, `${name}.S`);
  writeFileSync(path, programSource(cases, x87));
  return path;
}

export const REGISTER_NAMES = R32;
