/**
 * The parts of the web page that run without a browser: the run plan in the page's
 * address and the command line that replays it, the browser's deflate and SHA-256 against
 * Node's (a snapshot must read the same on both sides), and `memvisor web` as a server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { createHash as browserHash } from '../../src/web/host/crypto.js';
import { deflateRawSync as browserDeflate, inflateRawSync as browserInflate } from '../../src/web/host/zlib.js';
import { commandLine, planFromHash, planToHash, type RunPlan } from '../../src/web/run-plan.js';
import { repoRoot } from '../support/build.js';

const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

test('run plan: the page address round-trips mode, seed, faults, commands and the end', () => {
  const plan: RunPlan = { mirror: 'hardware', seed: 42, faults: ['poison:target=user-native,count=3,at=5000000', 'flip:addr=0x100000,bits=2'], send: ['usertests pipebig', 'echo a&b=c'], until: 'ALL TESTS PASSED' };
  assert.deepEqual(planFromHash(planToHash(plan)), plan);
  assert.deepEqual(planFromHash(''), { mirror: 'guest', seed: 1, faults: [], send: [], until: undefined });
});

test('run plan: a bad address is one line naming the value', () => {
  assert.throws(() => planFromHash('#mode=mirrored'), /^MemvisorError: mode=mirrored: this memvisor runs off, guest, system, hardware$/);
  assert.equal(planFromHash('#mode=system').mirror, 'system');
  assert.throws(() => planFromHash('#seed=-1'), /seed=-1: expected a whole number/);
  assert.throws(() => planFromHash('#fault=poison:count=0'), /--inject 'poison:count=0': count=0 is out of range/);
  assert.throws(() => planFromHash('#until=('), /until=\(: not a valid regular expression/);
});

test('run plan: the command line gives the shell exactly the arguments memvisor run needs', () => {
  const plan: RunPlan = { mirror: 'guest', seed: 3, faults: ['poison:target=both,count=2,match=it\'s'], send: ['echo \'quoted\' and \\back'], until: '^\\$ $' };
  const line = commandLine(plan);
  const argv = spawnSync('bash', ['-c', `set -- ${line}; printf '%s\\0' "$@"`], { encoding: 'utf8' }).stdout.split('\0').slice(0, -1);
  assert.deepEqual(argv, ['npx', 'memvisor', 'run', '--mirror', 'guest', '--seed', '3', '--inject', 'poison:target=both,count=2,match=it\'s',
    '--send', 'echo \'quoted\' and \\\\back\\n', '--until', '^\\$ $']);
});

test('browser host: raw deflate and SHA-256 in the page read and write what Node does', () => {
  for (const size of [0, 1, 4096, 300_000]) {
    const data = randomBytes(size);
    const sparse = new Uint8Array(size * 8);
    sparse.set(data.subarray(0, size >> 1), size);
    for (const bytes of [new Uint8Array(data), sparse]) {
      assert.deepEqual(new Uint8Array(inflateRawSync(browserDeflate(bytes))), bytes);
      assert.deepEqual(browserInflate(deflateRawSync(bytes)), bytes);
      assert.deepEqual(browserHash('sha256').update(bytes).digest(), new Uint8Array(createHash('sha256').update(bytes).digest()));
    }
  }
});

test('memvisor web: a port in use is one line and exit 2; the server serves the page and nothing outside it', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  const taken = spawnSync(process.execPath, [cli, 'web', '--port', String(port)], { encoding: 'utf8', timeout: 20_000 });
  blocker.close();
  assert.equal(taken.status, 2);
  assert.equal(taken.stderr, `memvisor: --port ${port}: the port is in use (another memvisor web?); give another with --port N, or --port 0 for any free one\n`);
  assert.equal(spawnSync(process.execPath, [cli, 'web', '--port', '70000'], { encoding: 'utf8' }).status, 2);

  const server = spawn(process.execPath, [cli, 'web', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await new Promise<string>((resolve) => {
      let out = '';
      server.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /at (http:\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
    });
    const index = await fetch(url);
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type')!, /^text\/html/);
    const html = await index.text();
    assert.match(html, /<script type="module" src="page.js">/);
    // Any static host will do: the page names everything relative to itself.
    assert.deepEqual([...html.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1]).filter((u) => /^(\/|[a-z]+:)/.test(u!)), []);
    const disk = await fetch(new URL('guest/fs-mirrored.img', url), { method: 'HEAD' });
    assert.equal(disk.status, 200);
    assert.equal(disk.headers.get('content-length'), String(16 << 20));
    for (const path of ['nothing-here', '..%2fpackage.json', '%2e%2e/%2e%2e/package.json', '%zz']) assert.equal((await fetch(new URL(path, url))).status, 404, path);
  } finally {
    server.kill();
  }
});
