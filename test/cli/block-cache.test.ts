/**
 * The block cache on disk (src/block-cache.ts), as `memvisor run` meets it: a second
 * process takes the blocks the first wrote and ends in exactly the state a process without
 * the cache ends in (its snapshot, byte for byte); blocks are taken only for the guest
 * bytes they were written for; a damaged file is one line and is written again; `off`
 * writes nothing; other builds' files go once a week unused; a process waits for another
 * writing the file (its lock), but not for one that died.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { repoRoot, scratch } from '../support/build.js';

const dir = scratch('block-cache');
const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  blocksCompiled: number;
  blocksFromDisk: number;
  instructions: number;
  /** sha256 of the snapshot taken when usertests passed. */
  state: string;
}

let runs = 0;
/** A short usertests run with MEMVISOR_BLOCK_CACHE=`cache` (and `env`), deterministic (--seed). */
function run(cache: string | undefined, env: Record<string, string> = {}): Run {
  const n = ++runs;
  const stats = join(dir, `stats-${n}.json`), snapshot = join(dir, `snapshot-${n}.bin`);
  const vars: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (cache === undefined) delete vars.MEMVISOR_BLOCK_CACHE;
  else vars.MEMVISOR_BLOCK_CACHE = cache;
  const r = spawnSync(process.execPath, [
    cli, 'run', '--mirror', 'off', '--seed', '1', '--send', 'usertests sbrkfork pipebig smallfile\\n', '--until', 'ALL TESTS PASSED',
    '--snapshot-at', 'ALL TESTS PASSED', '--snapshot', snapshot, '--stats', stats,
  ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000, env: vars });
  assert.equal(r.status, 0, `memvisor run failed:\n${r.stderr}`);
  const s = JSON.parse(readFileSync(stats, 'utf8')) as { instructions: number; cpu: { blocksCompiled: number; blocksFromDisk: number } };
  return {
    status: r.status, stdout: r.stdout, stderr: r.stderr, instructions: s.instructions, ...s.cpu,
    state: createHash('sha256').update(readFileSync(snapshot)).digest('hex'),
  };
}

const cacheFiles = (cache: string) => (existsSync(cache) ? readdirSync(cache).filter((f) => /^blocks-[0-9a-f]+\.bin$/.test(f)) : []);

/** The one file of this build in `cache`. */
function cacheFile(cache: string): string {
  const files = cacheFiles(cache);
  assert.equal(files.length, 1, `expected one block cache file in ${cache}, found ${files.join(', ')}`);
  return join(cache, files[0]!);
}

const without = run('off');

test('a second process takes the blocks the first wrote and ends in the same state as without them', () => {
  assert.ok(without.blocksCompiled >= 20, `only ${without.blocksCompiled} blocks: the run is too short to tell`);
  assert.equal(without.blocksFromDisk, 0);
  const cache = join(dir, 'cache');
  const first = run(cache);
  assert.equal(first.blocksFromDisk, 0, 'no file yet');
  assert.equal(first.stderr, '');
  cacheFile(cache);
  const second = run(cache);
  assert.equal(second.stderr, '');
  assert.equal(second.blocksFromDisk, second.blocksCompiled, 'every block the second process needed was on disk');
  for (const r of [first, second]) {
    assert.equal(r.instructions, without.instructions);
    assert.equal(r.state, without.state, 'the snapshot at the end differs from a run without the cache');
    assert.equal(r.stdout, without.stdout);
  }
});

test('blocks on disk are taken only where the guest bytes are the ones they were written for', () => {
  const cache = join(dir, 'changed');
  run(cache);
  const file = cacheFile(cache);
  // The same file, every block's guest bytes changed (as if written for another program).
  const contents = deserialize(readFileSync(file)) as { blocks: Array<{ code: Uint8Array }> };
  assert.ok(contents.blocks.length > 0);
  for (const b of contents.blocks) b.code = b.code.map((x) => x ^ 0x55);
  writeFileSync(file, serialize(contents));
  const r = run(cache);
  assert.equal(r.stderr, '');
  assert.equal(r.blocksFromDisk, 0);
  assert.equal(r.state, without.state);
});

test('a damaged file is one line on stderr; the run goes on and the file is written again', () => {
  const cache = join(dir, 'damaged');
  run(cache);
  const file = cacheFile(cache);
  const data = readFileSync(file);
  writeFileSync(file, data.subarray(0, data.length >> 1));
  const r = run(cache);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^memvisor: ignoring the block cache .*blocks-[0-9a-f]+\.bin: not a block cache file \(truncated or damaged\); it is written again when this run ends$/);
  assert.equal(r.blocksFromDisk, 0);
  assert.equal(r.state, without.state);
  const again = run(cache);
  assert.equal(again.stderr, '');
  assert.equal(again.blocksFromDisk, again.blocksCompiled);
});

test('the default place is $XDG_CACHE_HOME/memvisor; off writes nothing; the help of the commands that use it says so', () => {
  for (const command of [['run'], ['exec'], ['bench', 'usertests']]) {
    const help = spawnSync(process.execPath, [cli, ...command, '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^  MEMVISOR_BLOCK_CACHE=off +do not read or write the block cache on disk$/m, `memvisor ${command.join(' ')} --help`);
  }
  const xdg = join(dir, 'xdg');
  run(undefined, { XDG_CACHE_HOME: xdg });
  cacheFile(join(xdg, 'memvisor'));
  const other = join(dir, 'xdg-off');
  run('off', { XDG_CACHE_HOME: other });
  assert.equal(existsSync(other), false);
  // A place that cannot be a directory (under a file; in /proc, where Node's own mkdir -p
  // went round for ever): one line, and the run as without the cache.
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  for (const [place, line] of [[join(file, 'cache'), /^memvisor: cannot read the block cache .*a-file\/cache\/blocks-[0-9a-f]+\.bin \(ENOTDIR: .*\); going on without it$/],
    ['/proc/memvisor-cache', /^memvisor: cannot write the block cache \/proc\/memvisor-cache\/blocks-[0-9a-f]+\.bin \(ENOENT: .*\); set MEMVISOR_BLOCK_CACHE=off to stop trying$/]] as const) {
    const r = run(place);
    assert.match(r.stderr.trim(), line);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(r.state, without.state);
  }
});

test("other builds' files are removed once unused for a week, not before", () => {
  const cache = join(dir, 'stale');
  run(cache);
  // A file is written (so others looked at) when the process wrote blocks of its own: start again without ours.
  unlinkSync(cacheFile(cache));
  const old = join(cache, 'blocks-00000000000000000000.bin'), recent = join(cache, 'blocks-11111111111111111111.bin');
  const unrelated = join(cache, 'notes.txt');
  for (const f of [old, recent, unrelated]) writeFileSync(f, 'x');
  const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3600 * 1000);
  utimesSync(old, eightDaysAgo, eightDaysAgo);
  utimesSync(unrelated, eightDaysAgo, eightDaysAgo);
  run(cache);
  assert.equal(existsSync(old), false, 'a file of another build unused for 8 days is still there');
  assert.equal(existsSync(recent), true);
  assert.equal(existsSync(unrelated), true);
});

test('a process waits for the lock of another writing the file, then gives up in one line; a lock left by a dead process is taken', () => {
  const cache = join(dir, 'locked');
  run(cache);
  const file = cacheFile(cache);
  unlinkSync(file);
  const lock = `${file}.lock`;
  writeFileSync(lock, '');
  const held = run(cache);
  assert.match(held.stderr.trim(), /^memvisor: the block cache .*blocks-[0-9a-f]+\.bin stayed locked \(.*\.lock\) for 5 s; this run's blocks are not kept$/);
  assert.equal(existsSync(file), false, 'written while another process held the lock');
  const minuteAgo = new Date(Date.now() - 60_000);
  utimesSync(lock, minuteAgo, minuteAgo);
  const after = run(cache);
  assert.equal(after.stderr, '');
  assert.equal(existsSync(file), true);
  assert.equal(existsSync(lock), false);
});
