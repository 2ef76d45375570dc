/**
 * Bad input through the real CLI: mkfs refusals and fs tools on files that are not
 * MemV6 images give one line naming the file and the problem, exit 2, no stack trace,
 * and mkfs leaves no output file (an existing one is untouched).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BLOCK_SIZE } from '../../src/fs/index.js';
import { pseudoRandomBytes, runCli, sampleImage, scratchDir } from './support.js';

function expectOneLineRefusal(args: string[], expected: RegExp, what: string): void {
  const run = runCli(args);
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(run.status, 2, `${what}: exit ${run.status}, stderr ${run.stderr}`);
  assert.equal(lines.length, 1, `${what}: expected one line, got:\n${run.stderr}`);
  assert.match(lines[0]!, expected, what);
  assert.doesNotMatch(run.stderr, /\n\s+at /, `${what}: stack trace`);
}

test('mkfs refusals: one line, exit 2, no output file, an existing output untouched', () => {
  const dir = join(scratchDir, 'refusals');
  mkdirSync(dir);
  const small = join(dir, 'small');
  writeFileSync(small, 'hello');
  const otherDir = join(dir, 'other');
  mkdirSync(otherDir);
  const duplicate = join(otherDir, '_small'); // becomes "small" too
  writeFileSync(duplicate, 'again');
  const longName = join(dir, 'fifteen-bytes-x');
  writeFileSync(longName, 'x');
  const large = join(dir, 'large');
  writeFileSync(large, pseudoRandomBytes(200 * BLOCK_SIZE, 5));

  const cases: Array<[string, string[], RegExp]> = [
    ['missing input file', [join(dir, 'does-not-exist')], /does-not-exist: cannot read the input file \(ENOENT\)$/],
    ['input is a directory', [otherDir], /other: is a directory, not a regular file$/],
    ['name longer than DIRSIZ', [longName], /fifteen-bytes-x: name "fifteen-bytes-x" is 15 bytes, longer than DIRSIZ \(14\)$/],
    ['duplicate names', [small, duplicate], /_small: duplicate name "small" \(also given by .*\/refusals\/small\)$/],
    ['image too small for its files', ['--size', '200', small, large], /the files need 203 data blocks but a 200-block image has only 102 \(raise --size\)$/],
    ['--size too small for the metadata', ['--size', '60', small], /--size 60 is too small: the metadata alone \(boot, superblock, log, inodes, bitmap\) takes 98 blocks$/],
    ['--size not a number', ['--size', 'lots', small], /^memvisor: --size lots: expected a whole number$/],
    ['too few inodes', ['--inodes', '2', small], /1 files need 3 inodes/],
  ];
  for (const [index, [what, args, expected]] of cases.entries()) {
    const fresh = join(dir, `fresh-${index}.img`);
    expectOneLineRefusal(['mkfs', '-o', fresh, ...args], expected, what);
    assert.ok(!existsSync(fresh), `${what}: ${fresh} was written`);

    const existing = join(dir, `existing-${index}.img`);
    writeFileSync(existing, 'keep me');
    expectOneLineRefusal(['mkfs', '-o', existing, ...args], expected, `${what} (existing output)`);
    assert.equal(readFileSync(existing, 'utf8'), 'keep me', `${what}: existing output changed`);
  }
  assert.deepEqual(readdirSync(dir).filter((name) => name.includes('partial')), [], 'a temporary file was left behind');
});

test('mkfs: an output in a missing directory is one line, and no temporary file is left', () => {
  const small = join(scratchDir, 'tiny');
  writeFileSync(small, 'x');
  expectOneLineRefusal(['mkfs', '-o', join(scratchDir, 'no-such-dir', 'fs.img'), small], /no-such-dir\/fs\.img: cannot write \(ENOENT\)$/, 'missing directory');
});

test('fs ls / cat / fsck on files that are not MemV6 images: one line, exit 2', () => {
  const good = sampleImage().bytes;
  const wrongMagic = good.slice();
  wrongMagic.set([0x7f, 0x45, 0x4c, 0x46], BLOCK_SIZE);
  const files: Array<[string, Uint8Array, RegExp]> = [
    ['wrong-magic.img', wrongMagic, /wrong-magic\.img: not a MemV6 image \(block 1: magic 0x464c457f, expected 0x3656564d "MVV6"\)$/],
    ['truncated.img', good.subarray(0, good.length - 4 * BLOCK_SIZE), /truncated\.img: superblock says 2048 blocks but the image has 2044 \(truncated\)$/],
    ['too-long.img', new Uint8Array([...good, ...new Uint8Array(BLOCK_SIZE)]), /too-long\.img: superblock says 2048 blocks but the image has 2049 \(wrong length\)$/],
    ['odd-length.img', good.subarray(0, good.length - 100), /odd-length\.img: not a MemV6 image \(length \d+ is not a whole number of 1024-byte blocks\)$/],
    ['tiny.img', new TextEncoder().encode('not an image\n'), /tiny\.img: not a MemV6 image \(13 bytes, too short to hold a superblock\)$/],
  ];
  for (const [name, bytes, expected] of files) {
    const path = join(scratchDir, name);
    writeFileSync(path, bytes);
    for (const tool of [['ls', path], ['cat', path, '/init'], ['fsck', path]]) {
      expectOneLineRefusal(['fs', ...tool], expected, `fs ${tool[0]} ${name}`);
    }
  }
  expectOneLineRefusal(['fs', 'fsck', join(scratchDir, 'absent.img')], /absent\.img: cannot read the file-system image \(ENOENT\)$/, 'fsck missing image');
});

test('fs ls / cat: bad paths are one line, exit 2', () => {
  const path = join(scratchDir, 'paths.img');
  writeFileSync(path, sampleImage().bytes);
  expectOneLineRefusal(['fs', 'cat', path, '/nope'], /paths\.img: \/nope: no such file or directory$/, 'cat missing');
  expectOneLineRefusal(['fs', 'cat', path, '/'], /paths\.img: \/: is a dir, not a file$/, 'cat directory');
  expectOneLineRefusal(['fs', 'ls', path, '/init/x'], /paths\.img: \/init: not a directory$/, 'ls through a file');
});
