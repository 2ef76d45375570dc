/**
 * MemV6 given a damaged file-system disk: the kernel checks what it reads before it
 * follows it (the superblock's layout, the log header's home blocks, an inode's number,
 * type, size and block pointers) and stops with a panic that says what is wrong, instead
 * of reading or overwriting the superblock, the log or the bitmap as file data; exec
 * refuses a device instead of waiting for console input while it holds the file system.
 * The same images the `boot` fuzzer damages at random (test/fuzz/targets.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootDamaged, bootFuzzImage, fsFields } from '../fuzz/targets.js';
import { applyEdits, type Edit } from '../fuzz/structured.js';

const image = bootFuzzImage();
const fields = fsFields(image);
const view = new DataView(image.buffer, image.byteOffset, image.byteLength);

function edit(name: string, value: number): Edit {
  const field = fields.find((f) => f.name === name);
  assert.ok(field, `no field ${name}`);
  return { field: name, at: field.at, width: field.width, value };
}
const own = (name: string): number => {
  const field = fields.find((f) => f.name === name)!;
  return field.width === 4 ? view.getUint32(field.at, true) : view.getUint16(field.at, true);
};
const boot = (...edits: Edit[]) => bootDamaged(applyEdits(image, edits));

test('the undamaged image boots and the shell runs every command', async () => {
  assert.equal(await boot(), 'shell ran');
});

test('a superblock whose bitmap does not follow the inodes stops the boot', async () => {
  assert.equal(await boot(edit('sb.bmapstart', own('sb.bmapstart') + 1)), 'panic: bad superblock: bmapstart is not after the inode blocks');
});

test('a superblock larger than 28-bit sector numbers reach stops the boot (the IDE driver would wrap)', async () => {
  assert.match(await boot(edit('sb.size', 0x8000000)), /^panic: bad superblock: size is beyond/);
});

test('a file whose block pointer names the superblock is not read as data', async () => {
  // inode 2 is init: the kernel reads it at boot.
  assert.equal(await boot(edit('inode[2].addrs[0]', 1)), 'panic: file system: an inode points outside the data blocks');
});

test('a committed log header whose home block is the superblock is not installed', async () => {
  assert.equal(await boot(edit('log.n', 1), edit('log.block[0]', 1)), 'panic: log header: a block outside the inodes, bitmap and data');
});

test('a directory entry naming an inode beyond ninodes is not followed into the bitmap', async () => {
  // Root entry 2 is init: its inode number points past the 32 inodes, at the bitmap block.
  assert.equal(await boot(edit('root.entry[2].inum', 40)), 'panic: ilock: a directory names an inode beyond ninodes');
});

test('an inode of no known type is refused', async () => {
  assert.equal(await boot(edit('inode[2].type', 7)), 'panic: ilock: an inode of no known type');
});

test('reading a hole in a file panics instead of allocating a block outside a transaction', async () => {
  // README (inode 9) is read by `cat README` at the shell.
  assert.equal(await boot(edit('inode[9].addrs[0]', 0)), 'panic: readi: file block missing');
});

test('a program that is a device is refused by exec, not read as a program (which waits for input)', async () => {
  // The root entry of mkdir names the console device (inode 11): `mkdir d` runs it.
  const entries = fields.filter((f) => /^root\.entry\[\d+\]\.inum$/.test(f.name));
  const mkdir = entries.find((f) => view.getUint16(f.at, true) === 8)!;   // mkdir is inode 8
  assert.equal(await boot({ field: mkdir.name, at: mkdir.at, width: 2, value: 11 }), 'shell ran');
});
