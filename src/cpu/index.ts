/** The i386 processor: the public surface of src/cpu. */
export { CPU, FAULT, CpuFault, type CpuSnapshot, type ExceptionHook, type SoftwareInterruptHook } from './cpu.js';
export { PhysicalMemory, PAGE_HOOK, PAGE_MMIO } from './memory.js';
export * from './state.js';
export * as flags from './flags.js';
export type { AccessSize, InterruptSource, IoSpace, MmioDevice, MsrHandler } from './bus.js';
