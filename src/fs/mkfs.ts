/**
 * Building a file system: a root directory holding each input file under its basename
 * (a leading `_` stripped, as xv6's mkfs does), correct link counts, the bitmap, and an
 * empty log. Everything that could go wrong is checked before the image is made, so a
 * refusal is one line naming the file and the problem.
 */
import { basename } from 'node:path';
import { MemvisorError } from '../errors.js';
import {
  BLOCK_SIZE, DIRENT_SIZE, DIRSIZ, MAX_FILE_BLOCKS, MAX_INODES, ROOT_INODE, T_DIR, T_FILE,
  blocksForFile, layoutFor,
} from './format.js';
import { FsImage, encodeDirectory } from './image.js';

export interface MkfsInput {
  /** The path it came from, for messages. */
  path: string;
  content: Uint8Array;
}

export interface MkfsOptions {
  /** Total blocks in the image. */
  size: number;
  ninodes: number;
  /** The output's name, for messages. */
  output: string;
}

/** Largest image mkfs builds (it is made in memory): 1 GiB. */
export const MAX_IMAGE_BLOCKS = 1 << 20;

/** The name a file gets in the root directory: its basename without one leading `_`. */
export function fileSystemName(path: string): string {
  const base = basename(path);
  return base.startsWith('_') ? base.slice(1) : base;
}

function checkNames(inputs: MkfsInput[]): string[] {
  const names: string[] = [];
  const seen = new Map<string, string>();
  for (const input of inputs) {
    const name = fileSystemName(input.path);
    const length = Buffer.byteLength(name, 'utf8');
    if (length === 0 || name === '.' || name === '..') {
      throw new MemvisorError(`${input.path}: cannot be named "${name}" in the file system`);
    }
    if (length > DIRSIZ) {
      throw new MemvisorError(`${input.path}: name "${name}" is ${length} bytes, longer than DIRSIZ (${DIRSIZ})`);
    }
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      throw new MemvisorError(`${input.path}: duplicate name "${name}" (also given by ${earlier})`);
    }
    seen.set(name, input.path);
    names.push(name);
  }
  return names;
}

function checkCapacity(inputs: MkfsInput[], options: MkfsOptions): void {
  const layout = layoutFor(options.size, options.ninodes);
  if (layout.datastart >= options.size) {
    throw new MemvisorError(`${options.output}: --size ${options.size} is too small: the metadata alone (boot, superblock, log, inodes, bitmap) takes ${layout.datastart} blocks`);
  }
  if (inputs.length + 2 > options.ninodes) {
    throw new MemvisorError(`${options.output}: ${inputs.length} files need ${inputs.length + 2} inodes (inode 0 unused, root directory), but --inodes is ${options.ninodes}`);
  }
  let needed = 0;
  for (const input of inputs) {
    if (Math.ceil(input.content.length / BLOCK_SIZE) > MAX_FILE_BLOCKS) {
      throw new MemvisorError(`${input.path}: ${input.content.length} bytes is larger than the largest file (${MAX_FILE_BLOCKS * BLOCK_SIZE} bytes)`);
    }
    const blocks = blocksForFile(input.content.length);
    needed += blocks.data + blocks.index;
  }
  const root = blocksForFile((inputs.length + 2) * DIRENT_SIZE);
  needed += root.data + root.index;
  if (needed > layout.nblocks) {
    throw new MemvisorError(`${options.output}: the files need ${needed} data blocks but a ${options.size}-block image has only ${layout.nblocks} (raise --size)`);
  }
}

export function checkMkfsOptions(options: MkfsOptions): void {
  if (!Number.isInteger(options.size) || options.size < 1 || options.size > MAX_IMAGE_BLOCKS) {
    throw new MemvisorError(`--size ${options.size}: expected a whole number of blocks from 1 to ${MAX_IMAGE_BLOCKS}`);
  }
  if (!Number.isInteger(options.ninodes) || options.ninodes < 2 || options.ninodes > MAX_INODES) {
    throw new MemvisorError(`--inodes ${options.ninodes}: expected a whole number from 2 to ${MAX_INODES}`);
  }
}

/** The image bytes for `inputs`; throws MemvisorError before building if they cannot fit. */
export function buildImage(inputs: MkfsInput[], options: MkfsOptions): Uint8Array {
  checkMkfsOptions(options);
  const names = checkNames(inputs);
  checkCapacity(inputs, options);

  const image = FsImage.format(options.size, options.ninodes, options.output);
  const root = image.allocateInode(T_DIR);
  if (root !== ROOT_INODE) throw new Error(`internal error: root directory got inode ${root}`);
  const entries = [{ inum: ROOT_INODE, name: '.' }, { inum: ROOT_INODE, name: '..' }];
  inputs.forEach((input, index) => {
    const inum = image.allocateInode(T_FILE);
    image.writeFile(inum, input.content);
    image.writeInode(inum, { ...image.readInode(inum), nlink: 1 });
    entries.push({ inum, name: names[index]! });
  });
  image.writeFile(ROOT_INODE, encodeDirectory(entries));
  // The root has no entry in a parent and no subdirectories: it counts 1 for itself.
  image.writeInode(ROOT_INODE, { ...image.readInode(ROOT_INODE), nlink: 1 });
  return image.bytes;
}
