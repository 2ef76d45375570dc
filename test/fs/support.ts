/**
 * Helpers for the file-system tests: a scratch directory, the real CLI, seeded
 * pseudo-random content, and small images built with the shared image reader/writer
 * (src/fs) that the damage tests then break on purpose.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BLOCK_SIZE, FsImage, ROOT_INODE, T_DIR, buildImage, encodeDirectory, type MkfsInput,
} from '../../src/fs/index.js';
import { scratch } from '../support/scratch.js';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const cliPath = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
export const scratchDir = scratch('fs');

export interface CliRun {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

export function runCli(args: string[]): CliRun {
  const run = spawnSync(process.execPath, [cliPath, ...args], { maxBuffer: 256 * 1024 * 1024 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr.toString('utf8') };
}

/** Deterministic bytes from a seed (xorshift32), so a failure can be replayed. */
export function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/** A small image with files of a few shapes: direct blocks only, and indirect. */
export function sampleInputs(): MkfsInput[] {
  return [
    { path: '_init', content: pseudoRandomBytes(3000, 1) }, // inode 2: 3 direct blocks
    { path: 'cat', content: pseudoRandomBytes(40 * BLOCK_SIZE, 2) }, // inode 3: indirect block
    { path: 'empty', content: new Uint8Array(0) }, // inode 4
    { path: 'big', content: pseudoRandomBytes(300 * BLOCK_SIZE + 5, 3) }, // inode 5: doubly indirect
  ];
}

export function sampleImage(inputs: MkfsInput[] = sampleInputs()): FsImage {
  const bytes = buildImage(inputs, { size: 2048, ninodes: 64, output: 'sample.img' });
  return FsImage.open(bytes, 'sample.img');
}

/**
 * Adds a subdirectory to the root. mkfs makes flat roots only, so the image is built
 * with a 32-byte placeholder file named `name`, which becomes a directory holding `.`
 * and `..`; the root's nlink grows by one for the new `..`. Returns the new inode.
 */
export function imageWithSubdirectory(name: string): { image: FsImage; subdirectory: number } {
  const image = sampleImage([...sampleInputs(), { path: name, content: new Uint8Array(32) }]);
  const subdirectory = image.lookup(`/${name}`);
  const inode = image.readInode(subdirectory);
  image.writeInode(subdirectory, { ...inode, type: T_DIR });
  image.block(inode.addrs[0]!).set(encodeDirectory([{ inum: subdirectory, name: '.' }, { inum: ROOT_INODE, name: '..' }]));
  const root = image.readInode(ROOT_INODE);
  image.writeInode(ROOT_INODE, { ...root, nlink: root.nlink + 1 });
  return { image, subdirectory };
}
