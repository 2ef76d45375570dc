/**
 * What a file system holds, as its user sees it: every path with its type, size and
 * content, in name order. Two images with the same files have the same digest, whatever
 * blocks and inodes the kernel happened to use (a campaign's fault-free and faulty runs
 * may schedule writers differently and lay the same files out differently).
 */
import { createHash } from 'node:crypto';
import { ROOT_INODE, T_DIR } from './format.js';
import { FsImage } from './image.js';

/** A digest of the files in a MemV6 image; an image that cannot be read gives a digest naming why. */
export function fileTreeDigest(bytes: Uint8Array): string {
  const hash = createHash('sha256');
  try {
    const image = FsImage.open(bytes, 'image');
    const visit = (inum: number, path: string, depth: number) => {
      const inode = image.readInode(inum);
      hash.update(`${path}\0${inode.type}\0${inode.major}.${inode.minor}\0${inode.size}\0`);
      if (inode.type !== T_DIR) {
        hash.update(image.readFile(inum, inode));
        return;
      }
      if (depth > 64) throw new Error(`directories nested deeper than 64 at ${path}`);
      const entries = image.readDirectory(inum, inode).filter((e) => e.inum !== 0 && e.name !== '.' && e.name !== '..');
      for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) visit(e.inum, `${path}/${e.name}`, depth + 1);
    };
    visit(ROOT_INODE, '', 0);
    return hash.digest('hex');
  } catch (e) {
    return `unreadable: ${(e as Error).message}`;
  }
}
