/**
 * `memvisor bench apps` without its busybox: one line naming the file and how to get it,
 * exit status 2 (the full benchmark takes minutes; test/apps checks the same applets
 * against qemu-i386).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../support/build.js';

test('bench apps: a missing busybox is one clear line, exit status 2', () => {
  const run = spawnSync('node', [join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'bench', 'apps', '--busybox', '/nonexistent/busybox'], { encoding: 'utf8' });
  assert.equal(run.status, 2, run.stderr);
  assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  assert.match(run.stderr, /\/nonexistent\/busybox is missing: fetch Debian's busybox-static for i386/);
});
