/**
 * MemV6's user space on qemu-system-i386: usertests, the shell on the serial console,
 * and an xv6-built program. The checks themselves live in scenarios.ts, so the same
 * ones can run on memvisor's emulator.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { runQemuSystem, qemuSystemAvailable } from '../support/qemu.js';
import {
  checkShell, checkUsertests, checkUtilities, checkXv6Compat, guestDisk, guestKernel, SHELL_PROMPT,
  type GuestConsole,
} from './scenarios.js';

function requireQemuAndGuest(): void {
  assert.ok(qemuSystemAvailable(),
    'qemu-system-i386 is not installed; it is the oracle for MemV6: apt-get install qemu-system-x86');
  for (const file of [guestKernel, guestDisk]) {
    assert.ok(existsSync(file), `${file} is missing: run \`npm install\` (or \`make -C guest\`)`);
  }
}

const onQemu: GuestConsole = (session) => runQemuSystem({
  kernel: guestKernel,
  hdb: guestDisk,
  prompt: SHELL_PROMPT,
  ...session,
});

test('qemu: usertests prints an ok line for every sub-test and ALL TESTS PASSED', async (t) => {
  requireQemuAndGuest();
  const output = await checkUsertests(onQemu);
  t.diagnostic(`${(output.match(/^[a-z0-9]+ ok\r?$/gm) ?? []).length} sub-tests passed`);
});

test('qemu: the shell runs a pipeline, redirections and a background job', async () => {
  requireQemuAndGuest();
  await checkShell(onQemu);
});

test('qemu: the utilities and stress programs work from the shell', async () => {
  requireQemuAndGuest();
  await checkUtilities(onQemu);
});

test('qemu: a program built with xv6 conventions runs (xv6compat)', async () => {
  requireQemuAndGuest();
  await checkXv6Compat(onQemu);
});
