/**
 * `memvisor fs ls|cat|fsck IMAGE ...`: look inside a MemV6 file-system image
 * (guest/FORMAT.md) without booting it. A file that is not a MemV6 image is one line
 * and exit 2; fsck exits 1 when it finds problems, 0 when the image is clean.
 */
import type { Command } from 'commander';
import { lazyAction } from '../lazy.js';

export function register(program: Command): void {
  const actions = () => import('../actions/fs.js');
  const fs = program
    .command('fs')
    .description('look inside a MemV6 file-system image: ls, cat, fsck');
  fs.command('ls')
    .description('list a directory (name, type, inode, size), or one file\'s line')
    .argument('<image>', 'MemV6 file-system image')
    .argument('[path]', 'path inside the image', '/')
    .action(lazyAction(actions, 'ls'));
  fs.command('cat')
    .description('write a file\'s bytes to stdout')
    .argument('<image>', 'MemV6 file-system image')
    .argument('<path>', 'path of a file inside the image')
    .action(lazyAction(actions, 'cat'));
  fs.command('fsck')
    .description('check every invariant of guest/FORMAT.md; one line per problem; exit 1 if any')
    .argument('<image>', 'MemV6 file-system image')
    .action(lazyAction(actions, 'fsck'));
}
