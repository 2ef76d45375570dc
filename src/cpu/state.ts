/**
 * Architectural constants of the i386: segment register numbers, CR0/CR4 bits,
 * exception vectors, page-table bits, prefix bytes, the processor's identity. Shared by the CPU and by whoever builds
 * descriptor tables or page tables for it (the user-mode runner, tests).
 */
export const ES = 0;
export const CS = 1;
export const SS = 2;
export const DS = 3;
export const FS = 4;
export const GS = 5;
export const SEGMENT_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const;

export const REGISTER_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;
export const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;

/** Processor signature (CPUID.1:EAX, EDX after reset, the MP table's processor entry): family 6, model 3, stepping 3, a P6-class integer core. */
export const CPUID_SIGNATURE = 0x00000633;
/** CPUID.1:EDX: FPU, PSE, TSC, MSR, MCE, CX8, APIC, PGE, MCA, CMOV. */
export const CPUID_FEATURES = (1 << 0) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 13) | (1 << 14) | (1 << 15);

/**
 * 1 for the bytes that are instruction prefixes: the segment overrides (26 2E 36 3E 64 65),
 * operand and address size (66 67), LOCK (F0), REPNE and REP (F2 F3). A table, for the
 * interpreter's hot path.
 */
export const PREFIX_BYTE = new Uint8Array(256);
for (const b of [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]) PREFIX_BYTE[b] = 1;

export const CR0_PE = 0x1;
export const CR0_MP = 0x2;
export const CR0_EM = 0x4;
export const CR0_TS = 0x8;
export const CR0_ET = 0x10;
export const CR0_NE = 0x20;
export const CR0_WP = 0x10000;
export const CR0_AM = 0x40000;
export const CR0_NW = 0x20000000;
export const CR0_CD = 0x40000000;
export const CR0_PG = 0x80000000 | 0;

export const CR4_TSD = 0x4;
export const CR4_DE = 0x8;
export const CR4_PSE = 0x10;
export const CR4_MCE = 0x40;
export const CR4_PGE = 0x80;
export const CR4_PCE = 0x100;
/** CR4 bits a guest may set; the rest (VME, PVI, PAE, OSFXSR, …) raise #GP. */
export const CR4_SUPPORTED = CR4_TSD | CR4_DE | CR4_PSE | CR4_MCE | CR4_PGE | CR4_PCE;

export const PTE_P = 0x1;
export const PTE_W = 0x2;
export const PTE_U = 0x4;
export const PTE_A = 0x20;
export const PTE_D = 0x40;
export const PTE_PS = 0x80;
export const PTE_G = 0x100;

export const VEC_DE = 0;
export const VEC_DB = 1;
export const VEC_NMI = 2;
export const VEC_BP = 3;
export const VEC_OF = 4;
export const VEC_BR = 5;
export const VEC_UD = 6;
export const VEC_NM = 7;
export const VEC_DF = 8;
export const VEC_TS = 10;
export const VEC_NP = 11;
export const VEC_SS = 12;
export const VEC_GP = 13;
export const VEC_PF = 14;
export const VEC_MF = 16;
export const VEC_AC = 17;
export const VEC_MC = 18;

export const EXCEPTION_NAMES: Record<number, string> = {
  0: 'divide error (#DE)', 1: 'debug (#DB)', 2: 'NMI', 3: 'breakpoint (#BP)', 4: 'overflow (#OF)',
  5: 'bound range (#BR)', 6: 'invalid opcode (#UD)', 7: 'device not available (#NM)', 8: 'double fault (#DF)',
  10: 'invalid TSS (#TS)', 11: 'segment not present (#NP)', 12: 'stack fault (#SS)', 13: 'general protection (#GP)',
  14: 'page fault (#PF)', 16: 'x87 error (#MF)', 17: 'alignment check (#AC)', 18: 'machine check (#MC)',
};

/** Exceptions that push an error code. */
export function exceptionHasErrorCode(vector: number): boolean {
  return vector === VEC_DF || (vector >= VEC_TS && vector <= VEC_PF) || vector === VEC_AC;
}

/** Page-fault error code bits. */
export const PF_PROTECTION = 1;
export const PF_WRITE = 2;
export const PF_USER = 4;

/** Descriptor access-byte bits (bits 8..15 of the high dword). */
export const DESC_PRESENT = 0x80;
export const DESC_S = 0x10;
export const DESC_CODE = 0x08;
export const DESC_CONFORMING = 0x04; // code: conforming; data: expand-down
export const DESC_RW = 0x02;         // code: readable; data: writable
export const DESC_ACCESSED = 0x01;

/** Builds the two dwords of a segment descriptor. */
export function segmentDescriptor(base: number, limit: number, access: number, big = true, granular = true): [number, number] {
  const lim = granular ? limit >>> 12 : limit;
  const low = ((base & 0xffff) << 16) | (lim & 0xffff);
  const high = (base & 0xff000000) | ((granular ? 0x80 : 0) << 16) | ((big ? 0x40 : 0) << 16) | (lim & 0xf0000) |
    (access << 8) | ((base >>> 16) & 0xff);
  return [low | 0, high | 0];
}

/** Builds the two dwords of a 32-bit interrupt (trap = false) or trap gate. */
export function gateDescriptor(selector: number, offset: number, dpl: number, trap: boolean): [number, number] {
  const low = ((selector & 0xffff) << 16) | (offset & 0xffff);
  const high = (offset & 0xffff0000) | 0x8000 | (dpl << 13) | ((trap ? 0xf : 0xe) << 8);
  return [low | 0, high | 0];
}
