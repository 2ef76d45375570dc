/**
 * Runs a guest on memvisor's PC in this process, with the same shape as the QEMU runner
 * (test/support/qemu.ts), so one scenario can be checked on both.
 */
import { writeFileSync } from 'node:fs';
import { bootMachine, type BootConfig } from '../../src/machine/boot.js';
import type { PC } from '../../src/machine/pc.js';
import { Session, type SessionOptions, type SessionResult } from '../../src/machine/session.js';

/** A fixed RTC date: test runs are reproducible. */
export const TEST_RTC = Date.UTC(2026, 0, 1) / 1000;

export interface MemvisorRun extends Partial<BootConfig> {
  until: RegExp;
  timeoutMs: number;
  send?: string[];
  prompt?: RegExp;
  session?: Partial<SessionOptions>;
  /** Called with the booted machine before it runs (to install monitor hooks). */
  setup?: (pc: PC) => void;
}

export interface MemvisorResult extends SessionResult {
  matched: boolean;
  pc: PC;
}

export async function runMemvisor(run: MemvisorRun): Promise<MemvisorResult> {
  const pc = bootMachine({ memoryMiB: 128, rtcStart: TEST_RTC, ...run });
  run.setup?.(pc);
  const session = new Session(pc, { until: run.until, timeoutMs: run.timeoutMs, send: run.send, prompt: run.prompt, ...run.session });
  const result = await session.run();
  for (const d of pc.ide.drives) d?.close();
  return { ...result, matched: result.outcome === 'matched', pc };
}

/** The test kernels' data disk: `bytes` long, sector n filled with the byte n * 7 + 1. */
export function writePatternDisk(path: string, bytes: number): string {
  const a = new Uint8Array(bytes);
  for (let s = 0; s < a.length / 512; s++) a.fill((s * 7 + 1) & 0xff, s * 512, (s + 1) * 512);
  writeFileSync(path, a);
  return path;
}
