/** The i386 processor: the public surface of src/cpu. */
export { CPU, CPU_STATE_VERSION, FAULT, CpuFault, type CpuSnapshot, type ExceptionHook } from './cpu.js';
export { PhysicalMemory, PAGE_HOOK, PAGE_MMIO, MAX_HOST_BYTES, MiB, type HostMemory } from './memory.js';
export { Listeners, type Listener } from './listeners.js';
export { DebugTraps, debugTranslate, type DebugStop, type WatchKind } from './debug.js';
export * from './state.js';
export * as flags from './flags.js';
export type { AccessSize, InterruptSource, IoSpace, MmioDevice, MsrHandler } from './bus.js';
