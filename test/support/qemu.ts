/**
 * QEMU in tests: the runner lives in src/oracle/qemu.ts (the benchmarks use it too);
 * here, the rule that an oracle test fails, never skips, when QEMU is missing.
 */
import { qemuSystemAvailable, qemuUserAvailable } from '../../src/oracle/qemu.js';

export { runQemuSystem, qemuSystemAvailable, qemuUserAvailable, type QemuRun, type QemuResult } from '../../src/oracle/qemu.js';

/** The oracles are required, not optional: a missing QEMU fails the test with the install command. */
export function requireQemuUser(): void {
  if (!qemuUserAvailable()) throw new Error('qemu-i386 is not installed; it is the oracle for the CPU: apt-get install qemu-user');
}

export function requireQemuSystem(): void {
  if (!qemuSystemAvailable()) throw new Error('qemu-system-i386 is not installed; it is the oracle for protected mode and MemV6: apt-get install qemu-system-x86');
}

