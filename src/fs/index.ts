/**
 * The MemV6 file system, host side: one disk-image reader/writer (image.ts), mkfs,
 * fsck, and the format's numbers (format.ts, after guest/FORMAT.md).
 */
export * from './format.js';
export { FsImage, decodeSuperblock, layoutOf, superblockProblems, encodeDirectory, encodeDirectoryEntry, decodeDirectoryEntry } from './image.js';
export type { DirectoryEntry, BlockPointer, LogHeader } from './image.js';
export { buildImage, fileSystemName, checkMkfsOptions, MAX_IMAGE_BLOCKS, type MkfsInput, type MkfsOptions } from './mkfs.js';
export { checkFileSystem, type FsckReport } from './fsck.js';
export { fileTreeDigest } from './tree.js';
