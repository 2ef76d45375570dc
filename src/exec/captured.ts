/**
 * Running a program with its output collected: what the benchmarks and the tests run
 * Linux programs with (the `exec` command writes to the terminal instead).
 */
import type { ElfFile } from '../elf/index.js';
import { LinuxProcess, type ExecOptions, type ExecResult } from './linux.js';

export interface CapturedRun extends ExecResult {
  stdout: Buffer;
  stderr: Buffer;
  /** The runner's warnings (unanswered system calls), one line each. */
  warnings: string[];
  /** The finished process (its CPU's block statistics, its memory). */
  process: LinuxProcess;
}

/**
 * Runs `elf` to exit with stdout, stderr and warnings collected and an empty stdin. By default
 * argv is the file's path alone and the environment is empty.
 */
export function runCaptured(elf: ElfFile, options: Partial<Omit<ExecOptions, 'stdout' | 'stderr'>> = {}): CapturedRun {
  const stdout: Uint8Array[] = [], stderr: Uint8Array[] = [], warnings: string[] = [];
  const process = new LinuxProcess(elf, {
    path: elf.path, args: [elf.path], env: [], stdin: () => new Uint8Array(0), warn: (line) => warnings.push(line), ...options,
    stdout: (bytes) => stdout.push(Uint8Array.from(bytes)), stderr: (bytes) => stderr.push(Uint8Array.from(bytes)),
  });
  const result = process.run();
  return { ...result, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), warnings, process };
}
