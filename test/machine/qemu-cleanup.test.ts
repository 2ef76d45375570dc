/**
 * A run on qemu-system-i386 cut short (the process that started it is stopped by SIGTERM,
 * as `timeout` or `kill` do) must not leave QEMU running: with `-serial stdio` it does not
 * exit when its standard input closes. Nor its scratch directory (the copies of its disks).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readdirSync } from 'node:fs';
import { repoRoot, scratch } from '../support/build.js';
import { requireQemuSystem } from '../support/qemu.js';
import { guestKernel } from '../guest/scenarios.js';

/** The pids of the qemu-system-i386 processes whose parent is `parent`. */
function qemuChildren(parent: number): number[] {
  const ps = spawnSync('ps', ['-o', 'pid=,comm=', '--ppid', String(parent)], { encoding: 'utf8' });
  return ps.stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter(([, comm]) => comm?.startsWith('qemu-system')).map(([pid]) => Number(pid));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('qemu: a run stopped by SIGTERM takes its qemu-system-i386 and its scratch directory with it', async () => {
  requireQemuSystem();
  const qemuModule = join(repoRoot, 'dist', 'src', 'oracle', 'qemu.js');
  // A run that would wait ten minutes for text MemV6 never prints.
  const script = `const { runQemuSystem } = await import(${JSON.stringify(qemuModule)});
await runQemuSystem({ kernel: ${JSON.stringify(guestKernel)}, memMiB: 64, until: /never printed/, timeoutMs: 600000 });`;
  const tmp = scratch('qemu-cleanup');
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore', env: { ...process.env, TMPDIR: tmp } });
  let qemu: number[] = [];
  for (let waited = 0; qemu.length === 0; waited += 100) {
    assert.ok(waited < 30_000, 'QEMU never started');
    await sleep(100);
    qemu = qemuChildren(child.pid!);
  }
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [, signal] = await exited;
  assert.equal(signal, 'SIGTERM', 'the process should still end by the signal');
  for (let waited = 0; qemu.some(alive); waited += 100) {
    assert.ok(waited < 10_000, `qemu-system-i386 (pid ${qemu.join(', ')}) still runs after its parent was stopped`);
    await sleep(100);
  }
  assert.deepEqual(readdirSync(tmp), [], 'the stopped run left its scratch directory');
});
