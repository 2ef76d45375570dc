/**
 * The guest's real disk (build/guest/fs.img, made by `make -C guest` with memvisor mkfs)
 * passes fsck. Missing is a failure, not a skip: `npm install` builds it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, runCli } from './support.js';

test('build/guest/fs.img is clean by fsck', () => {
  const image = join(repoRoot, 'build', 'guest', 'fs.img');
  assert.ok(existsSync(image), `${image} is missing: run \`npm install\` (or \`make -C guest\`) to build the guest and its disk`);
  const run = runCli(['fs', 'fsck', image]);
  assert.equal(run.status, 0, run.stdout.toString('utf8') + run.stderr);
  assert.match(run.stdout.toString('utf8'), /: clean \(\d+ inodes in use, \d+ blocks in use\)\n$/);
});
