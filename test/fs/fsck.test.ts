/**
 * fsck finds each kind of damage: every test builds a clean image, breaks one thing,
 * and checks the report names the right inode or block (and nothing unrelated).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BLOCK_SIZE, DOUBLY_INDIRECT_SLOT, INDIRECT_SLOT, ROOT_INODE, T_FILE, checkFileSystem, emptyInode,
  type FsImage,
} from '../../src/fs/index.js';
import { imageWithSubdirectory, runCli, sampleImage, scratchDir } from './support.js';

const INIT = 2; // sampleInputs: init (3 blocks), cat (indirect), empty, big (doubly indirect)
const CAT = 3;
const BIG = 5;

function problemsOf(image: FsImage): string[] {
  return checkFileSystem(image.bytes, image.name).problems;
}

test('fsck: the sample images are clean to begin with', () => {
  assert.deepEqual(problemsOf(sampleImage()), []);
  assert.deepEqual(problemsOf(imageWithSubdirectory('sub').image), []);
});

test('fsck: a bitmap bit cleared for a used block names the block and its inode', () => {
  const image = sampleImage();
  const block = image.readInode(INIT).addrs[1]!;
  image.setBlockInUse(block, false);
  assert.deepEqual(problemsOf(image), [`block ${block}: in use (by inode ${INIT}) but free in the bitmap`]);
});

test('fsck: a bitmap bit cleared for a metadata block names the block', () => {
  const image = sampleImage();
  const block = image.layout.inodestart;
  image.setBlockInUse(block, false);
  assert.deepEqual(problemsOf(image), [`block ${block}: in use (metadata, the inode blocks) but free in the bitmap`]);
});

test('fsck: a bitmap bit set for a free block names the block', () => {
  const image = sampleImage();
  const block = image.layout.size - 3;
  image.setBlockInUse(block, true);
  assert.deepEqual(problemsOf(image), [`block ${block}: marked in use in the bitmap, but nothing uses it`]);
});

test('fsck: a block shared by two inodes names the block and both inodes', () => {
  const image = sampleImage();
  const shared = image.readInode(INIT).addrs[0]!;
  const cat = image.readInode(CAT);
  const orphan = cat.addrs[4]!;
  image.writeInode(CAT, { ...cat, addrs: cat.addrs.map((block, slot) => (slot === 4 ? shared : block)) });
  assert.deepEqual(problemsOf(image), [
    `block ${shared}: shared by inode ${INIT} and inode ${CAT} (addrs[4])`,
    `block ${orphan}: marked in use in the bitmap, but nothing uses it`,
  ]);
});

test('fsck: a block shared through an indirect block names where the second pointer is', () => {
  const image = sampleImage();
  const shared = image.readInode(INIT).addrs[2]!;
  const indirect = image.readInode(CAT).addrs[INDIRECT_SLOT]!;
  image.setBlockNumberAt(indirect, 7, shared);
  const problems = problemsOf(image);
  assert.equal(problems[0], `block ${shared}: shared by inode ${INIT} and inode ${CAT} (block ${indirect}[7])`);
  assert.equal(problems.length, 2); // and the block it replaced is now unused but marked
});

test('fsck: a wrong nlink names the inode, expected and found', () => {
  const image = sampleImage();
  image.writeInode(CAT, { ...image.readInode(CAT), nlink: 3 });
  image.writeInode(ROOT_INODE, { ...image.readInode(ROOT_INODE), nlink: 2 });
  assert.deepEqual(problemsOf(image), [
    `inode ${ROOT_INODE} (dir): nlink is 2, expected 1`,
    `inode ${CAT} (file): nlink is 3, expected 1`,
  ]);
});

test('fsck: a directory with a subdirectory expects nlink 2 on the root (the child\'s "..")', () => {
  const { image, subdirectory } = imageWithSubdirectory('sub');
  image.writeInode(subdirectory, { ...image.readInode(subdirectory), nlink: 2 });
  assert.deepEqual(problemsOf(image), [`inode ${subdirectory} (dir): nlink is 2, expected 1`]);
});

test('fsck: a directory entry naming a free inode names the directory, entry and inode', () => {
  const image = sampleImage();
  for (const block of [...image.readInode(INIT).addrs].filter((block) => block !== 0)) image.setBlockInUse(block, false);
  image.writeInode(INIT, emptyInode());
  assert.deepEqual(problemsOf(image), [`inode ${ROOT_INODE} (dir): entry "init" names inode ${INIT}, which is free`]);
});

test('fsck: inode 0 (never used) with links, a size or a block pointer is reported, though its type is free', () => {
  const image = sampleImage();
  image.writeInode(0, { ...emptyInode(), nlink: 1, size: 1024, addrs: emptyInode().addrs.map((_, slot) => (slot === 0 ? image.layout.datastart : 0)) });
  assert.deepEqual(problemsOf(image), ['inode 0: free (type 0) but has nlink 1, size 1024, block pointers']);
});

test('fsck: two entries with the same name in a directory are reported', () => {
  const image = sampleImage();
  image.writeDirectoryEntry(ROOT_INODE, 4, 4, 'cat'); // "empty" (inode 4) renamed to the name slot 3 has
  assert.deepEqual(problemsOf(image), [`inode ${ROOT_INODE} (dir): two entries named "cat" (slots 3 and 4); a lookup finds only the first`]);
});

test('fsck: a directory entry naming an inode beyond ninodes is reported', () => {
  const image = sampleImage();
  image.writeDirectoryEntry(ROOT_INODE, 4, 60000, 'empty'); // slot 4 named inode 4
  const problems = problemsOf(image);
  assert.ok(problems.includes(`inode ${ROOT_INODE} (dir): entry "empty" names inode 60000, beyond ninodes 64`), problems.join('\n'));
  assert.ok(problems.includes('inode 4 (file): allocated but not reachable from the root directory'), problems.join('\n'));
});

test('fsck: a bad ".." names the directory, what it names and its parent', () => {
  const { image, subdirectory } = imageWithSubdirectory('sub');
  image.writeDirectoryEntry(subdirectory, 1, INIT, '..');
  const problems = problemsOf(image);
  assert.ok(problems.includes(`inode ${subdirectory} (dir): second entry is ".." -> inode ${INIT}, expected ".." -> inode ${ROOT_INODE} (its parent)`), problems.join('\n'));
  // The entry still names inode 2 and no longer names the root: both counts are off by one.
  assert.ok(problems.includes(`inode ${ROOT_INODE} (dir): nlink is 2, expected 1`), problems.join('\n'));
  assert.ok(problems.includes(`inode ${INIT} (file): nlink is 1, expected 2`), problems.join('\n'));
  assert.equal(problems.length, 3);
});

test('fsck: a bad "." and a "." in the wrong slot are reported', () => {
  const { image, subdirectory } = imageWithSubdirectory('sub');
  image.writeDirectoryEntry(subdirectory, 0, subdirectory, 'x');
  image.writeDirectoryEntry(ROOT_INODE, 4, 4, '.');
  const problems = problemsOf(image);
  assert.ok(problems.includes(`inode ${subdirectory} (dir): first entry is "x" -> inode ${subdirectory}, expected "." -> inode ${subdirectory}`), problems.join('\n'));
  assert.ok(problems.includes(`inode ${ROOT_INODE} (dir): slot 4 is named ".", which only slots 0 and 1 may be`), problems.join('\n'));
});

test('fsck: a directory reachable twice names it and both directories', () => {
  const { image, subdirectory } = imageWithSubdirectory('sub');
  image.writeDirectoryEntry(ROOT_INODE, 4, subdirectory, 'again'); // replaces "empty" (inode 4)
  for (const block of image.readInode(4).addrs.filter((block) => block !== 0)) image.setBlockInUse(block, false);
  image.writeInode(4, emptyInode());
  image.writeInode(subdirectory, { ...image.readInode(subdirectory), nlink: 2 });
  assert.deepEqual(problemsOf(image), [
    `inode ${subdirectory} (dir): reachable twice: named "sub" in directory inode ${ROOT_INODE}, and also named from directory inode ${ROOT_INODE}`,
  ]);
});

test('fsck: an allocated inode no directory names is unreachable', () => {
  const image = sampleImage();
  const lost = image.allocateInode(T_FILE);
  image.writeFile(lost, new Uint8Array(10));
  image.writeInode(lost, { ...image.readInode(lost), nlink: 1 });
  assert.deepEqual(problemsOf(image), [`inode ${lost} (file): allocated but not reachable from the root directory`]);
});

test('fsck: an out-of-range block pointer names the inode, the slot and the block', () => {
  const image = sampleImage();
  const init = image.readInode(INIT);
  const replaced = init.addrs[1]!;
  image.writeInode(INIT, { ...init, addrs: init.addrs.map((block, slot) => (slot === 1 ? 99999 : block)) });
  assert.deepEqual(problemsOf(image), [
    `inode ${INIT}: addrs[1] = block 99999, not in the data region (past the end (size 2048))`,
    `block ${replaced}: marked in use in the bitmap, but nothing uses it`,
  ]);
});

test('fsck: a block pointer into the metadata is out of range too', () => {
  const image = sampleImage();
  const init = image.readInode(INIT);
  const target = image.layout.inodestart;
  image.writeInode(INIT, { ...init, addrs: init.addrs.map((block, slot) => (slot === 0 ? target : block)) });
  const problems = problemsOf(image);
  assert.equal(problems[0], `inode ${INIT}: addrs[0] = block ${target}, not in the data region (in the inode blocks)`);
});

test('fsck: a bad pointer inside a doubly-indirect map names the indirect block and index', () => {
  const image = sampleImage();
  const doubly = image.readInode(BIG).addrs[DOUBLY_INDIRECT_SLOT]!;
  const second = image.blockNumberAt(doubly, 0);
  image.setBlockNumberAt(second, 9, 5);
  const problems = problemsOf(image);
  assert.equal(problems[0], `inode ${BIG}: block ${second}[9] = block 5, not in the data region (in the log)`);
});

test('fsck: a hole inside a file\'s size is reported', () => {
  const image = sampleImage();
  const init = image.readInode(INIT);
  image.setBlockInUse(init.addrs[1]!, false);
  image.writeInode(INIT, { ...init, addrs: init.addrs.map((block, slot) => (slot === 1 ? 0 : block)) });
  assert.deepEqual(problemsOf(image), [`inode ${INIT}: 1 file block(s) within its size 3000 not allocated (first: file block 1)`]);
});

test('fsck: a directory size that is not a multiple of 16, and a bad inode type', () => {
  const image = sampleImage();
  image.writeInode(ROOT_INODE, { ...image.readInode(ROOT_INODE), size: 6 * 16 + 3 });
  image.writeInode(4, { ...image.readInode(4), type: 9 });
  const problems = problemsOf(image);
  assert.ok(problems.includes(`inode ${ROOT_INODE} (dir): size 99 is not a multiple of 16`), problems.join('\n'));
  assert.ok(problems.some((line) => line.startsWith('inode 4: bad type 9')), problems.join('\n'));
});

test('fsck: a superblock with the wrong layout is a problem on block 1', () => {
  const image = sampleImage();
  new DataView(image.bytes.buffer, image.bytes.byteOffset + BLOCK_SIZE).setUint32(8, 12345, true); // nblocks
  const problems = problemsOf(image);
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /^block 1 \(superblock\): nblocks is 12345, expected \d+/);
});

test('fsck: a committed log is a note, and the file system is checked as installed', () => {
  const image = sampleImage();
  // A transaction that installs a new copy of the inode block with init's nlink = 2 and
  // another entry: checking the installed state must find the nlink, not the stale one.
  const inodeBlock = image.layout.inodestart;
  const logData = image.layout.logstart + 1;
  image.block(logData).set(image.block(inodeBlock));
  image.writeLogHeader({ count: 1, blocks: [inodeBlock] });
  let report = checkFileSystem(image.bytes, image.name);
  assert.deepEqual(report.problems, []);
  assert.equal(report.notes.length, 1);
  assert.match(report.notes[0]!, /^block 2 \(log header\): a committed transaction of 1 block\(s\) is not yet installed/);

  const view = new DataView(image.bytes.buffer, image.bytes.byteOffset + logData * BLOCK_SIZE + INIT * 64);
  view.setInt16(6, 2, true); // nlink in the logged copy of inode 2
  report = checkFileSystem(image.bytes, image.name);
  assert.deepEqual(report.problems, [`inode ${INIT} (file): nlink is 2, expected 1`]);

  image.writeLogHeader({ count: 1, blocks: [1] });
  assert.deepEqual(checkFileSystem(image.bytes, image.name).problems,
    ['block 2 (log header): block[0] = 1 (the superblock); the log may only write inode, bitmap and data blocks']);
});

test('fsck CLI: one line per problem naming the image, a summary, exit 1', () => {
  const image = sampleImage();
  const block = image.readInode(INIT).addrs[0]!;
  image.setBlockInUse(block, false);
  image.writeInode(CAT, { ...image.readInode(CAT), nlink: 5 });
  const path = join(scratchDir, 'damaged.img');
  writeFileSync(path, image.bytes);
  const run = runCli(['fs', 'fsck', path]);
  // root 1; init 3; cat 40 + its indirect; big 301 + indirect + doubly-indirect + 1 second-level
  const usedDataBlocks = 1 + 3 + 41 + 304;
  assert.equal(run.status, 1, run.stderr);
  assert.equal(run.stderr, '');
  assert.deepEqual(run.stdout.toString('utf8').trimEnd().split('\n'), [
    `${path}: inode ${CAT} (file): nlink is 5, expected 1`,
    `${path}: block ${block}: in use (by inode ${INIT}) but free in the bitmap`,
    `${path}: 2 problems (5 inodes in use, ${image.layout.datastart + usedDataBlocks} blocks in use)`,
  ]);
});

test('fsck CLI: a bad magic is not a MemV6 image: one line naming block 1 and the magic, exit 2', () => {
  const image = sampleImage();
  image.bytes[BLOCK_SIZE] = 0x4e;
  const path = join(scratchDir, 'bad-magic.img');
  writeFileSync(path, image.bytes);
  const run = runCli(['fs', 'fsck', path]);
  assert.equal(run.status, 2);
  assert.equal(run.stdout.length, 0);
  assert.equal(run.stderr, `memvisor: ${path}: not a MemV6 image (block 1: magic 0x3656564e, expected 0x3656564d "MVV6")\n`);
});
