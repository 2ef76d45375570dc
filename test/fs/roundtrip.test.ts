/**
 * mkfs then ls / cat / fsck through the real CLI: files of every shape of block map
 * (empty, one byte, exactly the direct blocks, the indirect range, deep into the
 * doubly-indirect range) come back byte for byte, and the image is clean.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BLOCK_SIZE, DIRECT_BLOCKS, FsImage, NUMBERS_PER_BLOCK, ROOT_INODE, T_FILE, checkFileSystem, layoutFor,
} from '../../src/fs/index.js';
import { pseudoRandomBytes, runCli, scratchDir } from './support.js';

const INDIRECT_END = (DIRECT_BLOCKS + NUMBERS_PER_BLOCK) * BLOCK_SIZE;
const shapes: Array<[string, number]> = [
  ['empty', 0],
  ['one-byte', 1],
  ['block-less-1', BLOCK_SIZE - 1],
  ['one-block', BLOCK_SIZE],
  ['direct-full', DIRECT_BLOCKS * BLOCK_SIZE], // exactly 11 blocks
  ['indirect-1st', DIRECT_BLOCKS * BLOCK_SIZE + 1],
  ['indirect-mid', 100 * BLOCK_SIZE + 17],
  ['indirect-full', INDIRECT_END],
  ['doubly-1st', INDIRECT_END + 1],
  ['_doubly-3mib', 3 * 1024 * 1024], // across a dozen second-level indirect blocks; "_" is stripped
];

test('mkfs → cat returns every file byte for byte, ls lists them, fsck is clean', () => {
  const dir = join(scratchDir, 'roundtrip');
  const inputs = shapes.map(([name, length], index) => {
    const path = join(scratchDir, name);
    const content = pseudoRandomBytes(length, 1000 + index);
    writeFileSync(path, content);
    return { name: name.replace(/^_/, ''), path, content };
  });
  const image = `${dir}.img`;
  const mkfs = runCli(['mkfs', '-o', image, ...inputs.map((input) => input.path)]);
  assert.equal(mkfs.status, 0, mkfs.stderr);
  assert.equal(readFileSync(image).length, 16384 * BLOCK_SIZE, 'default size is 16384 blocks');

  for (const input of inputs) {
    const cat = runCli(['fs', 'cat', image, `/${input.name}`]);
    assert.equal(cat.status, 0, cat.stderr);
    assert.equal(cat.stdout.length, input.content.length, `${input.name}: length`);
    assert.ok(Buffer.from(input.content).equals(cat.stdout), `${input.name}: bytes differ`);
  }

  const ls = runCli(['fs', 'ls', image]);
  assert.equal(ls.status, 0, ls.stderr);
  const rows = ls.stdout.toString('utf8').trimEnd().split('\n').map((line) => line.trim().split(/\s+/));
  assert.deepEqual(rows.slice(0, 2).map((row) => row.slice(0, 3)), [['.', 'dir', '1'], ['..', 'dir', '1']]);
  assert.deepEqual(rows.slice(2), inputs.map((input, index) => [input.name, 'file', String(index + 2), String(input.content.length)]));

  const one = runCli(['fs', 'ls', image, 'doubly-3mib']);
  assert.equal(one.status, 0, one.stderr);
  assert.deepEqual(one.stdout.toString('utf8').trim().split(/\s+/), ['doubly-3mib', 'file', String(inputs.length + 1), String(3 * 1024 * 1024)]);

  const fsck = runCli(['fs', 'fsck', image]);
  assert.equal(fsck.status, 0, fsck.stdout.toString('utf8'));
  const blocks = inputs.reduce((sum, input) => sum + Math.ceil(input.content.length / BLOCK_SIZE), 0);
  assert.match(fsck.stdout.toString('utf8'), new RegExp(`^${image.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: clean \\(${inputs.length + 1} inodes in use, \\d+ blocks in use\\)\\n$`));
  const used = Number(/(\d+) blocks in use/.exec(fsck.stdout.toString('utf8'))![1]);
  // data + metadata + index blocks (1 indirect per file past 11 blocks, doubly + its indirects) + root
  assert.ok(used > blocks + layoutFor(16384, 1024).datastart, `blocks in use ${used}`);
});

test('mkfs lays the image out as FORMAT.md says: superblock, link counts, bitmap, empty log', () => {
  const path = join(scratchDir, 'layout-file');
  writeFileSync(path, pseudoRandomBytes(5000, 7));
  const image = join(scratchDir, 'layout.img');
  const run = runCli(['mkfs', '-o', image, '--size', '4096', '--inodes', '200', path]);
  assert.equal(run.status, 0, run.stderr);
  const disk = FsImage.open(readFileSync(image), image);
  assert.deepEqual(disk.superblock, {
    magic: 0x3656564d, size: 4096, nblocks: 4096 - (2 + 31 + 13 + 1), ninodes: 200,
    nlog: 31, logstart: 2, inodestart: 33, bmapstart: 46,
  });
  assert.deepEqual(disk.logHeader().count, 0);
  assert.equal(disk.readInode(ROOT_INODE).nlink, 1);
  const file = disk.readInode(disk.lookup('/layout-file'));
  assert.deepEqual([file.type, file.nlink, file.size], [T_FILE, 1, 5000]);
  // Metadata (0..46) and the root's block and the file's 5 blocks are in use, nothing else.
  for (let block = 0; block < 4096; block++) assert.equal(disk.isBlockInUse(block), block < 47 + 1 + 5, `block ${block}`);
  assert.deepEqual(checkFileSystem(disk.bytes, image).problems, []);
});

test('mkfs with no files makes an empty root that fsck accepts; a root past 11 blocks uses its indirect block', () => {
  const empty = join(scratchDir, 'empty.img');
  assert.equal(runCli(['mkfs', '-o', empty]).status, 0);
  assert.deepEqual(checkFileSystem(readFileSync(empty), empty).problems, []);

  // 800 files need 802 entries = 12.5 blocks of directory.
  const many = Array.from({ length: 800 }, (_, index) => {
    const path = join(scratchDir, `f${index}`);
    writeFileSync(path, String(index));
    return path;
  });
  const big = join(scratchDir, 'bigroot.img');
  const run = runCli(['mkfs', '-o', big, ...many]);
  assert.equal(run.status, 0, run.stderr);
  const disk = FsImage.open(readFileSync(big), big);
  assert.notEqual(disk.readInode(ROOT_INODE).addrs[DIRECT_BLOCKS], 0);
  assert.equal(new TextDecoder().decode(disk.readFile(disk.lookup('f799'))), '799');
  assert.deepEqual(checkFileSystem(disk.bytes, big).problems, []);
});
