/**
 * Building small freestanding i386 programs with gcc -m32 for tests, and running them
 * under qemu-i386 (the oracle) or memvisor's own CPU (`memvisor exec`, in-process).
 */
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readElfFile } from '../../src/elf/index.js';
import { runCaptured, type LinuxProcess } from '../../src/exec/index.js';
import type { CPU } from '../../src/cpu/index.js';
import { useWasmTier } from '../../src/cpu/wasm/tier.js';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export { scratch } from './scratch.js';

export const FREESTANDING_CFLAGS = [
  '-m32', '-fno-pic', '-fno-pie', '-static', '-nostdlib', '-fno-builtin', '-fno-stack-protector', '-fcf-protection=none',
  '-fno-asynchronous-unwind-tables', '-no-pie', '-Wl,-q', '-Wl,-N', '-Wl,--build-id=none', '-Wl,--no-warn-rwx-segments',
  '-Wl,-z,noexecstack',
];

/** Compiles and links sources (paths) into `out` with gcc -m32; throws with gcc's message on failure. */
export function buildProgram(sources: string[], out: string, extraFlags: string[] = []): string {
  const run = spawnSync('gcc', [...FREESTANDING_CFLAGS, ...extraFlags, '-o', out, ...sources], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`gcc failed for ${out}:\n${run.stderr}`);
  return out;
}

/**
 * A multiboot test kernel (test/machine/devices, irqwindow): its one C file, which
 * includes test/support/kernel.h, linked at 1 MiB behind the shared entry and stubs.
 */
export function buildTestKernel(source: string, out: string): string {
  return buildProgram([join(repoRoot, 'test', 'support', 'kernel-entry.S'), source], out,
    ['-ffreestanding', '-O1', '-Wall', '-Werror', '-Wl,-Ttext=0x100000']);
}

/**
 * What compiled blocks run as: JavaScript functions, WebAssembly as memvisor runs it
 * (translations wait for a module of several), or WebAssembly with every translation
 * made into a module at once.
 */
export type BlockEngine = 'js' | 'wasm' | 'eager wasm';

/**
 * The CPU tiers a program is checked on, as [name, blockThreshold, engine]: the
 * interpreter alone; every block compiled the first time it is reached, as JavaScript and
 * translated into WebAssembly at once; and the default (WebAssembly, default threshold).
 */
export const CPU_TIERS: ReadonlyArray<readonly [string, number | undefined, BlockEngine]> = [
  ['interpreter', 0, 'wasm'], ['eager JavaScript blocks', 1, 'js'], ['eager WebAssembly blocks', 1, 'eager wasm'], ['default', undefined, 'wasm'],
];

/** Puts `cpu` on a tier, before it runs. */
export function useTier(cpu: CPU, threshold: number | undefined, engine: BlockEngine): void {
  if (threshold !== undefined) cpu.blocks.threshold = threshold;
  if (engine === 'js') cpu.blocks.engine = 'js';
  else if (engine === 'eager wasm') useWasmTier(cpu, true);
}

export interface RunResult {
  stdout: Buffer;
  stderr: string;
  status: number | null;
  signal: string | null;
}

/** Runs a static i386 Linux ELF: a function so either runner can be plugged in. */
export type Runner = (elfPath: string, args?: string[]) => RunResult;

/** What a process starts with besides its arguments; by default an empty stdin, the host's working directory and an empty environment. */
export interface ProcessSetup {
  stdin?: Uint8Array;
  cwd?: string;
  env?: string[];
}

export function qemuUserRunner(elfPath: string, args: string[] = [], setup: ProcessSetup = {}): RunResult {
  const env = Object.fromEntries((setup.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const run = spawnSync('qemu-i386', [elfPath, ...args], { maxBuffer: 256 * 1024 * 1024, input: setup.stdin ?? new Uint8Array(0), cwd: setup.cwd, env });
  if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error('qemu-i386 is not installed: apt-get install qemu-user');
  }
  return { stdout: run.stdout, stderr: run.stderr.toString('latin1'), status: run.status, signal: run.signal };
}

/**
 * memvisor exec, in-process: same contract as qemuUserRunner (a fault becomes status 128+signal).
 * `blockThreshold` picks the CPU tier: 0 = interpreter only, 1 = every block compiled at first sight;
 * `engine` what blocks run as (default WebAssembly). `inspect` sees the process after its run.
 */
export function memvisorRunner(elfPath: string, args: string[] = [], maxInstructions = 2e9, blockThreshold?: number,
  setup: ProcessSetup & { mirror?: boolean; strict?: boolean; engine?: BlockEngine; inspect?: (process: LinuxProcess) => void } = {}): RunResult {
  const input = setup.stdin ?? new Uint8Array(0);
  let at = 0;
  const stdin = (max: number) => input.subarray(at, (at = Math.min(input.length, at + max)));
  const result = runCaptured(readElfFile(elfPath), { args: [elfPath, ...args], maxInstructions, blockThreshold, stdin, cwd: setup.cwd,
    env: setup.env ?? [], mirror: setup.mirror, strict: setup.strict,
    jsBlocks: setup.engine === 'js', eagerWasm: setup.engine === 'eager wasm' });
  setup.inspect?.(result.process);
  let stderr = result.stderr.toString('latin1');
  if (result.message) stderr += `memvisor exec: ${elfPath}: ${result.message}\n`;
  return { stdout: result.stdout, stderr, status: result.exitCode, signal: null };
}
