/**
 * `memvisor bench boot`: power-on to MemV6's shell prompt. Prints the guest instructions
 * and virtual time when the prompt is printed (deterministic), memvisor's wall time, and
 * qemu-system-i386's wall time for the same kernel, command line and disk in the same run
 * (QEMU's includes its process start-up and firmware).
 */
import { MemvisorError } from '../errors.js';
import { createMonitor } from '../vmm/index.js';
import { qemuSystemAvailable, runQemuSystem } from '../oracle/qemu.js';
import { median } from './mips.js';

export interface BootBenchOptions {
  kernel: string;
  hdb: string;
  /** The kernel's command line (e.g. MemV6's idle=spin). */
  cmdline?: string;
  runs: number;
  memoryMiB?: number;
  log?: (line: string) => void;
}

export interface BootBenchReport {
  cmdline: string;
  /** Guest instructions when the UART sent the prompt's last byte. */
  instructions: number;
  /** Halted cycles skipped by then (0 for a kernel that never halts). */
  haltedCycles: number;
  virtualSeconds: number;
  memvisorSeconds: number[];
  qemuSeconds: number[] | null;
  qemuMissing?: string;
}

const PROMPT = /\$ $/;
const TIMEOUT_MS = 120_000;

export async function benchBoot(options: BootBenchOptions): Promise<BootBenchReport> {
  const log = options.log ?? (() => {});
  const memoryMiB = options.memoryMiB ?? 128;
  const cmdline = options.cmdline ?? '';
  const report: BootBenchReport = { cmdline, instructions: 0, haltedCycles: 0, virtualSeconds: 0, memvisorSeconds: [], qemuSeconds: null };
  for (let run = 0; run < options.runs; run++) {
    const started = performance.now();
    const monitor = createMonitor({ machine: { boot: { kernel: options.kernel, hdb: options.hdb, cmdline, memoryMiB, rtcStart: 0 } }, mirror: 'off' });
    const pc = monitor.pc;
    const session = monitor.session({ until: PROMPT, timeoutMs: TIMEOUT_MS });
    // The session looks at the console once per slice; the counters are taken at the byte.
    const console = pc.onConsole;
    let tail = '', seen = false;
    pc.onConsole = (byte) => {
      console(byte);
      tail = (tail + String.fromCharCode(byte)).slice(-2);
      if (tail === '$ ' && !seen) {
        seen = true;
        report.instructions = pc.cpu.instructionCount;
        report.haltedCycles = pc.idleCycles;
        report.virtualSeconds = pc.now() / 1e8;
      }
    };
    const result = await session.run();
    const seconds = (performance.now() - started) / 1000;
    if (result.outcome !== 'matched') throw new MemvisorError(`${options.kernel}: MemV6 did not reach its shell prompt on memvisor (${result.outcome})`);
    report.memvisorSeconds.push(seconds);
    log(`memvisor run ${run + 1}/${options.runs}: ${seconds.toFixed(3)} s`);
  }
  if (!qemuSystemAvailable()) {
    report.qemuMissing = 'qemu-system-i386 is not installed (apt-get install qemu-system-x86)';
    return report;
  }
  report.qemuSeconds = [];
  for (let run = 0; run < options.runs; run++) {
    const q = await runQemuSystem({ kernel: options.kernel, hdb: options.hdb, cmdline, memMiB: memoryMiB, until: PROMPT, timeoutMs: TIMEOUT_MS });
    if (!q.matched) throw new MemvisorError(`${options.kernel}: MemV6 did not reach its shell prompt on qemu-system-i386`);
    report.qemuSeconds.push(q.seconds);
    log(`qemu-system-i386 run ${run + 1}/${options.runs}: ${q.seconds.toFixed(3)} s`);
  }
  return report;
}

export function formatBootReport(r: BootBenchReport): string {
  const m = median(r.memvisorSeconds);
  const lines = [
    `MemV6${r.cmdline ? ` (${r.cmdline})` : ''} power-on to shell prompt: ${r.instructions} guest instructions, ` +
      `${r.virtualSeconds.toFixed(3)} s of virtual time (${(r.haltedCycles / 1e8).toFixed(3)} s of it halted)`,
    'engine             median wall s   wall-time ratio',
    `memvisor           ${m.toFixed(3).padStart(12)}   ${r.qemuSeconds ? `${(m / median(r.qemuSeconds)).toFixed(2)}x qemu-system-i386` : ''}`,
  ];
  if (r.qemuSeconds) lines.push(`qemu-system-i386   ${median(r.qemuSeconds).toFixed(3).padStart(12)}   1.00x (includes process start-up and firmware)`);
  else lines.push(`qemu-system-i386   not run: ${r.qemuMissing}`);
  return lines.join('\n');
}
