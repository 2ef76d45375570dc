/**
 * The MemV6 on-disk format as numbers: guest/FORMAT.md is the description and
 * guest/include/fs.h the kernel's copy. Keep all three in step.
 */

export const BLOCK_SIZE = 1024;
export const FS_MAGIC = 0x3656564d; // the bytes "MVV6"
export const ROOT_INODE = 1;
export const DIRECT_BLOCKS = 11;
export const NUMBERS_PER_BLOCK = BLOCK_SIZE / 4; // block numbers in an indirect block
/** Largest file, in blocks: direct, then indirect, then doubly indirect. */
export const MAX_FILE_BLOCKS = DIRECT_BLOCKS + NUMBERS_PER_BLOCK + NUMBERS_PER_BLOCK * NUMBERS_PER_BLOCK;
export const INDIRECT_SLOT = DIRECT_BLOCKS; // addrs[11]
export const DOUBLY_INDIRECT_SLOT = DIRECT_BLOCKS + 1; // addrs[12]
export const ADDRESS_SLOTS = DIRECT_BLOCKS + 2;

export const INODE_SIZE = 64;
export const INODES_PER_BLOCK = BLOCK_SIZE / INODE_SIZE;
export const BITS_PER_BITMAP_BLOCK = BLOCK_SIZE * 8;

export const DIRENT_SIZE = 16;
export const DIRSIZ = 14;
/** Directory entries hold a uint16 inode number, so no more inodes than this. */
export const MAX_INODES = 65536;

export const LOG_SIZE = 30; // data blocks in the log
export const LOG_START = 2; // block 0 is the boot block, block 1 the superblock

export const T_FREE = 0;
export const T_DIR = 1;
export const T_FILE = 2;
export const T_DEV = 3;

export const DEFAULT_SIZE_BLOCKS = 16384;
export const DEFAULT_INODES = 1024;

export interface Superblock {
  magic: number;
  size: number; // blocks in the file system
  nblocks: number; // data blocks
  ninodes: number;
  nlog: number; // header + LOG_SIZE
  logstart: number;
  inodestart: number;
  bmapstart: number;
}

/** Where each region lives; `datastart` is derived, as FORMAT.md says. */
export interface Layout extends Superblock {
  inodeBlocks: number;
  bitmapBlocks: number;
  datastart: number;
}

export interface Inode {
  type: number;
  major: number;
  minor: number;
  nlink: number;
  size: number;
  /** 13 block numbers: 11 direct, the indirect block, the doubly-indirect block. */
  addrs: number[];
}

export function emptyInode(): Inode {
  return { type: T_FREE, major: 0, minor: 0, nlink: 0, size: 0, addrs: new Array<number>(ADDRESS_SLOTS).fill(0) };
}

export function typeName(type: number): string {
  switch (type) {
    case T_FREE: return 'free';
    case T_DIR: return 'dir';
    case T_FILE: return 'file';
    case T_DEV: return 'dev';
    default: return `type ${type}`;
  }
}

export function bitmapBlocksFor(size: number): number {
  return Math.ceil(size / BITS_PER_BITMAP_BLOCK);
}

export function inodeBlocksFor(ninodes: number): number {
  return Math.ceil(ninodes / INODES_PER_BLOCK);
}

/** The layout mkfs writes: regions contiguous, in FORMAT.md's order. */
export function layoutFor(size: number, ninodes: number): Layout {
  const nlog = LOG_SIZE + 1;
  const logstart = LOG_START;
  const inodestart = logstart + nlog;
  const inodeBlocks = inodeBlocksFor(ninodes);
  const bmapstart = inodestart + inodeBlocks;
  const bitmapBlocks = bitmapBlocksFor(size);
  const datastart = bmapstart + bitmapBlocks;
  return {
    magic: FS_MAGIC, size, nblocks: size - datastart, ninodes, nlog, logstart, inodestart, bmapstart,
    inodeBlocks, bitmapBlocks, datastart,
  };
}

/** Blocks a file of `bytes` bytes needs: its data blocks plus its indirect blocks. */
export function blocksForFile(bytes: number): { data: number; index: number } {
  const data = Math.ceil(bytes / BLOCK_SIZE);
  let index = 0;
  if (data > DIRECT_BLOCKS) index += 1; // the indirect block
  if (data > DIRECT_BLOCKS + NUMBERS_PER_BLOCK) {
    const beyond = data - DIRECT_BLOCKS - NUMBERS_PER_BLOCK;
    index += 1 + Math.ceil(beyond / NUMBERS_PER_BLOCK); // doubly-indirect block and its indirect blocks
  }
  return { data, index };
}
