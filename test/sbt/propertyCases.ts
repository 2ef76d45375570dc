/**
 * Generates per-class property-test programs: for each memory-writing instruction form and
 * addressing form, a case that loads random registers, flags and memory (seeded), runs the
 * one instruction, records registers and flags, checks the mirror of the test window
 * (BUF..BUF+WINDOW against +OFFSET) and dumps registers and the window on stdout.
 * The untranslated program prints the same dump (its mirror check is ignored): so one run
 * of each shows identical registers, flags and native memory, and mirror == native.
 */
import type { Template } from '../../src/sbt/index.js';

export const BUF = 0x20000000;
export const WINDOW = 0x400;
const REGS = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;
type Reg = (typeof REGS)[number];
const REGS16: Record<Reg, string> = { eax: 'ax', ecx: 'cx', edx: 'dx', ebx: 'bx', esp: 'sp', ebp: 'bp', esi: 'si', edi: 'di' };
const REGS8 = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'];

interface Mem { base?: Reg; index?: Reg; scale: number; disp: number }
type Fixed = 'count' | 'addr' | 'label' | 'fnptr' | 'zero';

export interface Form {
  /** Template the translator should pick (the mutation tests disable it). */
  template: Template;
  asm: string;
  /** Registers with a required role; they are never used in M. */
  fixed?: Partial<Record<Reg, Fixed>>;
  pre?: string;
  /** Registers that must not be used as M's base/index. */
  avoid?: Reg[];
  /** The case pushes a code address at (%esp) (call, push $label): normalised before the dump. */
  codeAddressAtTop?: boolean;
  /** Only absolute or all addressing forms. */
  memory?: 'none' | 'sweep' | 'some';
}

const ALU = ['add', 'sub', 'and', 'or', 'xor', 'adc', 'sbb'];
const SHIFTS = ['shl', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr'];

export const FORMS: Form[] = [
  // Pure stores.
  { template: 'store', asm: 'movl %R32, M', memory: 'sweep' },
  { template: 'store', asm: 'movw %R16, M' },
  { template: 'store', asm: 'movb %R8, M', memory: 'sweep' },
  { template: 'store', asm: 'movl $I32, M' },
  { template: 'store', asm: 'movw $I16, M' },
  { template: 'store', asm: 'movb $I8, M' },
  ...['sete', 'setne', 'setb', 'seta', 'setl', 'setg', 'seto', 'setp', 'sets'].map((s) => ({ template: 'store' as Template, asm: `${s} M` })),
  { template: 'store', asm: 'fsts M', pre: 'fldpi' },
  { template: 'store', asm: 'fstl M', pre: 'fldpi' },
  { template: 'store', asm: 'fistl M', pre: 'fldpi' },
  { template: 'store', asm: 'fists M', pre: 'fldl2e' },
  { template: 'store', asm: 'fnstcw M' },
  { template: 'store', asm: 'fnstsw M', pre: 'fldpi' },
  { template: 'store', asm: 'movss %xmm0, M', pre: 'movd %eax, %xmm0' },
  { template: 'store', asm: 'movq %xmm1, M', pre: 'movd %ebx, %xmm1' },
  { template: 'store', asm: 'movd %xmm2, M', pre: 'movd %ecx, %xmm2' },
  // Read-modify-write.
  ...ALU.flatMap((op) => [
    { template: 'copy' as Template, asm: `${op}l %R32, M`, memory: op === 'add' || op === 'adc' ? 'sweep' as const : 'some' as const },
    { template: 'copy' as Template, asm: `${op}w $I16, M` },
    { template: 'copy' as Template, asm: `${op}b %R8, M` },
    { template: 'copy' as Template, asm: `${op}l $I8s, M` },
  ]),
  ...['inc', 'dec', 'neg', 'not'].flatMap((op) => [
    { template: 'copy' as Template, asm: `${op}l M` }, { template: 'copy' as Template, asm: `${op}b M` }, { template: 'copy' as Template, asm: `${op}w M` },
  ]),
  ...SHIFTS.flatMap((op) => [
    { template: 'copy' as Template, asm: `${op}l $I5, M` }, { template: 'copy' as Template, asm: `${op}b %cl, M`, avoid: ['ecx'] as Reg[] },
    { template: 'copy' as Template, asm: `${op}w M` },
  ]),
  { template: 'copy', asm: 'shldl $I5, %R32, M' },
  { template: 'copy', asm: 'shrdl %cl, %R32, M', avoid: ['ecx'] },
  { template: 'copy', asm: 'btsl $I5, M' }, { template: 'copy', asm: 'btrl $I5, M' }, { template: 'copy', asm: 'btcl $I5, M' },
  { template: 'copy', asm: 'btsl %edx, M', fixed: { edx: 'count' } },
  { template: 'copy', asm: 'xchgl %edx, M', avoid: ['edx'] },
  { template: 'copy', asm: 'xchgb %dl, M', avoid: ['edx'] },
  { template: 'copy', asm: 'xaddl %edx, M', avoid: ['edx'], memory: 'sweep' },
  { template: 'copy', asm: 'lock cmpxchgl %edx, M', avoid: ['eax', 'edx'] },
  { template: 'copy', asm: 'cmpxchgl %edx, M', pre: 'movl M, %eax', avoid: ['eax', 'edx'] },
  { template: 'copy', asm: 'cmpxchg8b M', avoid: ['eax', 'edx'] },
  { template: 'copy', asm: 'cmpxchg8b M', pre: 'movl M, %eax; movl M4, %edx', avoid: ['eax', 'edx'] },
  { template: 'copy', asm: 'fstps M', pre: 'fldpi' }, { template: 'copy', asm: 'fstpl M', pre: 'fldpi' },
  { template: 'copy', asm: 'fstpt M', pre: 'fldpi' }, { template: 'copy', asm: 'fistpl M', pre: 'fldpi' },
  { template: 'copy', asm: 'fistpll M', pre: 'fldpi' }, { template: 'copy', asm: 'fistps M', pre: 'fld1' },
  { template: 'copy', asm: 'fnsave M' },
  // Address register written by the writer itself.
  { template: 'copyViaAddress', asm: 'xchgl %eax, (%eax)', fixed: { eax: 'addr' }, memory: 'none' },
  { template: 'copyViaAddress', asm: 'xchgl %ebx, 8(%ebx,%esi,2)', fixed: { ebx: 'addr', esi: 'zero' }, memory: 'none' },
  { template: 'copyViaAddress', asm: 'xaddl %ecx, 4(%ecx)', fixed: { ecx: 'addr' }, memory: 'none' },
  { template: 'copyViaAddress', asm: 'cmpxchgl %edx, (%eax)', fixed: { eax: 'addr' }, memory: 'none' },
  { template: 'copyViaAddress', asm: 'cmpxchgl %edx, (%eax)', fixed: { eax: 'addr' }, pre: 'movl %eax, (%eax)', memory: 'none' },
  { template: 'copyViaAddress', asm: 'cmpxchg8b (%edx)', fixed: { edx: 'addr' }, memory: 'none' },
  { template: 'copyViaAddress', asm: 'xchgb %al, 3(%eax)', fixed: { eax: 'addr' }, memory: 'none' },
  // Stack.
  { template: 'popMem', asm: 'popl M', memory: 'sweep' },
  { template: 'popMem', asm: 'popw M' },
  ...REGS.filter((r) => r !== 'esp').map((r) => ({ template: 'pushReg' as Template, asm: `pushl %${r}`, memory: 'none' as const })),
  { template: 'pushImm', asm: 'pushl $I8s', memory: 'none' },
  { template: 'pushImm', asm: 'pushl $I32', memory: 'none' },
  { template: 'pushImm', asm: 'pushl $LABEL', memory: 'none', codeAddressAtTop: true },
  { template: 'pushOther', asm: 'pushl M', memory: 'sweep' },
  { template: 'pushOther', asm: 'pushl %esp', memory: 'none' },
  { template: 'pushOther', asm: 'pushfl', memory: 'none' },
  { template: 'pushOther', asm: 'pushal', memory: 'none' },
  { template: 'pushOther', asm: 'pushw $I16', memory: 'none' },
  { template: 'pushOther', asm: 'pushw %R16', memory: 'none' },
  // Calls (return address mirrored before the call).
  { template: 'call', asm: 'call LABEL', memory: 'none', codeAddressAtTop: true },
  { template: 'call', asm: 'call *%esi', fixed: { esi: 'label' }, memory: 'none', codeAddressAtTop: true },
  { template: 'call', asm: 'call *FNPTR', memory: 'none', codeAddressAtTop: true },
  { template: 'call', asm: 'call *FNPTR(,%ecx,4)', fixed: { ecx: 'zero' }, memory: 'none', codeAddressAtTop: true },
  { template: 'call', asm: 'call *(%ebx)', fixed: { ebx: 'fnptr' }, memory: 'none', codeAddressAtTop: true },
  // Strings (DF=0).
  ...['stosb', 'stosw', 'stosl'].map((s) => ({ template: 'stos' as Template, asm: s, fixed: { edi: 'addr' as Fixed }, memory: 'none' as const })),
  ...['movsb', 'movsw', 'movsl'].map((s) => ({ template: 'movs' as Template, asm: s, fixed: { edi: 'addr' as Fixed, esi: 'addr' as Fixed }, memory: 'none' as const })),
  ...['rep stosb', 'rep stosw', 'rep stosl'].map((s) => ({ template: 'repStos' as Template, asm: s, fixed: { edi: 'addr' as Fixed, ecx: 'count' as Fixed }, memory: 'none' as const })),
  ...['rep movsb', 'rep movsw', 'rep movsl'].map((s) => ({ template: 'repMovs' as Template, asm: s, fixed: { edi: 'addr' as Fixed, esi: 'addr' as Fixed, ecx: 'count' as Fixed }, memory: 'none' as const })),
];

function hex(n: number): string { return '0x' + (n >>> 0).toString(16); }

function renderMem(m: Mem, extra = 0): string {
  const disp = m.disp + extra;
  const inner = m.base || m.index ? `(${m.base ? '%' + m.base : ''}${m.index ? `,%${m.index},${m.scale}` : ''})` : '';
  return `${disp === 0 && inner ? '' : hex(disp)}${inner}`;
}

/** All addressing forms: none, each base with disp 0/8/32, base+index*scale, index*scale. */
function addressingForms(allowed: Reg[], rnd: () => number, count: 'sweep' | 'some'): Mem[] {
  const forms: Mem[] = [{ scale: 1, disp: BUF + 0x40 + (rnd() % 0x80) }];
  const pick = <T>(xs: T[]) => xs[rnd() % xs.length]!;
  for (const base of allowed) for (const disp of [0, 8, 0x104]) forms.push({ base, scale: 1, disp });
  const indexes = allowed.filter((r) => r !== 'esp');
  for (let i = 0; i < 6 && indexes.length > 0; i++) {
    const base = pick(allowed);
    const index = pick(indexes.filter((r) => r !== base).length ? indexes.filter((r) => r !== base) : indexes);
    forms.push({ base, index, scale: pick([1, 2, 4, 8]), disp: pick([0, 8, 0x104, -8]) });
  }
  if (indexes.length) forms.push({ index: pick(indexes), scale: pick([1, 2, 4, 8]), disp: BUF + 0x40 });
  if (count === 'sweep') return forms;
  const some: Mem[] = [forms[0]!];
  for (let i = 0; i < 5; i++) some.push(pick(forms.slice(1)));
  return some;
}

export interface Case { form: Form; text: string; template: Template }

/** One program: `cases` cases, each with its own registers/flags/memory from `rnd`. */
/** Forms that use x87 or SSE (memvisor's CPU has neither: they raise #UD there). */
export function usesFpu(form: Form): boolean {
  return /(^|[\s;])f[a-z]+|%xmm/.test(`${form.asm} ${form.pre ?? ''}`);
}

export function generateProgram(forms: Form[], rnd: () => number, offset: number): { source: string; cases: Case[] } {
  const cases: Case[] = [];
  const body: string[] = [];
  const data: string[] = [];
  let k = 0;
  for (const form of forms) {
    const fixed = form.fixed ?? {};
    const allowed = REGS.filter((r) => !(r in fixed) && !(form.avoid ?? []).includes(r));
    const mems: Array<Mem | undefined> = form.asm.includes('M') ? addressingForms(allowed, rnd, form.memory === 'sweep' ? 'sweep' : 'some') : [undefined, undefined, undefined, undefined, undefined, undefined];
    for (const mem of mems) {
      const label = `case${k}`;
      const values: Record<string, string> = {};
      for (const r of REGS) values[r] = hex(rnd());
      values.esp = hex(BUF + 0x3f0);
      const addressRegs = new Set<Reg>();
      if (mem?.base) addressRegs.add(mem.base);
      for (const r of [mem?.base, mem?.index]) if (r) values[r] = r === mem?.index ? String(rnd() % 16) : hex(BUF + 0x40 + (rnd() % 0x40));
      if (mem?.index) addressRegs.add(mem.index);
      for (const [r, role] of Object.entries(fixed)) {
        values[r] = role === 'count' ? String(rnd() % 9) : role === 'addr' ? hex(BUF + 0x100 + (rnd() % 0x40)) : role === 'label' ? `$ret_${k}`
          : role === 'fnptr' ? `fnptr${k}` : '0';
      }
      const pickReg = (regs: string[]) => {
        if (mem?.base && rnd() % 3 === 0) { // source = address register, when it exists in this width
          const i = REGS.indexOf(mem.base);
          if (regs[i] !== undefined && !(regs === REGS8 && i >= 4)) return regs[i]!;
        }
        return regs[rnd() % regs.length]!;
      };
      const reg16 = REGS.map((r) => REGS16[r]);
      const substituted = form.asm
        .replace('R32', () => pickReg([...REGS]))
        .replace('R16', () => pickReg(reg16))
        .replace('R8', () => pickReg(REGS8))
        .replace('I32', () => hex(rnd()))
        .replace('I16', () => hex(rnd() & 0xffff))
        .replace('I8s', () => String((rnd() & 0xff) - 128))
        .replace('I8', () => hex(rnd() & 0xff))
        .replace('I5', () => String(1 + (rnd() % 31)))
        .replace('FNPTR', `fnptr${k}`)
        .replace(/\bM4\b/, () => renderMem(mem!, 4))
        .replace(/\bM\b/g, () => renderMem(mem!));
      const pre = (form.pre ?? '').replace(/\bM4\b/, () => renderMem(mem!, 4)).replace(/\bM\b/g, () => renderMem(mem!));
      const flags = 0x2 | (rnd() & (0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x800));
      const initFrom = (rnd() % 256) * 4;
      data.push(`fnptr${k}: .long ret_${k}`);
      body.push(`# case ${k}: ${substituted}`,
        `${label}:`,
        '  movl %esp, saved_esp',
        `  movl $init_blob+${initFrom}, %esi`, `  movl $${hex(BUF)}, %edi`, `  movl $${WINDOW / 4}, %ecx`, '  rep movsl',
        ...(usesFpu(form) ? ['  fninit'] : []),
        `  movl $${values.esp}, %esp`, `  pushl $${hex(flags)}`, '  popfl',
        ...REGS.filter((r) => r !== 'esp').map((r) => `  movl $${values[r]!.replace(/^\$/, '')}, %${r}`),
        ...(pre ? [`  ${pre}`] : []),
        `  ${substituted.replace('LABEL', `ret_${k}`)}`,
        `ret_${k}:`,
        ...REGS.map((r, i) => `  movl %${r}, rec+${4 * i}`),
        '  pushfl', '  popl rec+32',
        '  movl saved_esp, %esp',
        `  pushl $${k}`, '  call check_case', '  addl $4, %esp',
        ...(form.codeAddressAtTop ? ['  movl rec+16, %eax', '  movl $0x5a5a5a5a, (%eax)'] : []),
        ...Object.entries(fixed).filter(([, role]) => role === 'label').map(([r]) => `  movl $0, rec+${4 * REGS.indexOf(r as Reg)}`),
        '  call dump_case');
      cases.push({ form, text: substituted.replace(/\$0x[0-9a-f]+/g, '$imm'), template: form.template });
      k++;
    }
  }
  const blob: string[] = [];
  for (let i = 0; i < (WINDOW + 1024) / 4; i++) blob.push(hex(rnd()));
  const source = `
.text
.globl main
main:
  pushl %ebx; pushl %esi; pushl %edi; pushl %ebp
  # map the test window and its mirror (the untranslated run maps the mirror too: unused)
  movl $192, %eax; movl $${hex(BUF)}, %ebx; movl $0x1000, %ecx; movl $3, %edx; movl $0x32, %esi; movl $-1, %edi; xorl %ebp, %ebp; int $0x80
  movl $192, %eax; movl $${hex(BUF + offset)}, %ebx; movl $0x1000, %ecx; movl $3, %edx; movl $0x32, %esi; movl $-1, %edi; xorl %ebp, %ebp; int $0x80
  cld
${body.join('\n')}
  popl %ebp; popl %edi; popl %esi; popl %ebx
  xorl %eax, %eax
  ret

# check_case(k): compare the window with its mirror; on a mismatch write "X k first\\n" to fd 2.
check_case:
  movl $${hex(BUF)}, %esi
1:
  movl (%esi), %eax
  cmpl ${hex(offset)}(%esi), %eax
  jne 2f
  addl $4, %esi
  cmpl $${hex(BUF + WINDOW)}, %esi
  jb 1b
  ret
2:
  movl 4(%esp), %eax
  movl %eax, mismatch_record+4
  movl %esi, mismatch_record+8
  movl $4, %eax; movl $2, %ebx; movl $mismatch_record, %ecx; movl $12, %edx; int $0x80
  ret

dump_case:
  movl $4, %eax; movl $1, %ebx; movl $rec, %ecx; movl $36, %edx; int $0x80
  movl $4, %eax; movl $1, %ebx; movl $${hex(BUF)}, %ecx; movl $${WINDOW}, %edx; int $0x80
  ret

.data
.align 4
mismatch_record: .ascii "MISM"; .long 0, 0
${data.join('\n')}
init_blob: .long ${blob.join(', ')}
.bss
.align 4
saved_esp: .long 0
rec: .space 36
`;
  return { source, cases };
}

/** Mismatch records the program wrote on stderr: case numbers. */
export function mismatchedCases(stderr: Buffer | string): number[] {
  const bytes = typeof stderr === 'string' ? Buffer.from(stderr, 'latin1') : stderr;
  const found: number[] = [];
  for (let at = bytes.indexOf('MISM'); at >= 0 && at + 12 <= bytes.length; at = bytes.indexOf('MISM', at + 12)) {
    found.push(bytes.readUInt32LE(at + 4));
  }
  return found;
}
