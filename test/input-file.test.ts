/**
 * Every file a user names is checked before it is read (src/input-file.ts): a device
 * (/dev/zero), a FIFO, a directory, or a file larger than its kind's limit is one line and
 * exit 2, at once, through every command that takes a file. Before, each of these grew to
 * gigabytes of memory (or waited for a FIFO's writer) and never ended.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, scratch } from './support/build.js';

const dir = scratch('input-file');
const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

function memvisor(args: string[]): { status: number | null; stderr: string; signal: string | null } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  return { status: r.status, stderr: r.stderr, signal: r.signal };
}

/** A sparse file of `bytes` (no disk space used). */
function sparse(name: string, bytes: number): string {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
  return path;
}

/** Each command line with FILE where the file goes. */
const COMMANDS: string[][] = [
  ['exec', 'FILE'],
  ['translate', 'FILE', '-o', join(dir, 'out.elf')],
  ['fs', 'ls', 'FILE'],
  ['fs', 'cat', 'FILE', '/README'],
  ['fs', 'fsck', 'FILE'],
  ['mkfs', '-o', join(dir, 'out.img'), 'FILE'],
  ['run', '--kernel', 'FILE'],
  ['run', '--hda', 'FILE'],
  ['run', '--kernel', join(repoRoot, 'build', 'guest', 'kernel'), '--hdb', 'FILE'],
  ['run', '--restore', 'FILE'],
  ['run', '--golden', 'FILE', '--mirror', 'off'],
  ['campaign', 'run', 'FILE'],
  ['bench', 'mips', '--program', 'FILE'],
];

function check(file: string, pattern: RegExp): void {
  for (const command of COMMANDS) {
    const args = command.map((a) => (a === 'FILE' ? file : a));
    const r = memvisor(args);
    const where = `memvisor ${args.join(' ')}`;
    assert.equal(r.signal, null, `${where}: did not end (killed by ${r.signal})`);
    assert.equal(r.status, 2, `${where}: exit ${r.status}\n${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${where}: expected one line:\n${r.stderr}`);
    assert.match(lines[0]!, pattern, where);
  }
}

test('a character device (/dev/zero) is refused by every command that reads a file', () => {
  check('/dev/zero', /\/dev\/zero: is a character device, not a regular file$/);
});

test('a FIFO is refused without waiting for a writer', () => {
  const fifo = join(dir, 'fifo');
  const made = spawnSync('mkfifo', [fifo]);
  assert.equal(made.status, 0, `mkfifo: ${made.stderr}`);
  check(fifo, /fifo: is a FIFO, not a regular file$/);
});

test('a directory is refused', () => {
  const sub = join(dir, 'a-directory');
  mkdirSync(sub);
  check(sub, /a-directory: is a directory, not a regular file$/);
});

test('a file larger than its kind allows is refused before it is read', () => {
  // 4 GiB, sparse: over every limit (the largest, a snapshot's, is 4095 MiB).
  check(sparse('huge', 4096 * 1024 * 1024), /huge: 4096 MiB is more than the [a-z -]+ limit \(\d+ MiB\)$/);
});
