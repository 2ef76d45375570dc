/**
 * The boot benchmark: the guest instructions to MemV6's prompt are counted at the byte
 * (deterministic), and --cmdline reaches both engines: with idle=spin MemV6 never halts,
 * so none of its virtual time is skipped, on memvisor; QEMU boots the same kernel line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchBoot, formatBootReport } from '../../src/bench/boot.js';
import { guestKernel, guestDisk } from '../guest/scenarios.js';
import { requireQemuSystem } from '../support/qemu.js';

test('bench boot: instructions to the prompt, exact; with --cmdline idle=spin no halted time, on both engines', async (t) => {
  requireQemuSystem();
  const halting = await benchBoot({ kernel: guestKernel, hdb: guestDisk, runs: 1 });
  const again = await benchBoot({ kernel: guestKernel, hdb: guestDisk, runs: 1 });
  assert.equal(again.instructions, halting.instructions, 'the instruction count to the prompt changed between two runs');
  assert.ok(halting.haltedCycles > 0, 'the halting kernel never halted');
  const spin = await benchBoot({ kernel: guestKernel, hdb: guestDisk, cmdline: 'idle=spin', runs: 1 });
  assert.equal(spin.haltedCycles, 0, 'the idle=spin kernel halted');
  assert.equal(spin.qemuSeconds?.length, 1, 'QEMU did not boot the idle=spin kernel to its prompt');
  const text = formatBootReport(spin);
  assert.match(text, /^MemV6 \(idle=spin\) power-on to shell prompt: \d+ guest instructions/);
  assert.match(text, /qemu-system-i386 +\d+\.\d+ +1\.00x/);
  t.diagnostic(`to the prompt: ${halting.instructions} instructions halting, ${spin.instructions} with idle=spin`);
});
