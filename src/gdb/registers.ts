/**
 * The registers gdb sees, in the order and layout QEMU's i386 stub gives them (so one
 * gdb script reads the same names and numbers from both): the eight general registers,
 * eip, eflags, the six segment selectors, the FS/GS bases, the control registers and EFER,
 * then the x87 registers gdb's i386 architecture requires (memvisor's processor has no
 * FPU: they read as after FNINIT). The target description sent to gdb (qXfer:features) is
 * built from the same table, so the two cannot disagree.
 */
import type { CPU } from '../cpu/index.js';
import { CS, DS, ES, FS, GS, SS } from '../cpu/index.js';

interface Register {
  name: string;
  bits: 32 | 80;
  type: string;
  group?: string;
  read(cpu: CPU): number;
  /** Absent: gdb may write only the value the register already has. */
  write?(cpu: CPU, value: number): void;
}

const general = (name: string, index: number, type = 'int32'): Register => ({
  name, bits: 32, type, read: (cpu) => cpu.reg[index]!, write: (cpu, v) => { cpu.reg[index] = v | 0; },
});
const fixed = (name: string, value: number, bits: 32 | 80 = 32, type = 'int32', group?: string): Register => ({
  name, bits, type, group, read: () => value,
});
const selector = (name: string, segment: number): Register => ({ name, bits: 32, type: 'int32', read: (cpu) => cpu.sel[segment]! & 0xffff });

export const REGISTERS: readonly Register[] = [
  general('eax', 0), general('ecx', 1), general('edx', 2), general('ebx', 3),
  general('esp', 4, 'data_ptr'), general('ebp', 5, 'data_ptr'), general('esi', 6), general('edi', 7),
  { name: 'eip', bits: 32, type: 'code_ptr', read: (cpu) => cpu.eip, write: (cpu, v) => { cpu.eip = v | 0; } },
  { name: 'eflags', bits: 32, type: 'i386_eflags', read: (cpu) => cpu.getEflags(), write: (cpu, v) => cpu.setEflags(v) },
  selector('cs', CS), selector('ss', SS), selector('ds', DS), selector('es', ES), selector('fs', FS), selector('gs', GS),
  { name: 'fs_base', bits: 32, type: 'int32', read: (cpu) => cpu.segBase[FS]! },
  { name: 'gs_base', bits: 32, type: 'int32', read: (cpu) => cpu.segBase[GS]! },
  fixed('k_gs_base', 0),
  { name: 'cr0', bits: 32, type: 'i386_cr0', read: (cpu) => cpu.cr0 },
  { name: 'cr2', bits: 32, type: 'int32', read: (cpu) => cpu.cr2 },
  { name: 'cr3', bits: 32, type: 'i386_cr3', read: (cpu) => cpu.cr3 },
  { name: 'cr4', bits: 32, type: 'i386_cr4', read: (cpu) => cpu.cr4 },
  fixed('cr8', 0), fixed('efer', 0, 32, 'i386_efer'),
  ...Array.from({ length: 8 }, (_, i) => fixed(`st${i}`, 0, 80, 'i387_ext')),
  fixed('fctrl', 0x37f, 32, 'int', 'float'), fixed('fstat', 0, 32, 'int', 'float'), fixed('ftag', 0xffff, 32, 'int', 'float'),
  fixed('fiseg', 0, 32, 'int', 'float'), fixed('fioff', 0, 32, 'int', 'float'), fixed('foseg', 0, 32, 'int', 'float'),
  fixed('fooff', 0, 32, 'int', 'float'), fixed('fop', 0, 32, 'int', 'float'),
];

/**
 * Bit fields gdb prints for the flag registers ([name, first bit, last bit]), in QEMU's
 * order (gdb prints them in this order, so the two stubs' `info registers` read alike).
 */
const bit = (name: string, at: number): [string, number, number] => [name, at, at];
const FLAG_TYPES: Record<string, Array<[string, number, number]>> = {
  i386_eflags: [['', 22, 31], bit('ID', 21), bit('VIP', 20), bit('VIF', 19), bit('AC', 18), bit('VM', 17), bit('RF', 16), bit('', 15),
    bit('NT', 14), ['IOPL', 12, 13], bit('OF', 11), bit('DF', 10), bit('IF', 9), bit('TF', 8), bit('SF', 7), bit('ZF', 6), bit('', 5),
    bit('AF', 4), bit('', 3), bit('PF', 2), bit('', 1), bit('CF', 0)],
  i386_cr0: [bit('PG', 31), bit('CD', 30), bit('NW', 29), bit('AM', 18), bit('WP', 16), bit('NE', 5), bit('ET', 4), bit('TS', 3),
    bit('EM', 2), bit('MP', 1), bit('PE', 0)],
  i386_cr3: [['PDBR', 12, 31], ['PCID', 0, 11]],
  i386_cr4: [bit('VME', 0), bit('PVI', 1), bit('TSD', 2), bit('DE', 3), bit('PSE', 4), bit('PAE', 5), bit('MCE', 6), bit('PGE', 7),
    bit('PCE', 8), bit('OSFXSR', 9), bit('OSXMMEXCPT', 10), bit('UMIP', 11), bit('LA57', 12), bit('VMXE', 13), bit('SMXE', 14),
    bit('FSGSBASE', 16), bit('PCIDE', 17), bit('OSXSAVE', 18), bit('SMEP', 20), bit('SMAP', 21), bit('PKE', 22)],
  i386_efer: [bit('TCE', 15), bit('FFXSR', 14), bit('LMSLE', 13), bit('SVME', 12), bit('NXE', 11), bit('LMA', 10), bit('LME', 8), bit('SCE', 0)],
};

/** The target description (qXfer:features:read:target.xml). */
export function targetDescription(): string {
  const flags = Object.entries(FLAG_TYPES).map(([id, fields]) =>
    `<flags id="${id}" size="4">${fields.map(([name, start, end]) =>
      `<field name="${name}" start="${start}" end="${end}"/>`).join('')}</flags>`);
  const registers = REGISTERS.map((r, regnum) =>
    `<reg name="${r.name}" bitsize="${r.bits}" type="${r.type}" regnum="${regnum}"${r.group ? ` group="${r.group}"` : ''}/>`);
  return '<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd"><target><architecture>i386</architecture>' +
    `<feature name="org.gnu.gdb.i386.core">${flags.join('')}${registers.join('')}</feature></target>`;
}

const hexBytes = (value: number, bytes: number) => {
  let out = '';
  for (let i = 0; i < bytes; i++) out += (i < 4 ? (value >>> (8 * i)) & 0xff : 0).toString(16).padStart(2, '0');
  return out;
};

/** One register as the `p` packet sends it (little-endian hex); null for a number gdb does not know. */
export function readRegister(cpu: CPU, regnum: number): string | null {
  const r = REGISTERS[regnum];
  return r ? hexBytes(r.read(cpu), r.bits / 8) : null;
}

/** Every register, as the `g` packet sends them. */
export function readRegisters(cpu: CPU): string {
  return REGISTERS.map((_, n) => readRegister(cpu, n)).join('');
}

/** Parses little-endian hex bytes (at most the low 32 bits matter). */
function parseHex(hex: string): number {
  let value = 0;
  for (let i = 0; i < Math.min(hex.length, 8); i += 2) value |= parseInt(hex.slice(i, i + 2), 16) << (4 * i);
  return value | 0;
}

/**
 * Writes one register (the `P` packet); an error message for a register that cannot be
 * changed from the debugger (segment and control registers: loading them has effects a
 * raw write would skip).
 */
export function writeRegister(cpu: CPU, regnum: number, hex: string): string | null {
  const r = REGISTERS[regnum];
  if (!r || hex.length !== r.bits / 4 || !/^[0-9a-f]*$/i.test(hex)) return 'no such register, or a malformed value';
  const value = parseHex(hex);
  if (r.write) r.write(cpu, value);
  else if ((value | 0) !== (r.read(cpu) | 0) || (r.bits === 80 && !/^0*$/.test(hex.slice(8)))) return `${r.name} cannot be changed from the debugger`;
  return null;
}

/** Writes every register (the `G` packet): all of them, or none when one cannot be written. */
export function writeRegisters(cpu: CPU, hex: string): string | null {
  const values: Array<[number, string]> = [];
  for (let n = 0, at = 0; n < REGISTERS.length && at < hex.length; n++) {
    const width = REGISTERS[n]!.bits / 4;
    values.push([n, hex.slice(at, at + width)]);
    at += width;
  }
  const saved = values.map(([n]) => readRegister(cpu, n)!);
  for (const [n, value] of values) {
    const problem = writeRegister(cpu, n, value);
    if (problem) {
      values.forEach(([m], i) => { if (REGISTERS[m]!.write) writeRegister(cpu, m, saved[i]!); });
      return problem;
    }
  }
  return null;
}
