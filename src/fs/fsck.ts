/**
 * fsck: checks every invariant guest/FORMAT.md states and reports each violation as one
 * line naming the inode or block. Reading is lenient: a bad pointer is reported and not
 * followed, so one problem does not hide the others.
 *
 * The passes, in order: superblock layout; the log (a committed transaction is
 * installed in a copy first, as the kernel would at boot, and the result is checked);
 * every inode and its block map (ranges, sharing, holes); the directory tree from the
 * root (`.`/`..`, entries, reachability, link counts); the bitmap against the blocks in use.
 */
import {
  BLOCK_SIZE, DIRENT_SIZE, LOG_SIZE, MAX_FILE_BLOCKS, ROOT_INODE, T_DEV, T_DIR, T_FILE, T_FREE,
  typeName, type Inode,
} from './format.js';
import { FsImage, decodeDirectoryEntry, superblockProblems, type DirectoryEntry } from './image.js';

export interface FsckReport {
  /** One line each, naming the inode or block. */
  problems: string[];
  /** Things worth knowing that are not errors (a committed log). */
  notes: string[];
  inodesInUse: number;
  blocksInUse: number;
}

/** Per-inode facts the later passes need. */
interface InodeFacts {
  inode: Inode;
  /** Data blocks the map points at, in range, by file block (directories only). */
  dataBlocks: Map<number, number>;
}

class Checker {
  readonly problems: string[] = [];
  readonly notes: string[] = [];
  /** owner[b]: the inode whose map points at block b, 0 if none. */
  private readonly owner: Int32Array;
  private readonly facts = new Map<number, InodeFacts>();
  private readonly reached: Uint8Array;
  /** Directory entries naming each inode, counted by FORMAT.md's rule. */
  private readonly links: Int32Array;

  constructor(private readonly image: FsImage) {
    this.owner = new Int32Array(image.layout.size);
    this.reached = new Uint8Array(image.layout.ninodes);
    this.links = new Int32Array(image.layout.ninodes);
  }

  private problem(text: string): void {
    this.problems.push(text);
  }

  run(): FsckReport {
    this.checkInodes();
    this.checkTree();
    this.checkLinksAndReachability();
    this.checkBitmap();
    let blocksInUse = this.image.layout.datastart;
    for (let block = this.image.layout.datastart; block < this.image.layout.size; block++) if (this.owner[block] !== 0) blocksInUse++;
    return { problems: this.problems, notes: this.notes, inodesInUse: this.facts.size, blocksInUse };
  }

  // --- inodes and block maps -------------------------------------------------------------

  private checkInodes(): void {
    const inodeZero = this.image.readInode(0);
    if (inodeZero.type !== T_FREE) this.problem(`inode 0: type ${inodeZero.type}, but inode 0 is never used`);
    else this.checkFreeInode(0, inodeZero);
    for (let inum = ROOT_INODE; inum < this.image.layout.ninodes; inum++) {
      const inode = this.image.readInode(inum);
      if (inode.type === T_FREE) {
        this.checkFreeInode(inum, inode);
      } else if (inode.type !== T_DIR && inode.type !== T_FILE && inode.type !== T_DEV) {
        this.problem(`inode ${inum}: bad type ${inode.type} (expected 0 free, 1 dir, 2 file or 3 dev); its blocks were not checked`);
      } else {
        this.facts.set(inum, { inode, dataBlocks: new Map() });
        this.checkInodeFields(inum, inode);
        this.checkBlockMap(inum, inode);
      }
    }
  }

  private checkFreeInode(inum: number, inode: Inode): void {
    const leftovers: string[] = [];
    if (inode.nlink !== 0) leftovers.push(`nlink ${inode.nlink}`);
    if (inode.size !== 0) leftovers.push(`size ${inode.size}`);
    if (inode.addrs.some((block) => block !== 0)) leftovers.push('block pointers');
    if (leftovers.length > 0) this.problem(`inode ${inum}: free (type 0) but has ${leftovers.join(', ')}`);
  }

  private checkInodeFields(inum: number, inode: Inode): void {
    if (inode.size > MAX_FILE_BLOCKS * BLOCK_SIZE) {
      this.problem(`inode ${inum}: size ${inode.size} is larger than the largest file (${MAX_FILE_BLOCKS * BLOCK_SIZE})`);
    }
    if (inode.type === T_DIR && inode.size % DIRENT_SIZE !== 0) {
      this.problem(`inode ${inum} (dir): size ${inode.size} is not a multiple of ${DIRENT_SIZE}`);
    }
    if (inode.type === T_DEV && (inode.size !== 0 || inode.addrs.some((block) => block !== 0))) {
      this.problem(`inode ${inum} (dev): a device has size ${inode.size} and block pointers; expected none`);
    }
  }

  private checkBlockMap(inum: number, inode: Inode): void {
    const facts = this.facts.get(inum)!;
    const fileBlocks = Math.min(Math.ceil(inode.size / BLOCK_SIZE), MAX_FILE_BLOCKS);
    const present = new Uint8Array(fileBlocks);
    let badPointers = 0;
    this.image.forEachBlockPointer(inode, (pointer) => {
      const { block, where } = pointer;
      if (!this.image.isDataBlock(block)) {
        this.problem(`inode ${inum}: ${where} = block ${block}, not in the data region (${this.image.regionOf(block)})`);
        badPointers++;
        return false;
      }
      if (pointer.fileBlock !== undefined) {
        if (pointer.fileBlock < fileBlocks) present[pointer.fileBlock] = 1;
        if (inode.type === T_DIR) facts.dataBlocks.set(pointer.fileBlock, block);
      }
      const earlier = this.owner[block]!;
      if (earlier !== 0) {
        this.problem(earlier === inum
          ? `block ${block}: used twice by inode ${inum} (again at ${where})`
          : `block ${block}: shared by inode ${earlier} and inode ${inum} (${where})`);
        return false;
      }
      this.owner[block] = inum;
      return true;
    });
    if (badPointers > 0) return; // holes behind a bad pointer are that pointer's problem
    const holes = present.reduce((count, bit) => count + (bit === 0 ? 1 : 0), 0);
    if (holes > 0) {
      this.problem(`inode ${inum}: ${holes} file block(s) within its size ${inode.size} not allocated (first: file block ${present.indexOf(0)})`);
    }
  }

  // --- the directory tree ----------------------------------------------------------------

  /**
   * A directory's entries read through the in-range pointers only: the slots of its first
   * block (where "." and ".." must be, read as zeros if it has none) and of each block it
   * has. A hole holds only free slots, so a damaged size of 64 MiB costs no more than the
   * blocks that exist (it took seconds to decode millions of empty slots).
   */
  private directoryEntries(inum: number): DirectoryEntry[] {
    const { inode, dataBlocks } = this.facts.get(inum)!;
    const size = Math.min(inode.size, MAX_FILE_BLOCKS * BLOCK_SIZE);
    const fileBlocks = [...new Set([0, ...dataBlocks.keys()])].filter((n) => n * BLOCK_SIZE < size).sort((a, b) => a - b);
    const entries: DirectoryEntry[] = [];
    const slotsPerBlock = BLOCK_SIZE / DIRENT_SIZE;
    for (const fileBlock of fileBlocks) {
      const block = dataBlocks.get(fileBlock);
      const content = block === undefined ? new Uint8Array(BLOCK_SIZE) : this.image.block(block);
      for (let i = 0; i < slotsPerBlock; i++) {
        const slot = fileBlock * slotsPerBlock + i;
        if ((slot + 1) * DIRENT_SIZE > size) break;
        entries.push(decodeDirectoryEntry(content.subarray(i * DIRENT_SIZE, (i + 1) * DIRENT_SIZE), slot));
      }
    }
    return entries;
  }

  private checkTree(): void {
    const root = this.facts.get(ROOT_INODE);
    if (root === undefined || root.inode.type !== T_DIR) {
      this.problem(`inode ${ROOT_INODE} (root): ${root === undefined ? 'not allocated' : `type ${typeName(root.inode.type)}`}, expected a directory; the tree was not checked`);
      return;
    }
    this.reached[ROOT_INODE] = 1;
    const parentOf = new Map<number, number>([[ROOT_INODE, ROOT_INODE]]);
    const queue = [ROOT_INODE];
    while (queue.length > 0) {
      const directory = queue.shift()!;
      const parent = parentOf.get(directory)!;
      for (const child of this.checkDirectory(directory, parent)) {
        if (this.reached[child.inum]) {
          const where = child.inum === ROOT_INODE ? 'it is the root' : `also named from directory inode ${parentOf.get(child.inum)}`;
          this.problem(`inode ${child.inum} (dir): reachable twice: named "${child.name}" in directory inode ${directory}, and ${where}`);
          continue;
        }
        this.reached[child.inum] = 1;
        parentOf.set(child.inum, directory);
        queue.push(child.inum);
      }
    }
  }

  /** Checks one directory's entries; returns the subdirectories it names. */
  private checkDirectory(directory: number, parent: number): DirectoryEntry[] {
    const entries = this.directoryEntries(directory);
    const label = `inode ${directory} (dir)`;
    const size = this.facts.get(directory)!.inode.size;
    if (size < 2 * DIRENT_SIZE) this.problem(`${label}: size ${size}, too small for "." and ".."`);
    const dot = entries[0];
    if (dot !== undefined && (dot.name !== '.' || dot.inum !== directory)) {
      this.problem(`${label}: first entry is "${dot.name}" -> inode ${dot.inum}, expected "." -> inode ${directory}`);
    }
    const dotdot = entries[1];
    if (dotdot !== undefined && (dotdot.name !== '..' || dotdot.inum !== parent)) {
      this.problem(`${label}: second entry is "${dotdot.name}" -> inode ${dotdot.inum}, expected ".." -> inode ${parent} (its parent)`);
    }
    const subdirectories: DirectoryEntry[] = [];
    const slotOfName = new Map<string, number>();
    for (const entry of entries) {
      if (entry.inum === 0) continue;
      const first = slotOfName.get(entry.name);
      if (first !== undefined) this.problem(`${label}: two entries named "${entry.name}" (slots ${first} and ${entry.slot}); a lookup finds only the first`);
      else slotOfName.set(entry.name, entry.slot);
      const own = entry.slot < 2 && entry.inum === directory && (entry.name === '.' || entry.name === '..');
      if (entry.slot >= 2) {
        if (entry.name === '.' || entry.name === '..') this.problem(`${label}: slot ${entry.slot} is named "${entry.name}", which only slots 0 and 1 may be`);
        else if (entry.name === '' || entry.name.includes('/')) this.problem(`${label}: slot ${entry.slot} has a bad name "${entry.name}"`);
      }
      if (entry.inum >= this.image.layout.ninodes) {
        this.problem(`${label}: entry "${entry.name}" names inode ${entry.inum}, beyond ninodes ${this.image.layout.ninodes}`);
        continue;
      }
      const target = this.facts.get(entry.inum);
      if (target === undefined) {
        const type = this.image.readInode(entry.inum).type;
        if (type === T_FREE) this.problem(`${label}: entry "${entry.name}" names inode ${entry.inum}, which is free`);
        continue; // a bad type was reported with the inode
      }
      if (!own) this.links[entry.inum]!++;
      if (entry.slot < 2) continue; // "." and ".." are checked above, not followed
      if (target.inode.type === T_DIR) subdirectories.push(entry);
      else this.reached[entry.inum] = 1;
    }
    return subdirectories;
  }

  private checkLinksAndReachability(): void {
    for (const [inum, { inode }] of this.facts) {
      if (!this.reached[inum]) {
        this.problem(`inode ${inum} (${typeName(inode.type)}): allocated but not reachable from the root directory`);
        continue;
      }
      // The root has no entry in a parent: it counts 1 for itself.
      const expected = this.links[inum]! + (inum === ROOT_INODE ? 1 : 0);
      if (inode.nlink !== expected) {
        this.problem(`inode ${inum} (${typeName(inode.type)}): nlink is ${inode.nlink}, expected ${expected}`);
      }
    }
  }

  // --- bitmap --------------------------------------------------------------------------------

  private checkBitmap(): void {
    const { datastart, size } = this.image.layout;
    for (let block = 0; block < size; block++) {
      const inUse = block < datastart || this.owner[block] !== 0;
      const marked = this.image.isBlockInUse(block);
      if (inUse && !marked) {
        const user = block < datastart ? `metadata, ${this.image.regionOf(block).replace(/^in /, '')}` : `by inode ${this.owner[block]}`;
        this.problem(`block ${block}: in use (${user}) but free in the bitmap`);
      } else if (!inUse && marked) {
        this.problem(`block ${block}: marked in use in the bitmap, but nothing uses it`);
      }
    }
  }
}

/**
 * The log pass. Returns the image to check: the same one, or, when a transaction is
 * committed, a copy with it installed (what the kernel will see after boot).
 */
function checkLog(image: FsImage, problems: string[], notes: string[]): FsImage {
  const { logstart, inodestart, size } = image.layout;
  const header = image.logHeader();
  const label = `block ${logstart} (log header)`;
  if (header.count === 0) return image;
  if (header.count > LOG_SIZE) {
    problems.push(`${label}: n is ${header.count}, more than LOGSIZE (${LOG_SIZE}); not installed`);
    return image;
  }
  const homes = header.blocks.slice(0, header.count);
  let homesValid = true;
  homes.forEach((home, index) => {
    if (home < inodestart || home >= size) {
      problems.push(`${label}: block[${index}] = ${home} (${image.regionOf(home)}); the log may only write inode, bitmap and data blocks`);
      homesValid = false;
    }
  });
  if (!homesValid) return image;
  notes.push(`${label}: a committed transaction of ${header.count} block(s) is not yet installed (the kernel installs it at boot); checked the file system as installed`);
  const installed = image.bytes.slice();
  homes.forEach((home, index) => {
    installed.set(image.block(logstart + 1 + index), home * BLOCK_SIZE);
  });
  installed.fill(0, logstart * BLOCK_SIZE, logstart * BLOCK_SIZE + 4); // n = 0, as after recovery
  return FsImage.open(installed, image.name);
}

/**
 * Checks the image. A file that is not a MemV6 image at all (magic, length) is a
 * MemvisorError from FsImage.open; everything else is a line in `problems`.
 */
export function checkFileSystem(bytes: Uint8Array, name: string): FsckReport {
  const opened = FsImage.open(bytes, name, { allowBadLayout: true });
  const layoutProblems = superblockProblems(opened.superblock);
  if (layoutProblems.length > 0) return { problems: layoutProblems, notes: [], inodesInUse: 0, blocksInUse: 0 };
  const problems: string[] = [];
  const notes: string[] = [];
  const image = checkLog(opened, problems, notes);
  const report = new Checker(image).run();
  return { ...report, problems: [...problems, ...report.problems], notes: [...notes, ...report.notes] };
}
