/**
 * Test support for the translator: building small freestanding i386 programs with gcc,
 * translating them, and running ELF files through a pluggable Linux-ABI runner
 * (qemu-i386 by default; `memvisor exec` can be plugged in later).
 * TODO(lead): merge buildProgram into test/support/build.ts once the exec engineer's helper lands.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { translateElf, type TranslateOptions, type TranslationReport, MIRROR_CHECK_PREFIX } from '../../src/sbt/index.js';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface RunResult {
  stdout: Buffer;
  stderr: string;
  status: number | null;
  signal: string | null;
}

/** Runs a static i386 Linux ELF: a function so another runner (memvisor exec) can be plugged in. */
export type Runner = (elfPath: string, args?: string[]) => RunResult;

export function qemuUserRunner(elfPath: string, args: string[] = []): RunResult {
  const run = spawnSync('qemu-i386', [elfPath, ...args], { maxBuffer: 256 * 1024 * 1024 });
  if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error('qemu-i386 is not installed: apt-get install qemu-user');
  }
  return { stdout: run.stdout, stderr: run.stderr.toString('latin1'), status: run.status, signal: run.signal };
}

/** The runner the sbt tests use: MEMVISOR_SBT_RUNNER=exec would select memvisor exec later. */
export const defaultRunner: Runner = qemuUserRunner;

export const scratchDir = mkdtempSync(join(tmpdir(), 'memvisor-sbt-'));

export const FREESTANDING_CFLAGS = [
  '-m32', '-fno-pic', '-fno-pie', '-static', '-nostdlib', '-fno-builtin', '-fno-stack-protector', '-fcf-protection=none',
  '-fno-asynchronous-unwind-tables', '-no-pie', '-Wl,-q', '-Wl,-N', '-Wl,--build-id=none', '-Wl,--no-warn-rwx-segments',
  '-Wl,-z,noexecstack',
];

/** Compiles and links sources (paths) into `out` with gcc -m32; throws with gcc's message on failure. */
export function buildProgram(sources: string[], out: string, extraFlags: string[] = []): string {
  const run = spawnSync('gcc', [...FREESTANDING_CFLAGS, ...extraFlags, '-o', out, ...sources], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`gcc failed for ${out}:\n${run.stderr}`);
  return out;
}

export interface TranslatedFile {
  path: string;
  report: TranslationReport;
}

export function translateFile(input: string, output: string, options: TranslateOptions = {}): TranslatedFile {
  const { output: bytes, report } = translateElf(readFileSync(input), { path: input, linuxStub: true, checkAtExit: true, verify: true, ...options });
  writeFileSync(output, bytes, { mode: 0o755 });
  return { path: output, report };
}

export interface MirrorCheck {
  mismatches: number;
  first: number;
}

/** Parses the stub's exit line; undefined if the program never reached exit through it. */
export function parseMirrorCheck(stderr: string): MirrorCheck | undefined {
  const match = new RegExp(`${MIRROR_CHECK_PREFIX}mismatches=0x([0-9a-f]{8}) first=0x([0-9a-f]{8})`).exec(stderr);
  return match ? { mismatches: parseInt(match[1]!, 16), first: parseInt(match[2]!, 16) } : undefined;
}

/** A tiny runtime: _start calls main and exits with its value; sys_write(fd, buf, n). */
export const RUNTIME_SOURCE = `
.text
.globl _start
_start:
  call main
  mov %eax, %ebx
  mov $1, %eax
  int $0x80
.globl sys_write
sys_write:
  push %ebx
  mov 8(%esp), %ebx
  mov 12(%esp), %ecx
  mov 16(%esp), %edx
  mov $4, %eax
  int $0x80
  pop %ebx
  ret
`;

export function runtimeObject(): string {
  const path = join(scratchDir, 'runtime.S');
  if (!existsSync(path)) writeFileSync(path, RUNTIME_SOURCE);
  return path;
}

/** Seeded xorshift32: every random test prints its seed and how to reproduce it. */
export function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    return state;
  };
}
