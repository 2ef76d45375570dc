/**
 * Runs a guest on memvisor in this process, through the one composition point
 * (createMonitor), with the same shape as the QEMU runner (test/support/qemu.ts), so one
 * scenario can be checked on both.
 */
import { writeFileSync } from 'node:fs';
import type { BootConfig } from '../../src/machine/boot.js';
import type { PC } from '../../src/machine/pc.js';
import type { SessionOptions, SessionResult } from '../../src/machine/session.js';
import { REPRODUCIBLE_EPOCH } from '../../src/virtual-time.js';
import { createMonitor, type Monitor, type MonitorOptions } from '../../src/vmm/index.js';

/** A fixed RTC date: test runs are reproducible (the date `run --seed` uses). */
export const TEST_RTC = REPRODUCIBLE_EPOCH;

export interface MemvisorRun extends Partial<Omit<BootConfig, 'spareMiB'>> {
  until: RegExp;
  timeoutMs: number;
  send?: string[];
  prompt?: RegExp;
  session?: Partial<SessionOptions> & { snapshotFile?: string };
  /** The monitor's set-up (default: mirror off, no faults); or `restore` a snapshot instead of booting. */
  monitor?: Omit<MonitorOptions, 'machine'>;
  restore?: string;
  /** Called with the monitor before the guest runs. */
  setup?: (monitor: Monitor) => void;
}

export interface MemvisorResult extends SessionResult {
  matched: boolean;
  /** The whole console transcript, including what a restored snapshot carried. */
  transcript: string;
  pc: PC;
  monitor: Monitor;
}

export async function runMemvisor(run: MemvisorRun): Promise<MemvisorResult> {
  const { until, timeoutMs, send, prompt, session: sessionOptions, monitor: settings, restore, setup, ...boot } = run;
  const monitor = createMonitor({
    machine: restore ? { restore } : { boot: { memoryMiB: 128, rtcStart: TEST_RTC, ...boot } },
    ...(restore ? {} : { mirror: 'off' as const }),
    ...settings,
  });
  setup?.(monitor);
  const session = monitor.session({ until, timeoutMs, send, prompt, ...sessionOptions });
  const result = await session.run();
  for (const d of monitor.pc.ide.drives) d?.close();
  return { ...result, matched: result.outcome === 'matched', transcript: session.transcript, pc: monitor.pc, monitor };
}

/** The test kernels' data disk: `bytes` long, sector n filled with the byte n * 7 + 1. */
export function writePatternDisk(path: string, bytes: number): string {
  const a = new Uint8Array(bytes);
  for (let s = 0; s < a.length / 512; s++) a.fill((s * 7 + 1) & 0xff, s * 512, (s + 1) * 512);
  writeFileSync(path, a);
  return path;
}
