/**
 * MemV6 on memvisor's own PC: the same scenarios as on qemu-system-i386 (qemu.test.ts),
 * so every check that passes on the oracle must pass here too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { runMemvisor } from '../support/machine.js';
import {
  checkShell, checkUsertests, checkUtilities, checkXv6Compat, guestDisk, guestKernel, SHELL_PROMPT,
  type GuestConsole,
} from './scenarios.js';

function requireGuest(): void {
  for (const file of [guestKernel, guestDisk]) {
    assert.ok(existsSync(file), `${file} is missing: run \`npm install\` (or \`make -C guest\`)`);
  }
}

const onMemvisor: GuestConsole = async (session) => {
  const { output, matched } = await runMemvisor({ kernel: guestKernel, hdb: guestDisk, prompt: SHELL_PROMPT, ...session });
  return { output, matched };
};

test('memvisor: MemV6 boots to the shell', async () => {
  requireGuest();
  const { output, matched, pc } = await runMemvisor({ kernel: guestKernel, hdb: guestDisk, until: /\$ $/, timeoutMs: 60_000 });
  assert.ok(matched, output);
  assert.match(output, /MemV6 booting: 128 MiB/);
  assert.match(output, /init: starting sh/);
  assert.ok(pc.exits.interrupts > 0, 'the boot took no interrupts');
});

test('memvisor: usertests prints an ok line for every sub-test and ALL TESTS PASSED', async (t) => {
  requireGuest();
  const output = await checkUsertests(onMemvisor);
  t.diagnostic(`${(output.match(/^[a-z0-9]+ ok\r?$/gm) ?? []).length} sub-tests passed`);
});

test('memvisor: the shell runs a pipeline, redirections and a background job', async () => {
  requireGuest();
  await checkShell(onMemvisor);
});

test('memvisor: the utilities and stress programs work from the shell', async () => {
  requireGuest();
  await checkUtilities(onMemvisor);
});

test('memvisor: a program built with xv6 conventions runs (xv6compat)', async () => {
  requireGuest();
  await checkXv6Compat(onMemvisor);
});
