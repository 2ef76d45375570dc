/**
 * MemV6's user space on both machines: qemu-system-i386 (the independent oracle) and
 * memvisor's own PC. The checks live in scenarios.ts and are the same for both, so
 * anything that passes on the oracle must pass on memvisor too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { checkFileSystem } from '../../src/fs/fsck.js';
import type { PC } from '../../src/machine/pc.js';
import { runMemvisor } from '../support/machine.js';
import { requireQemuSystem, runQemuSystem } from '../support/qemu.js';
import {
  checkShell, checkUsertests, checkUtilities, checkXv6Compat, guestDisk, guestKernel, SHELL_PROMPT,
  type GuestConsole,
} from './scenarios.js';

function requireGuest(): void {
  for (const file of [guestKernel, guestDisk]) {
    assert.ok(existsSync(file), `${file} is missing: run \`npm install\` (or \`make -C guest\`)`);
  }
}

/** The file-system disk as memvisor's last run left it (its guest writes stay in memory). */
let lastMemvisorDisk: Uint8Array | null = null;

const machines: Array<{ name: string; ready: () => void; boot: GuestConsole; afterUsertests?: () => void }> = [
  {
    name: 'qemu',
    ready: () => { requireQemuSystem(); requireGuest(); },
    boot: (session) => runQemuSystem({ kernel: guestKernel, hdb: guestDisk, prompt: SHELL_PROMPT, ...session }),
  },
  {
    name: 'memvisor',
    ready: requireGuest,
    boot: async (session) => {
      const { output, matched, pc } = await runMemvisor({ kernel: guestKernel, hdb: guestDisk, prompt: SHELL_PROMPT, ...session });
      lastMemvisorDisk = pc.ide.drives[1]!.data;
      return { output, matched };
    },
    afterUsertests: () => {
      const report = checkFileSystem(lastMemvisorDisk!, 'fs.img after usertests');
      assert.deepEqual(report.problems, [], 'fsck found problems in the disk usertests left');
    },
  },
];

for (const { name, ready, boot, afterUsertests } of machines) {
  test(`${name}: usertests prints an ok line for every sub-test and ALL TESTS PASSED${afterUsertests ? '; fsck finds the disk clean afterwards' : ''}`, async (t) => {
    ready();
    const output = await checkUsertests(boot);
    t.diagnostic(`${(output.match(/^[a-z0-9]+ ok\r?$/gm) ?? []).length} sub-tests passed`);
    afterUsertests?.();
  });

  test(`${name}: the shell runs a pipeline, redirections and a background job`, async () => {
    ready();
    await checkShell(boot);
  });

  test(`${name}: the utilities and stress programs work from the shell`, async () => {
    ready();
    await checkUtilities(boot);
  });

  test(`${name}: a program built with xv6 conventions runs (xv6compat)`, async () => {
    ready();
    await checkXv6Compat(boot);
  });
}

test('memvisor: MemV6 boots to the shell, taking interrupts, without writing into the memory it has not used', async () => {
  requireGuest();
  const { output, matched, pc } = await runMemvisor({ kernel: guestKernel, hdb: guestDisk, until: /\$ $/, timeoutMs: 60_000 });
  assert.ok(matched, output);
  assert.match(output, /MemV6 booting: 128 MiB/);
  assert.match(output, /init: starting sh/);
  assert.ok(pc.exits.interrupts > 0, 'the boot took no interrupts');
  // kinit hands the free memory to the allocator as ranges (kalloc.c): at the prompt,
  // nearly every page is as the machine started (zeros), so a machine commits only the
  // host memory its guest has used.
  const mem = pc.cpu.mem;
  const words = new Int32Array(mem.ram.buffer, mem.ram.byteOffset, mem.guestSize >> 2);
  const pages = words.length >> 10;
  let written = 0;
  for (let page = 0; page < pages; page++) {
    for (let i = page << 10; i < (page + 1) << 10; i++) {
      if (words[i] !== 0) {
        written++;
        break;
      }
    }
  }
  assert.ok(written < pages / 8, `${written} of the ${pages} pages of guest memory were written by the time of the prompt`);
});

// idle=spin: MemV6 never halts (its scheduler goes round with interrupts open for two
// instructions at a time) and every pushcli reads the local APIC ID, the shape of many
// teaching kernels; usertests must pass on both machines, and memvisor must not halt.
const SPIN = 'idle=spin';
test('qemu, idle=spin: usertests passes with a kernel that never halts', async () => {
  requireQemuSystem();
  requireGuest();
  await checkUsertests((session) => runQemuSystem({ kernel: guestKernel, hdb: guestDisk, cmdline: SPIN, prompt: SHELL_PROMPT, ...session }));
});

test('memvisor, idle=spin: usertests passes with a kernel that never halts, and the CPU never halts', async (t) => {
  requireGuest();
  const last: { pc?: PC } = {};
  const output = await checkUsertests(async (session) => {
    const { output, matched, pc } = await runMemvisor({ kernel: guestKernel, hdb: guestDisk, cmdline: SPIN, prompt: SHELL_PROMPT, ...session });
    last.pc = pc;
    return { output, matched };
  });
  const pc = last.pc!;
  assert.match(output, /MemV6 options: .*idle=spin/);
  assert.equal(pc.exits.halts, 0, 'the CPU halted');
  t.diagnostic(`${pc.cpu.instructionCount} instructions, ${pc.exits.interrupts} interrupts, ${pc.exits.mmioRead} MMIO reads`);
});
