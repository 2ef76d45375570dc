/** The CPU corpus (test/corpus): C programs built at several -O levels, for tests and benchmarks. */
import { join } from 'node:path';
import { buildProgram, repoRoot } from '../support/build.js';

export const CORPUS_DIR = join(repoRoot, 'test', 'corpus');
export const CORPUS_PROGRAMS = ['sorting', 'hashing', 'strings', 'arith', 'recursion'];
export const OPT_LEVELS = ['-O0', '-O1', '-O2', '-O3', '-Os'];

/** Builds one corpus program (with libgcc for 64-bit division) into `dir`. */
export function buildCorpusProgram(name: string, opt: string, dir: string): string {
  return buildProgram([join(repoRoot, 'guest', 'bench', 'start.S'), join(CORPUS_DIR, `${name}.c`), '-lgcc'], join(dir, `${name}${opt}`), [opt]);
}
