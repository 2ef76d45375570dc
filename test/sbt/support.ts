/**
 * Test support for the translator: translating programs built with test/support/build.ts
 * and reading the mirror check the Linux stub prints at exit.
 */
import { readFileSync, writeFileSync } from 'node:fs';
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

/** The runtime the test programs link with: _start calls main(argc, argv) and exits with its value; sys_write. */
export function runtimeObject(): string {
  return join(repoRoot, 'guest', 'bench', 'start.S');
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
