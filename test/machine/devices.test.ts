/**
 * The device test kernel (test/machine/devices) exercises every emulated device and
 * interrupt path and prints what it sees. It runs on qemu-system-i386 -machine pc and on
 * memvisor's PC with the same disks; the transcripts must be identical, and every check
 * in them must say ok.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildTestKernel, repoRoot, scratch } from '../support/build.js';
import { runMemvisor, writePatternDisk } from '../support/machine.js';
import { requireQemuSystem, runQemuSystem } from '../support/qemu.js';

const dir = scratch('devices');

/** hda: 64 KiB, sector n filled with n*7+1; hdb: 128 KiB of zeros. */
function makeDisks(): { hda: string; hdb: string } {
  const hda = writePatternDisk(join(dir, 'hda.img'), 64 * 1024), hdb = join(dir, 'hdb.img');
  writeFileSync(hdb, new Uint8Array(128 * 1024));
  return { hda, hdb };
}

test('devices: the device test kernel prints the same on qemu-system-i386 and memvisor, all checks ok', async (t) => {
  requireQemuSystem();
  const kernel = buildTestKernel(join(repoRoot, 'test', 'machine', 'devices', 'devices.c'), join(dir, 'devices.elf'));
  const disks = makeDisks();
  const qemu = await runQemuSystem({
    kernel, ...disks, memMiB: 64, until: /DONE\r?\n/, timeoutMs: 60_000,
    extraArgs: ['-device', 'isa-debug-exit,iobase=0xf4,iosize=4'],
  });
  assert.ok(qemu.matched, `the device kernel did not finish on QEMU:\n${qemu.output}`);
  const expected = qemu.output.replace(/\r/g, '');
  const ours = await runMemvisor({ kernel, ...disks, memoryMiB: 64, debugExit: true, until: /DONE\n/, timeoutMs: 120_000 });
  const actual = ours.output.replace(/\r/g, '');
  assert.equal(actual, expected.slice(expected.indexOf('memvisor device tests')));
  assert.doesNotMatch(actual, /=FAIL/, 'a check failed on both machines');
  t.diagnostic(`${(actual.match(/=ok/g) ?? []).length} checks, ${actual.split('\n').length - 2} devices and paths compared`);
});
