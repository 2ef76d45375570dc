/**
 * mkfs's images read the same through an independent C reader built from the kernel's
 * own header (guest/include/fs.h) with the kernel's bmap walk: the structure sizes, the
 * superblock, the inode and directory layout and the doubly-indirect map all agree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BLOCK_SIZE, buildImage } from '../../src/fs/index.js';
import { pseudoRandomBytes, repoRoot, scratchDir } from './support.js';

test('a C reader using guest/include/fs.h reads back every file mkfs wrote', () => {
  const oracle = join(scratchDir, 'oracle');
  const build = spawnSync('gcc', ['-m32', '-O1', '-Wall', '-Werror', `-I${join(repoRoot, 'guest', 'include')}`,
    '-o', oracle, join(repoRoot, 'test', 'fs', 'oracle.c')], { encoding: 'utf8' });
  assert.equal(build.status, 0, `gcc -m32 (needed for the MemV6 guest too) failed:\n${build.stderr}`);

  const files = [
    { path: '_small', name: 'small', content: pseudoRandomBytes(1, 11) },
    { path: 'direct', name: 'direct', content: pseudoRandomBytes(11 * BLOCK_SIZE, 12) },
    { path: 'indirect', name: 'indirect', content: pseudoRandomBytes(200 * BLOCK_SIZE + 3, 13) },
    { path: 'doubly', name: 'doubly', content: pseudoRandomBytes(2 * 1024 * 1024 + 777, 14) },
  ];
  const image = join(scratchDir, 'oracle.img');
  writeFileSync(image, buildImage(files, { size: 8192, ninodes: 100, output: image }));
  for (const file of files) {
    const run = spawnSync(oracle, [image, file.name], { maxBuffer: 64 * 1024 * 1024 });
    assert.equal(run.status, 0, `${file.name}: ${run.stderr}`);
    assert.equal(run.stderr.toString(), `type 2 nlink 1 size ${file.content.length}\n`);
    assert.ok(Buffer.from(file.content).equals(run.stdout), `${file.name}: bytes differ`);
  }
});
