/**
 * The one reader and writer of MemV6 disk images (guest/FORMAT.md), shared by mkfs,
 * fsck, `fs ls`/`fs cat` and the tests: superblock, inodes, the block map with its
 * indirect and doubly-indirect blocks, directory entries, the free-block bitmap and
 * the log header. An image lives in memory as one Uint8Array.
 *
 * Readers follow block pointers only after checking them, so a damaged image gives a
 * MemvisorError naming the inode and block, never an out-of-range read.
 */
import { MemvisorError, assert } from '../errors.js';
import {
  ADDRESS_SLOTS, BITS_PER_BITMAP_BLOCK, BLOCK_SIZE, DIRECT_BLOCKS, DIRENT_SIZE, DIRSIZ,
  DOUBLY_INDIRECT_SLOT, FS_MAGIC, INDIRECT_SLOT, INODES_PER_BLOCK, INODE_SIZE, LOG_SIZE,
  LOG_START, MAX_FILE_BLOCKS, MAX_INODES, NUMBERS_PER_BLOCK, ROOT_INODE, T_DIR, T_FREE,
  bitmapBlocksFor, emptyInode, inodeBlocksFor, layoutFor, type Inode, type Layout, type Superblock,
} from './format.js';

export interface DirectoryEntry {
  /** Index of the 16-byte slot in the directory (0 is `.`, 1 is `..`). */
  slot: number;
  inum: number;
  name: string;
}

/** One block pointer inside an inode's block map, as the walker meets it. */
export interface BlockPointer {
  block: number;
  kind: 'data' | 'indirect' | 'doubly-indirect';
  /** Where the pointer is stored: "addrs[3]" or "block 812[17]". */
  where: string;
  /** For data blocks: the file block it holds. */
  fileBlock?: number;
}

export interface LogHeader {
  count: number;
  blocks: number[];
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

export function decodeSuperblock(bytes: Uint8Array): Superblock {
  const view = new DataView(bytes.buffer, bytes.byteOffset + BLOCK_SIZE, 32);
  const field = (index: number) => view.getUint32(index * 4, true);
  return {
    magic: field(0), size: field(1), nblocks: field(2), ninodes: field(3),
    nlog: field(4), logstart: field(5), inodestart: field(6), bmapstart: field(7),
  };
}

/** The layout a superblock records (datastart derived as FORMAT.md says). */
export function layoutOf(superblock: Superblock): Layout {
  const inodeBlocks = inodeBlocksFor(superblock.ninodes);
  const bitmapBlocks = bitmapBlocksFor(superblock.size);
  return { ...superblock, inodeBlocks, bitmapBlocks, datastart: superblock.bmapstart + bitmapBlocks };
}

/**
 * Problems with a superblock whose magic and length are right: the regions must be
 * contiguous, in FORMAT.md's order, inside the image. Empty when the layout is usable.
 */
export function superblockProblems(superblock: Superblock): string[] {
  const layout = layoutOf(superblock);
  const problems: string[] = [];
  const say = (text: string) => problems.push(`block 1 (superblock): ${text}`);
  if (superblock.nlog !== LOG_SIZE + 1) say(`nlog is ${superblock.nlog}, expected ${LOG_SIZE + 1} (header + LOGSIZE ${LOG_SIZE})`);
  if (superblock.logstart !== LOG_START) say(`logstart is ${superblock.logstart}, expected ${LOG_START}`);
  if (superblock.ninodes < 2 || superblock.ninodes > MAX_INODES) say(`ninodes is ${superblock.ninodes}, expected 2..${MAX_INODES}`);
  if (superblock.inodestart !== superblock.logstart + superblock.nlog) {
    say(`inodestart is ${superblock.inodestart}, expected ${superblock.logstart + superblock.nlog} (logstart + nlog)`);
  }
  if (superblock.bmapstart !== superblock.inodestart + layout.inodeBlocks) {
    say(`bmapstart is ${superblock.bmapstart}, expected ${superblock.inodestart + layout.inodeBlocks} (inodestart + ${layout.inodeBlocks} inode blocks)`);
  }
  if (layout.datastart >= superblock.size) {
    say(`no room for data: the data region would start at block ${layout.datastart} of ${superblock.size}`);
  } else if (superblock.nblocks !== superblock.size - layout.datastart) {
    say(`nblocks is ${superblock.nblocks}, expected ${superblock.size - layout.datastart} (size - datastart ${layout.datastart})`);
  }
  return problems;
}

/** A MemV6 file system held in memory (the raw IDE disk a machine boots is machine/disk.ts's DiskImage). */
export class FsImage {
  readonly layout: Layout;
  private readonly view: DataView;

  private constructor(readonly bytes: Uint8Array, readonly name: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.layout = layoutOf(decodeSuperblock(bytes));
  }

  /**
   * Opens an existing image. A file that is not a MemV6 image (too short, wrong magic,
   * length not the superblock's size) is a MemvisorError; so is a superblock whose
   * layout is unusable, unless `allowBadLayout` (fsck reports those itself).
   */
  static open(bytes: Uint8Array, name: string, options: { allowBadLayout?: boolean } = {}): FsImage {
    if (bytes.length < 2 * BLOCK_SIZE) {
      throw new MemvisorError(`${name}: not a MemV6 image (${bytes.length} bytes, too short to hold a superblock)`);
    }
    const superblock = decodeSuperblock(bytes);
    if (superblock.magic !== FS_MAGIC) {
      throw new MemvisorError(`${name}: not a MemV6 image (block 1: magic ${hex(superblock.magic)}, expected ${hex(FS_MAGIC)} "MVV6")`);
    }
    if (bytes.length % BLOCK_SIZE !== 0) {
      throw new MemvisorError(`${name}: not a MemV6 image (length ${bytes.length} is not a whole number of ${BLOCK_SIZE}-byte blocks)`);
    }
    if (superblock.size * BLOCK_SIZE !== bytes.length) {
      const blocks = bytes.length / BLOCK_SIZE;
      throw new MemvisorError(`${name}: superblock says ${superblock.size} blocks but the image has ${blocks} (${blocks < superblock.size ? 'truncated' : 'wrong length'})`);
    }
    if (!options.allowBadLayout) {
      const problems = superblockProblems(superblock);
      if (problems.length > 0) throw new MemvisorError(`${name}: ${problems[0]}`);
    }
    return new FsImage(bytes, name);
  }

  /** A fresh, empty file system: superblock written, metadata marked in use, no inodes. */
  static format(size: number, ninodes: number, name: string): FsImage {
    const layout = layoutFor(size, ninodes);
    assert(layout.datastart < size, 'format: no room for data (callers check first)');
    const bytes = new Uint8Array(size * BLOCK_SIZE);
    const view = new DataView(bytes.buffer, BLOCK_SIZE, 32);
    const fields = [layout.magic, layout.size, layout.nblocks, layout.ninodes, layout.nlog, layout.logstart, layout.inodestart, layout.bmapstart];
    fields.forEach((value, index) => view.setUint32(index * 4, value, true));
    const image = new FsImage(bytes, name);
    for (let block = 0; block < layout.datastart; block++) image.setBlockInUse(block, true);
    return image;
  }

  get superblock(): Superblock {
    return decodeSuperblock(this.bytes);
  }

  block(block: number): Uint8Array {
    assert(Number.isInteger(block) && block >= 0 && block < this.layout.size, `block ${block} outside the image`);
    return this.bytes.subarray(block * BLOCK_SIZE, (block + 1) * BLOCK_SIZE);
  }

  /** True when `block` may be pointed at by an inode: inside the data region. */
  isDataBlock(block: number): boolean {
    return block >= this.layout.datastart && block < this.layout.size;
  }

  /** Where a block number falls, for messages: "in the log", "past the end (size N)". */
  regionOf(block: number): string {
    const l = this.layout;
    if (block === 0) return 'the boot block';
    if (block === 1) return 'the superblock';
    if (block < l.inodestart) return 'in the log';
    if (block < l.bmapstart) return 'in the inode blocks';
    if (block < l.datastart) return 'in the bitmap';
    if (block < l.size) return 'in the data region';
    return `past the end (size ${l.size})`;
  }

  /** Block-number entry `index` of an indirect block. */
  blockNumberAt(block: number, index: number): number {
    assert(index >= 0 && index < NUMBERS_PER_BLOCK, 'indirect index out of range');
    return this.view.getUint32(block * BLOCK_SIZE + index * 4, true);
  }

  setBlockNumberAt(block: number, index: number, value: number): void {
    assert(index >= 0 && index < NUMBERS_PER_BLOCK, 'indirect index out of range');
    this.view.setUint32(block * BLOCK_SIZE + index * 4, value, true);
  }

  // --- inodes -------------------------------------------------------------------------

  private inodeOffset(inum: number): number {
    assert(Number.isInteger(inum) && inum >= 0 && inum < this.layout.ninodes, `inode ${inum} out of range`);
    return (this.layout.inodestart + Math.floor(inum / INODES_PER_BLOCK)) * BLOCK_SIZE + (inum % INODES_PER_BLOCK) * INODE_SIZE;
  }

  readInode(inum: number): Inode {
    const at = this.inodeOffset(inum);
    const addrs: number[] = [];
    for (let slot = 0; slot < ADDRESS_SLOTS; slot++) addrs.push(this.view.getUint32(at + 12 + slot * 4, true));
    return {
      type: this.view.getInt16(at, true),
      major: this.view.getInt16(at + 2, true),
      minor: this.view.getInt16(at + 4, true),
      nlink: this.view.getInt16(at + 6, true),
      size: this.view.getUint32(at + 8, true),
      addrs,
    };
  }

  writeInode(inum: number, inode: Inode): void {
    const at = this.inodeOffset(inum);
    this.view.setInt16(at, inode.type, true);
    this.view.setInt16(at + 2, inode.major, true);
    this.view.setInt16(at + 4, inode.minor, true);
    this.view.setInt16(at + 6, inode.nlink, true);
    this.view.setUint32(at + 8, inode.size, true);
    for (let slot = 0; slot < ADDRESS_SLOTS; slot++) this.view.setUint32(at + 12 + slot * 4, inode.addrs[slot] ?? 0, true);
  }

  /** Claims the lowest free inode (inode 0 is never used) and gives it `type`. */
  allocateInode(type: number): number {
    for (let inum = ROOT_INODE; inum < this.layout.ninodes; inum++) {
      if (this.readInode(inum).type === T_FREE) {
        this.writeInode(inum, { ...emptyInode(), type });
        return inum;
      }
    }
    throw new MemvisorError(`${this.name}: out of inodes (${this.layout.ninodes})`);
  }

  // --- free-block bitmap ----------------------------------------------------------------

  private bitmapByte(block: number): number {
    assert(block >= 0 && block < this.layout.size, `bitmap: block ${block} outside the image`);
    return (this.layout.bmapstart + Math.floor(block / BITS_PER_BITMAP_BLOCK)) * BLOCK_SIZE + Math.floor((block % BITS_PER_BITMAP_BLOCK) / 8);
  }

  isBlockInUse(block: number): boolean {
    return (this.bytes[this.bitmapByte(block)]! & (1 << (block % 8))) !== 0;
  }

  setBlockInUse(block: number, used: boolean): void {
    const at = this.bitmapByte(block);
    if (used) this.bytes[at]! |= 1 << (block % 8);
    else this.bytes[at]! &= ~(1 << (block % 8));
  }

  /** Claims the lowest free data block, zeroed. */
  allocateBlock(): number {
    for (let block = this.layout.datastart; block < this.layout.size; block++) {
      if (!this.isBlockInUse(block)) {
        this.setBlockInUse(block, true);
        this.block(block).fill(0);
        return block;
      }
    }
    throw new MemvisorError(`${this.name}: image full (${this.layout.nblocks} data blocks)`);
  }

  // --- the block map ----------------------------------------------------------------------

  /** Checks a pointer before it is followed; a bad one is a MemvisorError naming it. */
  private checkedPointer(inum: number, block: number, where: string): number {
    if (block !== 0 && !this.isDataBlock(block)) {
      throw new MemvisorError(`${this.name}: inode ${inum}: ${where} = block ${block}, not in the data region (${this.regionOf(block)})`);
    }
    return block;
  }

  /** The disk block holding file block `n` of inode `inum`, or 0 if not allocated. */
  fileBlockNumber(inum: number, inode: Inode, n: number): number {
    assert(n >= 0 && n < MAX_FILE_BLOCKS, `file block ${n} beyond the largest file`);
    if (n < DIRECT_BLOCKS) return this.checkedPointer(inum, inode.addrs[n]!, `addrs[${n}]`);
    n -= DIRECT_BLOCKS;
    if (n < NUMBERS_PER_BLOCK) {
      const indirect = this.checkedPointer(inum, inode.addrs[INDIRECT_SLOT]!, `addrs[${INDIRECT_SLOT}]`);
      return indirect === 0 ? 0 : this.checkedPointer(inum, this.blockNumberAt(indirect, n), `block ${indirect}[${n}]`);
    }
    n -= NUMBERS_PER_BLOCK;
    const doubly = this.checkedPointer(inum, inode.addrs[DOUBLY_INDIRECT_SLOT]!, `addrs[${DOUBLY_INDIRECT_SLOT}]`);
    if (doubly === 0) return 0;
    const outer = Math.floor(n / NUMBERS_PER_BLOCK);
    const indirect = this.checkedPointer(inum, this.blockNumberAt(doubly, outer), `block ${doubly}[${outer}]`);
    if (indirect === 0) return 0;
    const inner = n % NUMBERS_PER_BLOCK;
    return this.checkedPointer(inum, this.blockNumberAt(indirect, inner), `block ${indirect}[${inner}]`);
  }

  /**
   * Visits every non-zero block pointer of an inode: direct, indirect, doubly indirect
   * and what they point to. `visit` returns false to stop the walk descending into an
   * indirect block (fsck does so for pointers it found bad). Pointers are not checked.
   */
  forEachBlockPointer(inode: Inode, visit: (pointer: BlockPointer) => boolean): void {
    for (let n = 0; n < DIRECT_BLOCKS; n++) {
      const block = inode.addrs[n]!;
      if (block !== 0) visit({ block, kind: 'data', where: `addrs[${n}]`, fileBlock: n });
    }
    const indirect = inode.addrs[INDIRECT_SLOT]!;
    if (indirect !== 0 && visit({ block: indirect, kind: 'indirect', where: `addrs[${INDIRECT_SLOT}]` })) {
      this.visitIndirect(indirect, DIRECT_BLOCKS, visit);
    }
    const doubly = inode.addrs[DOUBLY_INDIRECT_SLOT]!;
    if (doubly !== 0 && visit({ block: doubly, kind: 'doubly-indirect', where: `addrs[${DOUBLY_INDIRECT_SLOT}]` })) {
      for (let outer = 0; outer < NUMBERS_PER_BLOCK; outer++) {
        const block = this.blockNumberAt(doubly, outer);
        if (block !== 0 && visit({ block, kind: 'indirect', where: `block ${doubly}[${outer}]` })) {
          this.visitIndirect(block, DIRECT_BLOCKS + NUMBERS_PER_BLOCK * (1 + outer), visit);
        }
      }
    }
  }

  private visitIndirect(indirect: number, firstFileBlock: number, visit: (pointer: BlockPointer) => boolean): void {
    for (let index = 0; index < NUMBERS_PER_BLOCK; index++) {
      const block = this.blockNumberAt(indirect, index);
      if (block !== 0) visit({ block, kind: 'data', where: `block ${indirect}[${index}]`, fileBlock: firstFileBlock + index });
    }
  }

  /** The `size` bytes of an inode's content; unallocated blocks read as zeros. */
  readFile(inum: number, inode: Inode = this.readInode(inum)): Uint8Array {
    if (inode.size > MAX_FILE_BLOCKS * BLOCK_SIZE) {
      throw new MemvisorError(`${this.name}: inode ${inum}: size ${inode.size} is larger than the largest file (${MAX_FILE_BLOCKS * BLOCK_SIZE})`);
    }
    const content = new Uint8Array(inode.size);
    for (let offset = 0; offset < inode.size; offset += BLOCK_SIZE) {
      const block = this.fileBlockNumber(inum, inode, offset / BLOCK_SIZE);
      if (block !== 0) content.set(this.block(block).subarray(0, Math.min(BLOCK_SIZE, inode.size - offset)), offset);
    }
    return content;
  }

  /**
   * Gives a freshly allocated inode its content: allocates data blocks and whatever
   * indirect blocks they need, and sets `size`. The inode must hold no blocks yet.
   */
  writeFile(inum: number, content: Uint8Array): void {
    const inode = this.readInode(inum);
    assert(inode.addrs.every((block) => block === 0), `writeFile: inode ${inum} already has blocks`);
    const blocks = Math.ceil(content.length / BLOCK_SIZE);
    if (blocks > MAX_FILE_BLOCKS) {
      throw new MemvisorError(`${this.name}: ${content.length} bytes is larger than the largest file (${MAX_FILE_BLOCKS * BLOCK_SIZE} bytes)`);
    }
    for (let n = 0; n < blocks; n++) {
      const block = this.allocateBlock();
      this.block(block).set(content.subarray(n * BLOCK_SIZE, (n + 1) * BLOCK_SIZE));
      this.linkFileBlock(inode, n, block);
    }
    inode.size = content.length;
    this.writeInode(inum, inode);
  }

  /** Records `block` as file block `n`, allocating indirect blocks on the way. */
  private linkFileBlock(inode: Inode, n: number, block: number): void {
    if (n < DIRECT_BLOCKS) {
      inode.addrs[n] = block;
      return;
    }
    n -= DIRECT_BLOCKS;
    if (n < NUMBERS_PER_BLOCK) {
      if (inode.addrs[INDIRECT_SLOT] === 0) inode.addrs[INDIRECT_SLOT] = this.allocateBlock();
      this.setBlockNumberAt(inode.addrs[INDIRECT_SLOT]!, n, block);
      return;
    }
    n -= NUMBERS_PER_BLOCK;
    if (inode.addrs[DOUBLY_INDIRECT_SLOT] === 0) inode.addrs[DOUBLY_INDIRECT_SLOT] = this.allocateBlock();
    const doubly = inode.addrs[DOUBLY_INDIRECT_SLOT]!;
    const outer = Math.floor(n / NUMBERS_PER_BLOCK);
    if (this.blockNumberAt(doubly, outer) === 0) this.setBlockNumberAt(doubly, outer, this.allocateBlock());
    this.setBlockNumberAt(this.blockNumberAt(doubly, outer), n % NUMBERS_PER_BLOCK, block);
  }

  // --- directories ------------------------------------------------------------------------

  /** Every slot of a directory, free ones (inum 0) included. */
  readDirectory(inum: number, inode: Inode = this.readInode(inum)): DirectoryEntry[] {
    const content = this.readFile(inum, inode);
    const entries: DirectoryEntry[] = [];
    for (let slot = 0; (slot + 1) * DIRENT_SIZE <= content.length; slot++) {
      entries.push(decodeDirectoryEntry(content.subarray(slot * DIRENT_SIZE, (slot + 1) * DIRENT_SIZE), slot));
    }
    return entries;
  }

  /** The inode a path names, walking from the root ("/" and "" are the root). */
  lookup(path: string): number {
    let inum = ROOT_INODE;
    const walked: string[] = [];
    for (const component of path.split('/').filter((part) => part !== '')) {
      const directory = this.readInode(inum);
      if (directory.type !== T_DIR) throw new MemvisorError(`${this.name}: /${walked.join('/')}: not a directory`);
      const entry = this.readDirectory(inum, directory).find((candidate) => candidate.inum !== 0 && candidate.name === component);
      walked.push(component);
      if (entry === undefined) throw new MemvisorError(`${this.name}: /${walked.join('/')}: no such file or directory`);
      if (entry.inum >= this.layout.ninodes) {
        throw new MemvisorError(`${this.name}: /${walked.join('/')}: entry names inode ${entry.inum}, beyond ninodes ${this.layout.ninodes}`);
      }
      inum = entry.inum;
    }
    return inum;
  }

  /** Overwrites slot `slot` of directory `dirInum` in place (the slot must exist). */
  writeDirectoryEntry(dirInum: number, slot: number, inum: number, name: string): void {
    const inode = this.readInode(dirInum);
    const offset = slot * DIRENT_SIZE;
    assert(offset + DIRENT_SIZE <= inode.size, `directory ${dirInum} has no slot ${slot}`);
    const block = this.fileBlockNumber(dirInum, inode, Math.floor(offset / BLOCK_SIZE));
    assert(block !== 0, `directory ${dirInum}: slot ${slot} is in an unallocated block`);
    this.block(block).set(encodeDirectoryEntry(inum, name), offset % BLOCK_SIZE);
  }

  // --- log --------------------------------------------------------------------------------

  logHeader(): LogHeader {
    const at = this.layout.logstart * BLOCK_SIZE;
    const blocks: number[] = [];
    for (let i = 0; i < LOG_SIZE; i++) blocks.push(this.view.getUint32(at + 4 + i * 4, true));
    return { count: this.view.getUint32(at, true), blocks };
  }

  writeLogHeader(header: LogHeader): void {
    const at = this.layout.logstart * BLOCK_SIZE;
    this.view.setUint32(at, header.count, true);
    for (let i = 0; i < LOG_SIZE; i++) this.view.setUint32(at + 4 + i * 4, header.blocks[i] ?? 0, true);
  }
}

export function decodeDirectoryEntry(bytes: Uint8Array, slot: number): DirectoryEntry {
  const inum = bytes[0]! | (bytes[1]! << 8);
  const nameBytes = bytes.subarray(2, 2 + DIRSIZ);
  const end = nameBytes.indexOf(0);
  return { slot, inum, name: Buffer.from(nameBytes.subarray(0, end === -1 ? DIRSIZ : end)).toString('utf8') };
}

export function encodeDirectoryEntry(inum: number, name: string): Uint8Array {
  const nameBytes = Buffer.from(name, 'utf8');
  assert(nameBytes.length <= DIRSIZ, `directory entry name "${name}" longer than ${DIRSIZ} bytes`);
  assert(inum >= 0 && inum < MAX_INODES, `directory entry inode ${inum} out of range`);
  const bytes = new Uint8Array(DIRENT_SIZE);
  bytes[0] = inum & 0xff;
  bytes[1] = inum >> 8;
  bytes.set(nameBytes, 2);
  return bytes;
}

/** A directory's content: the given entries, in order, 16 bytes each. */
export function encodeDirectory(entries: Array<{ inum: number; name: string }>): Uint8Array {
  const content = new Uint8Array(entries.length * DIRENT_SIZE);
  entries.forEach((entry, slot) => content.set(encodeDirectoryEntry(entry.inum, entry.name), slot * DIRENT_SIZE));
  return content;
}
