/**
 * `memvisor exec --mirror`: a program translated for MemV6 runs under the Linux runner with
 * its mirror mapped; at exit native and mirror memory must be identical. A translation
 * with one rewriting template switched off must be caught by the same comparison.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseElf } from '../../src/elf/index.js';
import { runCaptured } from '../../src/exec/index.js';
import { translateElf } from '../../src/sbt/index.js';
import { repoRoot, scratch } from '../support/build.js';

const corpus = join(repoRoot, 'build', 'guest', 'corpus');
const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

function run(bytes: Uint8Array, path: string, mirror: boolean) {
  const result = runCaptured(parseElf(bytes, path), { mirror });
  return { ...result, output: result.stdout.toString() };
}

test('exec --mirror: translated corpus programs leave native and mirror memory identical', (t) => {
  let pairs = 0;
  for (const name of ['sorting', 'hashing', 'strings', 'arith', 'recursion']) {
    for (const level of ['O0', 'O2']) {
      const path = join(corpus, `${name}-${level}`);
      const original = new Uint8Array(readFileSync(path));
      const plain = run(original, path, false);
      const mirrored = run(translateElf(original, { path }).output, `${path} (translated)`, true);
      assert.equal(mirrored.output, plain.output, `${name}-${level}: output differs`);
      assert.equal(mirrored.exitCode, plain.exitCode);
      assert.ok(mirrored.mirror && mirrored.mirror.compared > 0);
      assert.equal(mirrored.mirror.bytes, 0, `${name}-${level}: ${JSON.stringify(mirrored.mirror.first)}`);
      pairs += mirrored.mirror.compared;
    }
  }
  t.diagnostic(`10 programs, ${pairs} page pairs compared at exit, all identical`);
});

test('exec --mirror: a translation that forgets plain stores is caught', () => {
  const path = join(corpus, 'sorting-O2');
  const broken = translateElf(new Uint8Array(readFileSync(path)), { path, disabledTemplates: new Set(['store'] as const) }).output;
  const result = run(broken, path, true);
  assert.ok(result.mirror && result.mirror.bytes > 0, 'no difference found');
});

test('exec --mirror from the command line: a report line, and clear refusals', () => {
  const dir = scratch('exec-mirror');
  const translated = join(dir, 'sorting.m');
  writeFileSync(translated, translateElf(new Uint8Array(readFileSync(join(corpus, 'sorting-O2')))).output);
  let r = spawnSync(process.execPath, [cli, 'exec', '--mirror', translated], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /mirror: native and mirror identical \(\d+ page pairs\)/);
  r = spawnSync(process.execPath, [cli, 'exec', '--mirror', join(corpus, 'sorting-O2')], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--mirror runs programs made by memvisor translate; this one has no translation note/);
});
