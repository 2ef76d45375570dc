/**
 * The second boot path: a raw disk whose boot sector uses no BIOS calls. It runs in real
 * mode, reads sector 1 from the IDE master by PIO, enters protected mode, and prints the
 * same on qemu-system-i386 (booted by its firmware) and on memvisor.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, scratch } from '../support/build.js';
import { runMemvisor } from '../support/machine.js';
import { requireQemuSystem, runQemuSystem } from '../support/qemu.js';

const dir = scratch('bootsector');

function buildDisk(): string {
  const object = join(dir, 'boot.o'), flat = join(dir, 'boot.bin'), disk = join(dir, 'boot.img');
  for (const [cmd, args] of [
    ['gcc', ['-m32', '-c', '-o', object, join(repoRoot, 'test', 'machine', 'bootsector', 'boot.S')]],
    ['ld', ['-m', 'elf_i386', '-Ttext=0x7c00', '-e', '_start', '--oformat', 'binary', '-o', flat, object]],
  ] as const) {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    assert.equal(r.status, 0, `${cmd} ${args.join(' ')}\n${r.stderr}`);
  }
  const image = new Uint8Array(64 * 1024);
  image.set(readFileSync(flat));
  writeFileSync(disk, image);
  return disk;
}

test('boot sector: real mode, PIO and protected mode print the same on qemu-system-i386 and memvisor', async () => {
  requireQemuSystem();
  const hda = buildDisk();
  const qemu = await runQemuSystem({ hda, memMiB: 32, until: /DONE\r?\n/, timeoutMs: 60_000, extraArgs: ['-device', 'isa-debug-exit,iobase=0xf4,iosize=4'] });
  assert.ok(qemu.matched, `the boot sector did not finish on QEMU:\n${qemu.output}`);
  const expected = qemu.output.replace(/\r/g, '');
  const ours = await runMemvisor({ hda, memoryMiB: 32, debugExit: true, until: /DONE\n/, timeoutMs: 30_000 });
  assert.equal(ours.output, expected.slice(expected.indexOf('boot sector:')));
  assert.match(ours.output, /sector 1: read by PIO/);
});
