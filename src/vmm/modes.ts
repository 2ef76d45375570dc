/**
 * The mirror modes and the memory each gives a guest: plain values, apart from the monitor
 * (monitor.ts re-exports them), so the command line's help text can name them without
 * loading the machine.
 */
export type MirrorMode = 'off' | 'guest' | 'system' | 'hardware';
export const MIRROR_MODES: readonly MirrorMode[] = ['off', 'guest', 'system', 'hardware'];
export const DEFAULT_MEMORY_MIB = 128;

/**
 * The machine's memory for a mode when the guest is to have `guestMiB` to allocate from:
 * system mode doubles it (the upper half is the mirror reserve), so every mode's guest
 * sees the same memory.
 */
export function machineMemoryMiB(mirror: MirrorMode, guestMiB = DEFAULT_MEMORY_MIB): number {
  return mirror === 'system' ? 2 * guestMiB : guestMiB;
}
