/**
 * The contract between the processor and the rest of the machine. The CPU knows only
 * these interfaces; devices (src/machine) and the hypervisor (src/vmm) implement them.
 * Lower layers never import higher ones.
 */

export type AccessSize = 1 | 2 | 4;

/** The port I/O space (0..0xFFFF). Unclaimed ports read as all ones and ignore writes. */
export interface IoSpace {
  read(port: number, size: AccessSize): number;
  write(port: number, size: AccessSize, value: number): void;
  /**
   * Optional bulk OUTS: up to `count` elements of `size` bytes from `bytes` at `offset`,
   * written to `port` one after another exactly as `count` calls of write() would, except
   * that the device may take fewer (it stops where an element would have an effect
   * other than storing it, e.g. the last byte of a sector). Returns how many it took;
   * 0 means "use write()".
   */
  writeString?(port: number, size: AccessSize, bytes: Uint8Array, offset: number, count: number): number;
  /**
   * Optional bulk INS: up to `count` elements of `size` bytes read from `port` into `bytes`
   * at `offset`, exactly as `count` calls of read() would return them, except that the
   * device may give fewer (it stops where an element would have an effect other than
   * reading it, e.g. the last of a sector). Returns how many it gave; 0 means "use read()".
   */
  readString?(port: number, size: AccessSize, bytes: Uint8Array, offset: number, count: number): number;
}

/** A memory-mapped device region; offsets are relative to the region's base. */
export interface MmioDevice {
  mmioRead(offset: number, size: AccessSize): number;
  mmioWrite(offset: number, size: AccessSize, value: number): void;
}

/**
 * Where the CPU gets external maskable interrupts from (the PIC/APIC complex). Its answer
 * may change only through acknowledge() or when it calls the CPU's notifyInterrupt().
 */
export interface InterruptSource {
  /** An interrupt is pending and would be delivered if IF=1. */
  hasInterrupt(): boolean;
  /** INTA cycle: the vector to deliver; the interrupt becomes in-service. */
  acknowledge(): number;
}

/** Model-specific registers the CPU does not implement itself (e.g. MCA banks). */
export interface MsrHandler {
  /** Returns [low, high] 32-bit halves, or null if this MSR is unknown (the CPU raises #GP). */
  readMsr(index: number): [number, number] | null;
  /** Returns false if this MSR is unknown (the CPU raises #GP). */
  writeMsr(index: number, low: number, high: number): boolean;
}
