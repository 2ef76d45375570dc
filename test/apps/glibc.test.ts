/**
 * The glibc corpus (test/apps/corpus: printf and libm on doubles, qsort, malloc-heavy, file
 * I/O and directory listing in a temporary directory, the environment, stdin), built with
 * gcc -m32 -static and stripped, under `memvisor exec` against qemu-i386: the same stdout
 * and exit status. Unanswered system calls end the run (--strict).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { memvisorRunner, qemuUserRunner, scratch, type ProcessSetup } from '../support/build.js';
import { requireQemuUser } from '../support/qemu.js';
import { CORPUS_RUNS as RUNS, buildCorpus, differences } from './apps.js';

test('glibc static programs under memvisor exec match qemu-i386', (t) => {
  requireQemuUser();
  const dir = scratch('apps-glibc');
  const programs = buildCorpus(dir);
  assert.deepEqual([...programs.keys()].sort(), Object.keys(RUNS).sort(), 'every corpus program has a run');
  const problems: string[] = [];
  for (const [name, elf] of programs) {
    const run = RUNS[name]!;
    const setupFor = (who: string): { args: string[]; setup: ProcessSetup } => {
      const args = [...(run.args ?? [])];
      if (run.files) {
        const work = join(dir, `${name}-${who}`);
        mkdirSync(work);
        args.unshift(work);
      }
      return { args, setup: { stdin: run.stdin, env: run.env ?? ['LANG=C'] } };
    };
    const q = setupFor('qemu'), m = setupFor('memvisor');
    const expected = qemuUserRunner(elf, q.args, q.setup);
    const actual = memvisorRunner(elf, m.args, 2e9, undefined, { ...m.setup, strict: true });
    for (const line of differences(expected, actual, run.status ?? 0)) problems.push(`${name}: ${line}`);
  }
  t.diagnostic(`${programs.size} programs compared with qemu-i386 (built in ${dir})`);
  assert.deepEqual(problems, []);
});
