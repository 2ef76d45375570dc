/**
 * `memvisor bench web`: the page in Debian's chromium runs a plan and the same plan runs
 * in Node; the benchmark fails unless both end on the same instruction, so a passing
 * run is also a browser-against-Node exactness check. Bad options are one line, exit 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../support/build.js';

const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const bench = (...args: string[]) => spawnSync(process.execPath, [cli, 'bench', 'web', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });

test('bench web: usertests sub-tests in the page and in Node end on the same instruction; both rows printed', () => {
  const r = bench('--runs', '1', '--mirror', 'guest', '--command', 'usertests printf forkwait');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /--mirror guest: "usertests printf forkwait", \d+ guest instructions from power-on, \d+ of them after the prompt/);
  assert.match(r.stdout, /^browser \(median\) +\d+\.\d\d +\d+\.\d\d +\d+ +\d+\.\d\dx Node$/m);
  assert.match(r.stdout, /^Node \(first run\) +\d+\.\d\d +\d+\.\d\d +\d+ +1\.00x$/m);
  assert.match(r.stderr, /^browser run 1\/1: prompt after \d+\.\d\d s/m);
});

test('bench web: a missing browser, a bad mode or a bad address is one line, exit status 2', () => {
  for (const [args, message] of [
    [['--chromium', '/nonexistent/chromium'], /^memvisor: \/nonexistent\/chromium: no such browser; bench web needs Debian's chromium/],
    [['--mirror', 'mirrored'], /^memvisor: --mirror mirrored: expected one of off, guest/],
    [['--url', 'localhost:8080'], /^memvisor: --url localhost:8080: expected the page's address/],
    [['--runs', '0'], /^memvisor: --runs/],
    [['--command', 'forktest'], /^memvisor: --command forktest: expected a usertests command line/],
    [['--chromium', '/bin/false'], /^memvisor: \/bin\/false: the browser did not start/],
  ] as const) {
    const r = bench(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, message);
  }
});
