/**
 * `memvisor mkfs -o fs.img [--size BLOCKS] [--inodes N] FILE...`: a MemV6 file system
 * (guest/FORMAT.md) whose root directory holds each FILE. The image is written to a
 * temporary file beside the output and renamed into place, so a refusal or a failed
 * write leaves no output file and never touches an existing one.
 */
import type { Command } from 'commander';
import { DEFAULT_INODES, DEFAULT_SIZE_BLOCKS } from '../../fs/format.js';
import { lazyAction } from '../lazy.js';

export function register(program: Command): void {
  program
    .command('mkfs')
    .description('build a MemV6 file-system image whose root directory holds the given files (guest/FORMAT.md)')
    .argument('[files...]', 'files to put in the root directory, each under its basename with one leading "_" removed')
    .requiredOption('-o, --output <image>', 'image file to write (replaced only if mkfs succeeds)')
    .option('--size <blocks>', 'total size of the image in 1024-byte blocks', String(DEFAULT_SIZE_BLOCKS))
    .option('--inodes <n>', 'number of inodes (inode 0 is never used, inode 1 is the root)', String(DEFAULT_INODES))
    .action(lazyAction(() => import('../actions/mkfs.js'), 'mkfs'));
}
