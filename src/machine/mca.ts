/**
 * Machine-check architecture: one MCA bank, as CPUID (MCE, MCA) promises and a kernel
 * reads it through rdmsr/wrmsr. When memory reports data it has lost, the bank records
 * the error and the processor takes a machine-check exception (#MC, vector 18) — or shuts
 * down when it cannot: CR4.MCE clear, or a second error while MCG_STATUS.MCIP says the
 * first is still being handled (as the architecture defines).
 */
import type { MsrHandler } from '../cpu/bus.js';
import type { CPU } from '../cpu/index.js';
import { CR4_MCE } from '../cpu/state.js';
import { pickState, assignState, type Device, type DeviceState } from './device.js';

export const MSR_MCG_CAP = 0x179;
export const MSR_MCG_STATUS = 0x17a;
export const MSR_MC0_CTL = 0x400;
export const MSR_MC0_STATUS = 0x401;
export const MSR_MC0_ADDR = 0x402;
export const MSR_MC0_MISC = 0x403;

const VEC_MC = 18;
/** MCG_CAP: the bank count in bits 0-7. */
const MCG_CAP_ONE_BANK = 1;
/** MCG_STATUS: restart IP valid, machine check in progress. */
const MCG_STATUS_RIPV = 1 << 0;
const MCG_STATUS_MCIP = 1 << 2;
/** MCi_STATUS high half: VAL (bit 63), UC (61), EN (60), ADDRV (58); PCC (57) stays clear: the context is intact. */
const MCI_STATUS_VAL = 1 << 31, MCI_STATUS_UC = 1 << 29, MCI_STATUS_EN = 1 << 28, MCI_STATUS_ADDRV = 1 << 26;
/** MCA error code for a memory read error (generic memory hierarchy, data read). */
const MCI_ERROR_MEMORY_READ = 0x0000009f;

export class MachineCheckBank implements Device, MsrHandler {
  readonly name = 'mca';
  readonly version = 1;
  mcgStatus = 0;
  mciStatusLow = 0;
  mciStatusHigh = 0;
  mciAddr = 0;
  /** Machine checks delivered to the processor (and shutdowns they caused). */
  delivered = 0;

  constructor(private readonly cpu: CPU) {}

  reset(): void {
    this.mcgStatus = this.mciStatusLow = this.mciStatusHigh = this.mciAddr = 0;
  }

  /**
   * Memory lost the data at guest-physical `address`: record it and raise #MC in the
   * processor (this throws out of the current instruction), or shut the processor down
   * when it cannot take one.
   */
  signalMemoryError(address: number): never {
    const cpu = this.cpu;
    this.delivered++;
    if (this.mcgStatus & MCG_STATUS_MCIP) cpu.enterShutdown('a machine check while the previous one was being handled');
    else if (!(cpu.cr4 & CR4_MCE)) cpu.enterShutdown('a machine check with CR4.MCE clear');
    this.mcgStatus = MCG_STATUS_RIPV | MCG_STATUS_MCIP;
    this.mciStatusLow = MCI_ERROR_MEMORY_READ;
    this.mciStatusHigh = MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN | MCI_STATUS_ADDRV;
    this.mciAddr = address >>> 0;
    return cpu.raise(VEC_MC);
  }

  /** A machine check the guest took and has not finished handling (MCG_STATUS.MCIP set): where it was, for a stop message; else null. */
  inProgress(): string | null {
    return this.mcgStatus & MCG_STATUS_MCIP ? `a machine check (memory error at physical 0x${this.mciAddr.toString(16)}) in progress` : null;
  }

  readMsr(index: number): [number, number] | null {
    switch (index) {
      case MSR_MCG_CAP: return [MCG_CAP_ONE_BANK, 0];
      case MSR_MCG_STATUS: return [this.mcgStatus, 0];
      case MSR_MC0_CTL: return [0xffffffff, 0xffffffff];
      case MSR_MC0_STATUS: return [this.mciStatusLow >>> 0, this.mciStatusHigh >>> 0];
      case MSR_MC0_ADDR: return [this.mciAddr >>> 0, 0];
      case MSR_MC0_MISC: return [0, 0];
    }
    return null;
  }

  writeMsr(index: number, low: number, high: number): boolean {
    switch (index) {
      case MSR_MCG_STATUS: this.mcgStatus = low & 7; return true;
      case MSR_MC0_STATUS: this.mciStatusLow = low; this.mciStatusHigh = high; return true;
      case MSR_MC0_ADDR: this.mciAddr = low; return true;
      case MSR_MC0_CTL: case MSR_MC0_MISC: return true;
    }
    return false;
  }

  private static readonly FIELDS = ['mcgStatus', 'mciStatusLow', 'mciStatusHigh', 'mciAddr', 'delivered'] as const;

  save(): DeviceState {
    return pickState(this, MachineCheckBank.FIELDS);
  }

  restore(state: DeviceState): void {
    assignState(this, state, MachineCheckBank.FIELDS);
  }
}
