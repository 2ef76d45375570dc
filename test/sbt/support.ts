/**
 * Test support for the translator: translating programs built with test/support/build.ts
 * and reading the mirror check the Linux stub prints at exit.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { translateElf, type TranslateOptions, type TranslationReport, MIRROR_CHECK_PREFIX } from '../../src/sbt/index.js';
import { buildProgram, FREESTANDING_CFLAGS, qemuUserRunner, repoRoot, scratch, type RunResult, type Runner } from '../support/build.js';

export { buildProgram, FREESTANDING_CFLAGS, qemuUserRunner, repoRoot, type RunResult, type Runner };

/** The runner the sbt tests use. */
export const defaultRunner: Runner = qemuUserRunner;

export const scratchDir = scratch('sbt');

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
