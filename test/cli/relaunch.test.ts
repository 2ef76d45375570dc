/**
 * Commands that run a machine on the main thread start again with fewer V8 helper threads
 * on a machine with fewer than five cores (src/cli/relaunch.ts). Which command lines do, and
 * that a relaunched command still ends as the user ended it: a signal sent to the command
 * ends the machine too, and so does killing the command outright (SIGKILL cannot be passed
 * on: the child sees its parent gone).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { relaunchPool } from '../../src/cli/relaunch.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const main = join(root, 'dist', 'src', 'cli', 'main.js');

test('relaunchPool: machine commands on fewer than five cores get the cores less one; the rest go on', () => {
  const argv = (...args: string[]) => ['node', main, ...args];
  assert.equal(relaunchPool(argv('run'), [], undefined, 2), 1);
  assert.equal(relaunchPool(argv('bench', 'usertests'), [], undefined, 4), 3);
  assert.equal(relaunchPool(argv('exec', 'prog'), [], '', 1), 1);
  assert.equal(relaunchPool(argv('run'), [], undefined, 5), null, 'Node\'s four already leave a core');
  for (const other of [['campaign', 'run', 'x'], ['web'], ['translate', 'x'], ['--help'], []]) {
    assert.equal(relaunchPool(argv(...other), [], undefined, 2), null, other.join(' '));
  }
  assert.equal(relaunchPool(argv('run'), ['--v8-pool-size=4'], undefined, 2), null, 'given on the command line');
  assert.equal(relaunchPool(argv('run'), [], '--max-old-space-size=4096 --v8-pool-size=2', 2), null, 'given in NODE_OPTIONS');
  assert.equal(relaunchPool(argv('run'), ['-e', 'code'], undefined, 2), null, 'no script to start again');
});

/** Processes whose command line holds `marker`. */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes(marker)) found.push(Number(entry));
    } catch {
      // ended meanwhile
    }
  }
  return found;
}

async function waitFor(condition: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (condition()) return true;
  return condition();
}

for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
  test(`memvisor run ended by ${signal}: the command ends by it and no machine is left running`, async () => {
    const marker = `relaunch-test-${signal}-${process.pid}`;
    const child = spawn(process.execPath, [main, 'run', '--mirror', 'off', '--cmdline', marker, '--timeout', '300'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => { output += b.toString('latin1'); });
    const ended = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, s) => resolve(s)));
    try {
      assert.ok(await waitFor(() => output.includes('$ '), 60_000), `no prompt:\n${output}`);
      child.kill(signal);
      assert.equal(await ended, signal);
      assert.ok(await waitFor(() => processesWith(marker).length === 0, 5_000), `still running after ${signal}: ${processesWith(marker).join(', ')}`);
    } finally {
      for (const pid of processesWith(marker)) process.kill(pid, 'SIGKILL');
    }
  });
}

test('a MEMVISOR_PARENT_PID left in the environment does not end a command that was not relaunched', () => {
  // --v8-pool-size given: no relaunch, and the variable names a process that is not the
  // parent. The run must last until its own --timeout (a child that took the variable for
  // its parent's would have ended within half a second, without the message).
  const r = spawnSync(process.execPath, ['--v8-pool-size=1', main, 'run', '--mirror', 'off', '--until', '^never printed', '--timeout', '2'],
    { encoding: 'utf8', env: { ...process.env, MEMVISOR_PARENT_PID: '1' }, timeout: 180_000 });
  assert.equal(r.status, 1, `exit ${r.status} ${r.signal ?? ''}:\n${r.stderr}`);
  assert.match(r.stderr, /timed out after 2\.0 s/);
});
