/**
 * The guest stays in its box (README, "What a guest can and cannot affect"): the attack
 * kernel (test/machine/attack) goes at each rule in turn — IDE sector numbers and counts,
 * APIC and IOAPIC register indexes, MMIO accesses of every size at the ends of each
 * window, ports with no device, string instructions that run past the end of memory —
 * and prints what it observes. memvisor must print exactly what qemu-system-i386
 * prints (where QEMU's behaviour is defined it is printed as a value, elsewhere as a
 * check that must say ok), the host must not throw, and the disks must keep their size.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildTestKernel, repoRoot, scratch } from '../support/build.js';
import { runMemvisor, writePatternDisk } from '../support/machine.js';
import { requireQemuSystem, runQemuSystem } from '../support/qemu.js';
import { CPU, PhysicalMemory } from '../../src/cpu/index.js';
import { MemvisorError } from '../../src/errors.js';
import { loadMultiboot } from '../../src/machine/multiboot.js';
import { guestBuildDir } from '../../src/paths.js';
import { elfFields } from '../fuzz/targets.js';
import { applyEdits } from '../fuzz/structured.js';

const dir = scratch('attack');

test('attack: a hostile guest sees on memvisor what it sees on qemu-system-i386, and reaches nothing outside its box', async (t) => {
  requireQemuSystem();
  const kernel = buildTestKernel(join(repoRoot, 'test', 'machine', 'attack', 'attack.c'), join(dir, 'attack.elf'));
  const hda = writePatternDisk(join(dir, 'hda.img'), 64 * 1024), hdb = join(dir, 'hdb.img');
  writeFileSync(hdb, new Uint8Array(128 * 1024));
  const qemu = await runQemuSystem({
    kernel, hda, hdb, memMiB: 64, until: /DONE\r?\n|exception/, timeoutMs: 120_000,
    extraArgs: ['-device', 'isa-debug-exit,iobase=0xf4,iosize=4'],
  });
  assert.ok(qemu.matched, `the attack kernel did not finish on QEMU:\n${qemu.output}`);
  const expected = qemu.output.replace(/\r/g, '');
  const ours = await runMemvisor({ kernel, hda, hdb, memoryMiB: 64, debugExit: true, until: /DONE\n|exception/, timeoutMs: 300_000 });
  const actual = ours.output.replace(/\r/g, '');
  assert.equal(actual, expected.slice(expected.indexOf('memvisor attack tests')));
  assert.match(actual, /DONE\n/);
  assert.doesNotMatch(actual, /=FAIL/, 'a check failed on both machines');
  // The disks are as large as they were, in memory and on the host.
  assert.deepEqual(ours.pc.ide.drives.map((d) => d?.data.length), [64 * 1024, 128 * 1024]);
  assert.deepEqual([statSync(hda).size, statSync(hdb).size], [64 * 1024, 128 * 1024]);
  t.diagnostic(actual);
});

test('attack: a multiboot kernel cannot place itself over the firmware area, past the end of memory or across 4 GiB', () => {
  const kernel = readFileSync(join(guestBuildDir, 'kernel'));
  const fields = elfFields(kernel);
  const at = (name: string) => fields.find((f) => f.name === name)!;
  const view = new DataView(kernel.buffer, kernel.byteOffset, kernel.byteLength);
  const memsz = view.getUint32(at('ph[0].p_memsz').at, true);
  for (const [paddr, size, why] of [
    [0x7c00, memsz, 'over the real-mode area and the firmware tables (below 1 MiB)'],
    [(16 << 20) - 0x1000, memsz, 'running past the end of 16 MiB of memory'],
    [0xfffff000, memsz, 'wrapping past 4 GiB'],
  ] as const) {
    const edited = applyEdits(kernel, [
      { field: 'ph[0].p_paddr', at: at('ph[0].p_paddr').at, width: 4, value: paddr },
      { field: 'ph[0].p_memsz', at: at('ph[0].p_memsz').at, width: 4, value: size },
    ]);
    const mem = new PhysicalMemory(16 << 20);
    const before = mem.ram.slice();
    assert.throws(() => loadMultiboot(mem, new CPU(mem, { read: () => 0xff, write: () => {} }), edited, 'evil.elf', ''),
      (e: Error) => e instanceof MemvisorError && /^evil\.elf: segment at physical 0x[0-9a-f]+\+0x[0-9a-f]+ does not fit in 16 MiB above 1 MiB$/.test(e.message), why);
    assert.ok(mem.ram.every((b, i) => b === before[i]), `${why}: nothing was written before the refusal`);
  }
});
