// The file system (guest/FORMAT.md): the block bitmap, inodes with direct, indirect and
// doubly-indirect block maps, file contents, directories and path names. Every change
// to the disk goes through the log (log_write), inside begin_op/end_op.
#include "types.h"
#include "param.h"
#include "stat.h"
#include "mmu.h"
#include "proc.h"
#include "fs.h"
#include "buf.h"
#include "file.h"
#include "defs.h"
#include "sleeplock.h"

#define min(a, b) ((a) < (b) ? (a) : (b))
static struct superblock sb;

void
readsb(int dev, struct superblock *out)
{
  struct buf *b = bread(dev, 1);
  memmove(out, b->data, sizeof(*out));
  brelse(b);
}

// The first data block: after the log, the inode blocks and the bitmap.
static uint
datastart(void)
{
  return sb.bmapstart + (sb.size + BPB - 1) / BPB;
}

// The superblock must describe the layout guest/FORMAT.md gives (the checks of
// `memvisor fs fsck`), within what the IDE driver can address: a damaged one stops the
// boot with its reason instead of sending the file system outside its regions.
static char *
superblock_problem(void)
{
  if (sb.magic != FSMAGIC) return "hdb is not a MemV6 file system (bad magic)";
  if (sb.logstart != 2 || sb.nlog != LOGSIZE + 1) return "bad superblock: the log is not at block 2 with LOGSIZE + 1 blocks";
  if (sb.ninodes < 2 || sb.ninodes > 65536) return "bad superblock: ninodes is not 2..65536";
  if (sb.inodestart != sb.logstart + sb.nlog) return "bad superblock: inodestart is not logstart + nlog";
  if (sb.bmapstart != sb.inodestart + (sb.ninodes + IPB - 1) / IPB) return "bad superblock: bmapstart is not after the inode blocks";
  if (sb.size >= (1 << 27)) return "bad superblock: size is beyond what 28-bit sector numbers reach";
  if (datastart() >= sb.size || sb.nblocks != sb.size - datastart()) return "bad superblock: size and nblocks disagree with the regions";
  return 0;
}

void
iinit(int dev)
{
  readsb(dev, &sb);
  char *problem = superblock_problem();
  if (problem) panic(problem);
  cprintf("fs: %d blocks, %d inodes, log at %d, inodes at %d, bitmap at %d\n",
          sb.size, sb.ninodes, sb.logstart, sb.inodestart, sb.bmapstart);
}

// ---- Blocks ----
// Bit b of the bitmap is set while block b is in use (the metadata blocks at the start
// of the disk are marked in use by mkfs).

// The bitmap byte that holds block bno's bit, in the bitmap block map, and the bit.
static uchar *
bitmap_byte(struct buf *map, uint bno, uchar *bit)
{
  *bit = 1 << (bno % 8);
  return &map->data[(bno % BPB) / 8];
}

// Where the search for a free block starts: every block below bhint is in use (balloc
// moves it past the block it takes, bfree back to the block it frees), so a search does
// not walk the bits of the metadata and of every file written before, one by one, at
// each allocation. bfrees counts bfree calls: a balloc that slept reading a bitmap block
// while a block was freed leaves bhint where it is (the freed block may be below the
// one it found).
static uint bhint, bfrees;

// A free block, marked in use and zeroed; 0 if the disk is full.
static uint
balloc(uint dev)
{
  struct buf *map = 0;
  uint frees = bfrees;
  for (uint bno = bhint; bno < sb.size; bno++) {
    if (!map || bno % BPB == 0) {  // the first, or the next, bitmap block
      if (map) brelse(map);
      map = bread(dev, BBLOCK(bno, sb));
    }
    uchar bit, *byte = bitmap_byte(map, bno, &bit);
    if (bit == 1 && *byte == 0xFF) {  // eight blocks in use (BPB is a multiple of 8)
      bno += 7;
      continue;
    }
    if (*byte & bit) continue;
    *byte |= bit;
    log_write(map);
    brelse(map);
    if (bfrees == frees) bhint = bno + 1;
    struct buf *b = bread(dev, bno);  // no stale data in a new block of a file
    memset(b->data, 0, BSIZE);
    log_write(b);
    brelse(b);
    return bno;
  }
  if (map) brelse(map);
  return 0;
}

static void
bfree(int dev, uint bno)
{
  struct buf *map = bread(dev, BBLOCK(bno, sb));
  uchar bit, *byte = bitmap_byte(map, bno, &bit);
  if (!(*byte & bit)) panic("bfree: block already free");
  *byte &= ~bit;
  log_write(map);
  brelse(map);
  bfrees++;
  if (bno < bhint) bhint = bno;
}

// ---- Inodes ----
// The inode cache holds each inode in use once; ref counts the pointers to an entry
// (open files, current directories, path walks in progress). busy is the entry's sleep
// lock, held while its fields are used; valid says whether `disk` has been read.

static struct inode icache[NINODE];

// The cache entry for (dev, inum), with one more reference; not locked, not read.
static struct inode *
iget(uint dev, uint inum)
{
  struct inode *ip, *unused = 0;
  pushcli();
  for (ip = icache; ip < &icache[NINODE]; ip++) {
    if (ip->ref > 0 && ip->dev == dev && ip->inum == inum) break;
    if (!unused && ip->ref == 0) unused = ip;
  }
  if (ip == &icache[NINODE]) {  // not cached: take over an unused entry
    if (!unused) panic("iget: inode cache full");
    ip = unused;
    ip->dev = dev;
    ip->inum = inum;
    ip->valid = 0;
    ip->busy = 0;
  }
  ip->ref++;
  popcli();
  return ip;
}

struct inode *
idup(struct inode *ip)
{
  pushcli();
  ip->ref++;
  popcli();
  return ip;
}

// The disk inode inum inside its inode block, which *bp holds afterwards.
static struct dinode *
disk_inode(uint dev, uint inum, struct buf **bp)
{
  *bp = bread(dev, IBLOCK(inum, sb));
  return (struct dinode *)(*bp)->data + inum % IPB;
}

// A free disk inode, given the type (so it is no longer free); its cache entry,
// unlocked, or 0 if every inode is in use.
struct inode *
ialloc(uint dev, short type)
{
  for (uint inum = 1; inum < sb.ninodes; inum++) {
    struct buf *b;
    struct dinode *dip = disk_inode(dev, inum, &b);
    int free = dip->type == 0;
    if (free) {
      memset(dip, 0, sizeof(*dip));
      dip->type = type;
      log_write(b);
    }
    brelse(b);
    if (free) return iget(dev, inum);
  }
  return 0;
}

// Write ip's fields (locked, changed) to its disk inode, through the log.
void
iupdate(struct inode *ip)
{
  struct buf *b;
  *disk_inode(ip->dev, ip->inum, &b) = ip->disk;
  log_write(b);
  brelse(b);
}

// Lock ip, reading its fields from disk the first time.
void
ilock(struct inode *ip)
{
  if (!ip || ip->ref < 1) panic("ilock: no reference");
  ACQUIRE_BUSY(ip->busy, ip);
  if (ip->valid) return;
  struct buf *b;
  if (ip->inum == 0 || ip->inum >= sb.ninodes) panic("ilock: a directory names an inode beyond ninodes");
  ip->disk = *disk_inode(ip->dev, ip->inum, &b);
  brelse(b);
  if (ip->disk.type == 0) panic("ilock: a free inode");
  if (ip->disk.type < T_DIR || ip->disk.type > T_DEV) panic("ilock: an inode of no known type");
  if (ip->disk.size > MAXFILE * BSIZE) panic("ilock: an inode larger than the largest file");
  ip->valid = 1;
}

void
iunlock(struct inode *ip)
{
  if (!ip || !ip->busy || ip->ref < 1) panic("iunlock: not locked");
  RELEASE_BUSY(ip->busy, ip);
}

static void itrunc(struct inode *ip);

// Drop a reference. When the last reference to an inode that no directory names any
// more goes, the inode and its blocks are freed on disk: so iput runs inside a
// transaction.
void
iput(struct inode *ip)
{
  pushcli();
  int last = ip->ref == 1;
  popcli();
  if (last && ip->valid && ip->disk.nlink == 0) {
    // Nothing else can reach it now: no name leads to it, and this is the only reference.
    ACQUIRE_BUSY(ip->busy, ip);
    itrunc(ip);
    ip->disk.type = 0;
    iupdate(ip);
    ip->valid = 0;
    RELEASE_BUSY(ip->busy, ip);
  }
  pushcli();
  ip->ref--;
  popcli();
}

void
iunlockput(struct inode *ip)
{
  iunlock(ip);
  iput(ip);
}

// Is ip (unlocked) a directory?
int
isdir(struct inode *ip)
{
  ilock(ip);
  int dir = ip->disk.type == T_DIR;
  iunlock(ip);
  return dir;
}

void
stati(struct inode *ip, struct stat *st)
{
  st->dev = ip->dev;
  st->ino = ip->inum;
  st->type = ip->disk.type;
  st->nlink = ip->disk.nlink;
  st->size = ip->disk.size;
}

// ---- Block maps ----

// A block number read from an inode or an indirect block: 0 (none), or a data block.
// Anything else is a damaged disk; following it would read or free the superblock, the
// log, the inodes or the bitmap as if they were a file's.
static uint
data_block(uint bno)
{
  if (bno != 0 && (bno < datastart() || bno >= sb.size)) panic("file system: an inode points outside the data blocks");
  return bno;
}

// Entry index of the indirect block `table` (a block number, allocated if 0 and
// alloc is set); returns the block number stored there, allocating it if asked.
static uint
indirect_entry(struct inode *ip, uint *table, uint index, int alloc)
{
  if (data_block(*table) == 0) {
    if (!alloc || (*table = balloc(ip->dev)) == 0) return 0;
  }
  struct buf *b = bread(ip->dev, *table);
  uint *a = (uint *)b->data;
  uint addr = data_block(a[index]);
  if (addr == 0 && alloc && (addr = balloc(ip->dev)) != 0) {
    a[index] = addr;
    log_write(b);
  }
  brelse(b);
  return addr;
}

// The disk block holding block bn of the file, allocating as needed if alloc is set
// (writes); 0 if there is none, or if the disk is full.
static uint
bmap(struct inode *ip, uint bn, int alloc)
{
  uint *addrs = ip->disk.addrs;
  if (bn < NDIRECT) {
    if (data_block(addrs[bn]) == 0 && alloc) addrs[bn] = balloc(ip->dev);
    return addrs[bn];
  }
  bn -= NDIRECT;
  if (bn < NINDIRECT)
    return indirect_entry(ip, &addrs[NDIRECT], bn, alloc);
  bn -= NINDIRECT;
  if (bn < NINDIRECT * NINDIRECT) {
    uint middle = indirect_entry(ip, &addrs[NDIRECT + 1], bn / NINDIRECT, alloc);
    if (middle == 0) return 0;
    return indirect_entry(ip, &middle, bn % NINDIRECT, alloc);
  }
  panic("bmap: block beyond the largest file");
}

// Free every block of an indirect block (depth 1) or doubly-indirect block (depth 2).
static void
free_indirect(struct inode *ip, uint blockno, int depth)
{
  struct buf *b = bread(ip->dev, data_block(blockno));
  uint *a = (uint *)b->data;
  for (int i = 0; i < NINDIRECT; i++) {
    if (!data_block(a[i])) continue;
    if (depth > 1) free_indirect(ip, a[i], depth - 1);
    else bfree(ip->dev, a[i]);
  }
  brelse(b);
  bfree(ip->dev, blockno);
}

// Discard the file's content.
static void
itrunc(struct inode *ip)
{
  uint *addrs = ip->disk.addrs;
  for (int i = 0; i < NDIRECT; i++) {
    if (data_block(addrs[i])) {
      bfree(ip->dev, addrs[i]);
      addrs[i] = 0;
    }
  }
  if (addrs[NDIRECT]) free_indirect(ip, addrs[NDIRECT], 1);
  if (addrs[NDIRECT + 1]) free_indirect(ip, addrs[NDIRECT + 1], 2);
  addrs[NDIRECT] = addrs[NDIRECT + 1] = 0;
  ip->disk.size = 0;
  iupdate(ip);
}

// ---- Contents ----
// Data moves between the buffer cache and a memref directly: a read system call's bytes
// go from the cached block to the user's buffer through copyout, with no copy between.

// The device functions of a device inode, or 0 if its major number has none.
static struct devsw *
device(struct inode *ip)
{
  return ip->disk.major >= 0 && ip->disk.major < NDEV ? &devsw[ip->disk.major] : 0;
}

// Read n bytes at offset off of ip (locked) into dst: the number read (short at the
// end of the file), or -1.
int
readi(struct inode *ip, struct memref dst, uint off, uint n)
{
  if (ip->disk.type == T_DEV) {
    struct devsw *dev = device(ip);
    return dev && dev->read ? dev->read(ip, dst, n) : -1;
  }
  uint size = ip->disk.size;
  if (off > size || off + n < off) return -1;
  n = min(n, size - off);
  for (uint done = 0, chunk; done < n; done += chunk, off += chunk) {
    uint bno = bmap(ip, off / BSIZE, 0);
    if (bno == 0) panic("readi: file block missing");
    struct buf *b = bread(ip->dev, bno);
    chunk = min(n - done, BSIZE - off % BSIZE);
    int r = deliver(&dst, b->data + off % BSIZE, chunk);
    brelse(b);
    if (r < 0) return -1;
  }
  return n;
}

// Read the n bytes at off of ip (locked, a file; at most READ_MAX blocks) into the kernel
// pages dst[0], dst[1]... (PGSIZE bytes each, in order), taking each block's buffer once:
// the blocks not cached come in with one disk command per run of consecutive blocks
// (bgetblocks). Returns the bytes read (fewer than n if the file is shorter, or if buffers
// ran short), or -1.
int
ireadpages(struct inode *ip, uint off, uint n, char **dst)
{
  if (ip->disk.type == T_DEV || off > ip->disk.size || off + n < off) return -1;
  n = min(n, ip->disk.size - off);
  if (n == 0) return 0;
  uint first = off / BSIZE, k = (off + n - 1) / BSIZE - first + 1, blocks[READ_MAX];
  if (k > READ_MAX) panic("ireadpages: more than one read");
  for (uint i = 0; i < k; i++)
    if ((blocks[i] = bmap(ip, first + i, 0)) == 0) panic("ireadpages: file block missing");
  struct buf *held[READ_MAX];
  int got = bgetblocks(ip->dev, blocks, k, held);
  uint done = 0;
  for (int i = 0; i < got; i++) {
    uint start = (first + i) * BSIZE;                        // the block's file offset
    uint from = start < off ? off - start : 0, to = min(BSIZE, off + n - start);
    for (uint at = from; at < to;) {  // a block may straddle two pages
      uint d = start + at - off, chunk = min(to - at, PGSIZE - d % PGSIZE);
      memmove(dst[d / PGSIZE] + d % PGSIZE, held[i]->data + at, chunk);
      at += chunk;
    }
    done = start + to - off;
    brelse(held[i]);
  }
  return done;
}

// Write n bytes from src at offset off of ip (locked), growing the file if they reach
// past its end: the number written (short if the disk fills), or -1.
int
writei(struct inode *ip, struct memref src, uint off, uint n)
{
  if (ip->disk.type == T_DEV) {
    struct devsw *dev = device(ip);
    return dev && dev->write ? dev->write(ip, src, n) : -1;
  }
  if (off > ip->disk.size || off + n < off || off + n > MAXFILE * BSIZE) return -1;
  uint done = 0;
  while (done < n) {
    uint bno = bmap(ip, off / BSIZE, 1);
    if (bno == 0) break;  // the disk is full
    struct buf *b = bread(ip->dev, bno);
    uint chunk = min(n - done, BSIZE - off % BSIZE);
    int r = collect(b->data + off % BSIZE, &src, chunk);
    log_write(b);  // even after a failed collect: part of the block may have changed
    brelse(b);
    if (r < 0) break;
    done += chunk;
    off += chunk;
  }
  if (off > ip->disk.size) ip->disk.size = off;
  iupdate(ip);  // bmap may have added blocks even where the size stayed
  return done > 0 || n == 0 ? (int)done : -1;
}

// ---- Directories ----
// A directory is a file of struct dirent; an entry with inum 0 is free.

int
namecmp(const char *s, const char *t)
{
  return strncmp(s, t, DIRSIZ);
}

// The entry at offset off of directory dp (locked).
static void
read_entry(struct inode *dp, uint off, struct dirent *de)
{
  if (readi(dp, kmem(de), off, sizeof(*de)) != sizeof(*de)) panic("directory: short read");
}

// The inode that name names in directory dp (locked), not locked itself, and the
// entry's offset in *poff; 0 if there is none.
struct inode *
dirlookup(struct inode *dp, char *name, uint *poff)
{
  if (dp->disk.type != T_DIR) panic("dirlookup: not a directory");
  struct dirent de;
  for (uint off = 0; off < dp->disk.size; off += sizeof(de)) {
    read_entry(dp, off, &de);
    if (de.inum == 0 || namecmp(name, de.name) != 0) continue;
    if (poff) *poff = off;
    return iget(dp->dev, de.inum);
  }
  return 0;
}

// Add the entry (name, inum) to directory dp (locked), in the first free slot or at
// the end; -1 if name is taken or the disk is full.
int
dirlink(struct inode *dp, char *name, uint inum)
{
  struct inode *existing = dirlookup(dp, name, 0);
  if (existing) {
    iput(existing);
    return -1;
  }
  struct dirent de;
  uint off = 0;
  for (; off < dp->disk.size; off += sizeof(de)) {
    read_entry(dp, off, &de);
    if (de.inum == 0) break;
  }
  strncpy(de.name, name, DIRSIZ);
  de.inum = inum;
  return writei(dp, kmem(&de), off, sizeof(de)) == sizeof(de) ? 0 : -1;
}

// Free the entry at offset off of directory dp (locked).
void
dirremove(struct inode *dp, uint off)
{
  struct dirent de;
  memset(&de, 0, sizeof(de));
  if (writei(dp, kmem(&de), off, sizeof(de)) != sizeof(de)) panic("dirremove: write");
}

// Does directory dp (locked) hold nothing but "." and ".."?
int
dirempty(struct inode *dp)
{
  struct dirent de;
  for (uint off = 2 * sizeof(de); off < dp->disk.size; off += sizeof(de)) {
    read_entry(dp, off, &de);
    if (de.inum != 0) return 0;
  }
  return 1;
}

// ---- Path names ----
// A path is a list of elements separated by slashes, looked up one directory at a
// time, from the root if it starts with '/', else from the current directory.

// Take the next element off the front of *path into name (an element longer than
// DIRSIZ is cut to its first DIRSIZ bytes, which then carry no NUL). 0 if none is left.
static int
next_element(char **path, char *name)
{
  char *s = *path;
  while (*s == '/') s++;
  if (*s == 0) return 0;
  char *start = s;
  while (*s != '/' && *s != 0) s++;
  uint len = s - start;
  memmove(name, start, min(len, DIRSIZ));
  if (len < DIRSIZ) name[len] = 0;
  *path = s;
  return 1;
}

// Where a walk along path begins (a new reference).
static struct inode *
start_of(char *path)
{
  return *path == '/' ? iget(FSDEV, ROOTINO) : idup(myproc()->cwd);
}

// One step of a walk: the inode that name names in dir (a new reference), or 0 if dir is
// not a directory or has no such entry. The reference to dir is given up either way.
static struct inode *
step(struct inode *dir, char *name)
{
  ilock(dir);
  struct inode *next = dir->disk.type == T_DIR ? dirlookup(dir, name, 0) : 0;
  iunlockput(dir);  // before next is locked: "." names dir itself
  return next;
}

// The inode path names (a reference, unlocked), or 0.
struct inode *
namei(char *path)
{
  char name[DIRSIZ];
  struct inode *ip = start_of(path);
  while (ip && next_element(&path, name))
    ip = step(ip, name);
  return ip;
}

// The directory that holds path's last element (a reference, unlocked), with that
// element in name; 0 if there is no such directory, or no last element (as for "/").
struct inode *
nameiparent(char *path, char *name)
{
  char following[DIRSIZ];
  struct inode *dir = start_of(path);
  if (!next_element(&path, name)) {
    iput(dir);
    return 0;
  }
  while (dir && next_element(&path, following)) {  // name was not the last: go into it
    dir = step(dir, name);
    memmove(name, following, DIRSIZ);
  }
  if (dir && !isdir(dir)) {
    iput(dir);
    return 0;
  }
  return dir;
}
