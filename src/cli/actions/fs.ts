/** What `memvisor fs` does (its options and help: ../commands/fs.ts). */
import { MemvisorError } from '../../errors.js';
import { INPUT, readInputFile } from '../../input-file.js';
import { FsImage, T_DIR, T_FILE, checkFileSystem, typeName } from '../../fs/index.js';

function readImageFile(path: string): Uint8Array {
  return readInputFile(path, INPUT.fileSystemImage);
}

function openImage(path: string): FsImage {
  return FsImage.open(readImageFile(path), path);
}

function listingLine(name: string, type: number, inum: number, size: number): string {
  return `${name.padEnd(14)} ${typeName(type).padEnd(4)} ${String(inum).padStart(5)} ${String(size).padStart(10)}`;
}

function list(imagePath: string, path: string): string[] {
  return listImage(openImage(imagePath), path);
}

/** `fs ls`'s lines for `path` in an open image (exported for the fuzzer, which gives it damaged images). */
export function listImage(image: FsImage, path: string): string[] {
  const inum = image.lookup(path);
  const inode = image.readInode(inum);
  if (inode.type !== T_DIR) return [listingLine(path.split('/').filter((part) => part !== '').pop() ?? path, inode.type, inum, inode.size)];
  const lines: string[] = [];
  for (const entry of image.readDirectory(inum, inode)) {
    if (entry.inum === 0) continue;
    const target = entry.inum < image.layout.ninodes ? image.readInode(entry.inum) : undefined;
    lines.push(listingLine(entry.name, target?.type ?? -1, entry.inum, target?.size ?? 0));
  }
  return lines;
}

function readPath(imagePath: string, path: string): Uint8Array {
  return readImagePath(openImage(imagePath), path);
}

/** `fs cat`'s bytes for `path` in an open image. */
export function readImagePath(image: FsImage, path: string): Uint8Array {
  const inum = image.lookup(path);
  const inode = image.readInode(inum);
  if (inode.type !== T_FILE) throw new MemvisorError(`${image.name}: ${path}: is a ${typeName(inode.type)}, not a file`);
  return image.readFile(inum, inode);
}

export function ls(image: string, path: string): void {
  process.stdout.write(list(image, path).map((line) => line + '\n').join(''));
}

export function cat(image: string, path: string): void {
  process.stdout.write(readPath(image, path));
}

export function fsck(image: string): void {
  const report = checkFileSystem(readImageFile(image), image);
  const lines = [
    ...report.problems.map((problem) => `${image}: ${problem}`),
    ...report.notes.map((note) => `${image}: note: ${note}`),
  ];
  const counts = `${report.inodesInUse} inodes in use, ${report.blocksInUse} blocks in use`;
  const count = report.problems.length;
  lines.push(`${image}: ${count === 0 ? 'clean' : `${count} problem${count === 1 ? '' : 's'}`} (${counts})`);
  process.stdout.write(lines.map((line) => line + '\n').join(''));
  if (count > 0) process.exitCode = 1;
}
