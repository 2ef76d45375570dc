/**
 * `memvisor bench sbt`: every MemV6 program translates (its time is the benchmark's to
 * print, not checked here), and every C corpus build runs translated on memvisor exec with
 * the same output and a mirror equal to native memory at exit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/build.js';

test('bench sbt: translation times, growth and executed-instruction overhead, zero mirror mismatches', (t) => {
  const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'bench', 'sbt'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  // The translation time is the benchmark's to report, not a pass/fail condition here.
  assert.match(r.stdout, /translation of \d+ MemV6 programs: slowest \w+ [0-9.]+ s/);
  const translated = r.stdout.split('\n').filter((l) => /^ {2}\w+ +\d+ instructions +[0-9.]+ s +code \d+\.\d\dx$/.test(l));
  assert.equal(translated.length, readdirSync(join(repoRoot, 'build', 'guest', 'user')).length, `a row for every MemV6 program:\n${r.stdout}`);
  const rows = r.stdout.split('\n').filter((l) => /^ {2}\w+-O[0-3s] /.test(l));
  assert.equal(rows.length, 25, r.stdout);
  for (const row of rows) assert.match(row, /mismatches=0x00000000/, row);
  t.diagnostic(r.stdout.split('\n').filter((l) => /slowest|average/.test(l)).join('; '));
});
