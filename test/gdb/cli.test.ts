/**
 * Mistakes around the debugger: bad --gdb/-s/-S combinations and a port already in use are
 * one line and exit 2; a second debugger is turned away while one is attached; a bad
 * `monitor` command answers with one line in gdb and the run goes on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { cli, debugMemV6, ECHO_RUN, KERNEL_ENTRY, requireGdb } from './support.js';

function memvisorRun(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [cli, 'run', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  return { status: r.status, stderr: r.stderr };
}

test('run --gdb: bad input and a port in use are one clear line and exit 2', async () => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, 'localhost', resolve));
  const port = (busy.address() as { port: number }).port;
  try {
    const cases: Array<[string[], RegExp]> = [
      [['--gdb', `localhost:${port}`], new RegExp(`^memvisor: --gdb localhost:${port}: cannot listen \\(EADDRINUSE\\)$`)],
      [['--gdb', 'somewhere'], /^memvisor: --gdb somewhere: expected \[HOST:\]PORT, e\.g\. localhost:1234$/],
      [['--gdb', '70000'], /^memvisor: --gdb 70000: expected \[HOST:\]PORT/],
      [['-S'], /^memvisor: -S waits for a debugger: give --gdb \[HOST:\]PORT or -s as well$/],
      [['-s', '--gdb', '1234'], /^memvisor: give --gdb \[HOST:\]PORT or -s, not both$/],
    ];
    for (const [args, pattern] of cases) {
      const r = memvisorRun(args);
      const context = `memvisor run ${args.join(' ')}:\n${r.stderr}`;
      assert.equal(r.status, 2, context);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, context);
      assert.match(lines[0]!, pattern, context);
    }
  } finally {
    busy.close();
  }
});

test('gdb: a second debugger is turned away; bad monitor commands answer with one line and the run goes on', async () => {
  requireGdb();
  const { gdb: out, run: r, context } = await debugMemV6(ECHO_RUN, (port) => [
    `shell gdb -nx -batch -ex 'target remote localhost:${port}' -ex 'print $pc'`,
    'monitor mirror nowhere',
    'monitor mirror 0x7ffff000',
    'monitor p2m 0xffffff',
    'monitor inject poison:sideways=1',
    'monitor frobnicate',
    'monitor help',
    'print $pc',
    'continue',
  ], 'mistakes');
  assert.match(out, /Remote communication error\.  Target disconnected\.[^\n]*\nNo registers\./, context);  // the second gdb, turned away
  assert.match(r.stderr, /gdb: a second debugger tried to connect; only one at a time/, context);
  assert.match(out, /monitor mirror ADDR: expected a number \(decimal or 0x hex\), got 'nowhere'/, context);
  assert.match(out, /0x7ffff000 is not mapped/, context);
  assert.match(out, /guest frame 0xffffff is beyond guest memory \(32768 frames\)/, context);
  assert.match(out, /--inject 'poison:sideways=1': /, context);
  assert.match(out, /unknown monitor command 'frobnicate'/, context);
  assert.match(out, /monitor stats +instructions, virtual time/, context);
  assert.match(out, new RegExp(`\\$1 = \\(void \\(\\*\\)\\(\\)\\) ${KERNEL_ENTRY}\\b`), context);
  assert.match(out, /\[Inferior 1 \(process 1\) exited normally\]/, context);
  assert.equal(r.code, 0, context);
  assert.match(r.stdout, /\nhi\n\$ $/, context);
});
