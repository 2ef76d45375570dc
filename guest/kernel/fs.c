// The file system (guest/FORMAT.md): blocks, inodes with direct, indirect and
// doubly-indirect block maps, directories and path names. Every change to the disk
// goes through the log (log_write), inside begin_op/end_op.
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

// ---- Blocks ----

static void
bzero(int dev, int bno)
{
  struct buf *b = bread(dev, bno);
  memset(b->data, 0, BSIZE);
  log_write(b);
  brelse(b);
}

// A zeroed free block, now marked in use.
static uint
balloc(uint dev)
{
  for (uint base = 0; base < sb.size; base += BPB) {
    struct buf *b = bread(dev, BBLOCK(base, sb));
    for (uint bi = 0; bi < BPB && base + bi < sb.size; bi++) {
      uchar mask = 1 << (bi % 8);
      if (!(b->data[bi / 8] & mask)) {
        b->data[bi / 8] |= mask;
        log_write(b);
        brelse(b);
        bzero(dev, base + bi);
        return base + bi;
      }
    }
    brelse(b);
  }
  return 0;  // the disk is full
}

static void
bfree(int dev, uint blockno)
{
  struct buf *b = bread(dev, BBLOCK(blockno, sb));
  uint bi = blockno % BPB;
  uchar mask = 1 << (bi % 8);
  if (!(b->data[bi / 8] & mask)) panic("bfree: block already free");
  b->data[bi / 8] &= ~mask;
  log_write(b);
  brelse(b);
}

// ---- Inodes ----
// The inode cache holds each in-use inode once. ref counts pointers to the cached
// entry; busy is its sleep lock; valid says whether the disk copy has been read.

static struct inode icache[NINODE];

void
iinit(int dev)
{
  readsb(dev, &sb);
  if (sb.magic != FSMAGIC) panic("hdb is not a MemV6 file system (bad magic)");
  cprintf("fs: %d blocks, %d inodes, log at %d, inodes at %d, bitmap at %d\n",
          sb.size, sb.ninodes, sb.logstart, sb.inodestart, sb.bmapstart);
}

static struct inode *
iget(uint dev, uint inum)
{
  struct inode *empty = 0;
  pushcli();
  for (struct inode *ip = icache; ip < &icache[NINODE]; ip++) {
    if (ip->ref > 0 && ip->dev == dev && ip->inum == inum) {
      ip->ref++;
      popcli();
      return ip;
    }
    if (!empty && ip->ref == 0) empty = ip;
  }
  if (!empty) panic("iget: no inodes");
  empty->dev = dev;
  empty->inum = inum;
  empty->ref = 1;
  empty->valid = 0;
  empty->busy = 0;
  popcli();
  return empty;
}

// A free inode of the given type, allocated on disk; returned unlocked, or 0.
struct inode *
ialloc(uint dev, short type)
{
  for (uint inum = 1; inum < sb.ninodes; inum++) {
    struct buf *b = bread(dev, IBLOCK(inum, sb));
    struct dinode *dip = (struct dinode *)b->data + inum % IPB;
    if (dip->type == 0) {
      memset(dip, 0, sizeof(*dip));
      dip->type = type;
      log_write(b);
      brelse(b);
      return iget(dev, inum);
    }
    brelse(b);
  }
  return 0;
}

// Write a changed in-memory inode to disk (through the log).
void
iupdate(struct inode *ip)
{
  struct buf *b = bread(ip->dev, IBLOCK(ip->inum, sb));
  struct dinode *dip = (struct dinode *)b->data + ip->inum % IPB;
  dip->type = ip->type;
  dip->major = ip->major;
  dip->minor = ip->minor;
  dip->nlink = ip->nlink;
  dip->size = ip->size;
  memmove(dip->addrs, ip->addrs, sizeof(ip->addrs));
  log_write(b);
  brelse(b);
}

struct inode *
idup(struct inode *ip)
{
  pushcli();
  ip->ref++;
  popcli();
  return ip;
}

// Lock ip, reading it from disk the first time.
void
ilock(struct inode *ip)
{
  if (!ip || ip->ref < 1) panic("ilock");
  ACQUIRE_BUSY(ip->busy, ip);
  if (!ip->valid) {
    struct buf *b = bread(ip->dev, IBLOCK(ip->inum, sb));
    struct dinode *dip = (struct dinode *)b->data + ip->inum % IPB;
    ip->type = dip->type;
    ip->major = dip->major;
    ip->minor = dip->minor;
    ip->nlink = dip->nlink;
    ip->size = dip->size;
    memmove(ip->addrs, dip->addrs, sizeof(ip->addrs));
    brelse(b);
    ip->valid = 1;
    if (ip->type == 0) panic("ilock: inode has no type");
  }
}

void
iunlock(struct inode *ip)
{
  if (!ip || !ip->busy || ip->ref < 1) panic("iunlock");
  RELEASE_BUSY(ip->busy, ip);
}

static void itrunc(struct inode *ip);

// Drop a reference. The last reference to an inode with no links frees it on disk,
// so iput must run inside a transaction.
void
iput(struct inode *ip)
{
  ACQUIRE_BUSY(ip->busy, ip);
  if (ip->valid && ip->nlink == 0) {
    pushcli();
    int r = ip->ref;
    popcli();
    if (r == 1) {
      itrunc(ip);
      ip->type = 0;
      iupdate(ip);
      ip->valid = 0;
    }
  }
  RELEASE_BUSY(ip->busy, ip);
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

// ---- Block maps ----

// Entry index of the indirect block `table` (a block number, allocated if 0 and
// alloc is set); returns the block number stored there, allocating it if asked.
static uint
indirect_entry(struct inode *ip, uint *table, uint index, int alloc)
{
  if (*table == 0) {
    if (!alloc || (*table = balloc(ip->dev)) == 0) return 0;
  }
  struct buf *b = bread(ip->dev, *table);
  uint *a = (uint *)b->data;
  uint addr = a[index];
  if (addr == 0 && alloc && (addr = balloc(ip->dev)) != 0) {
    a[index] = addr;
    log_write(b);
  }
  brelse(b);
  return addr;
}

// The disk block holding block bn of the file, allocating as needed; 0 if the
// disk is full.
static uint
bmap(struct inode *ip, uint bn)
{
  if (bn < NDIRECT) {
    if (ip->addrs[bn] == 0) ip->addrs[bn] = balloc(ip->dev);
    return ip->addrs[bn];
  }
  bn -= NDIRECT;
  if (bn < NINDIRECT)
    return indirect_entry(ip, &ip->addrs[NDIRECT], bn, 1);
  bn -= NINDIRECT;
  if (bn < NINDIRECT * NINDIRECT) {
    uint middle = indirect_entry(ip, &ip->addrs[NDIRECT + 1], bn / NINDIRECT, 1);
    if (middle == 0) return 0;
    return indirect_entry(ip, &middle, bn % NINDIRECT, 1);
  }
  panic("bmap: block beyond the largest file");
}

// Free every block of an indirect block (depth 1) or doubly-indirect block (depth 2).
static void
free_indirect(struct inode *ip, uint blockno, int depth)
{
  struct buf *b = bread(ip->dev, blockno);
  uint *a = (uint *)b->data;
  for (int i = 0; i < NINDIRECT; i++) {
    if (!a[i]) continue;
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
  for (int i = 0; i < NDIRECT; i++) {
    if (ip->addrs[i]) {
      bfree(ip->dev, ip->addrs[i]);
      ip->addrs[i] = 0;
    }
  }
  if (ip->addrs[NDIRECT]) free_indirect(ip, ip->addrs[NDIRECT], 1);
  if (ip->addrs[NDIRECT + 1]) free_indirect(ip, ip->addrs[NDIRECT + 1], 2);
  ip->addrs[NDIRECT] = ip->addrs[NDIRECT + 1] = 0;
  ip->size = 0;
  iupdate(ip);
}

void
stati(struct inode *ip, struct stat *st)
{
  st->dev = ip->dev;
  st->ino = ip->inum;
  st->type = ip->type;
  st->nlink = ip->nlink;
  st->size = ip->size;
}

// ---- Reading and writing ----

int
readi(struct inode *ip, char *dst, uint off, uint n)
{
  if (ip->type == T_DEV) {
    if (ip->major < 0 || ip->major >= NDEV || !devsw[ip->major].read) return -1;
    return devsw[ip->major].read(ip, dst, n);
  }
  if (off > ip->size || off + n < off) return -1;
  if (off + n > ip->size) n = ip->size - off;
  for (uint tot = 0, m; tot < n; tot += m, off += m, dst += m) {
    uint bno = bmap(ip, off / BSIZE);
    if (bno == 0) panic("readi: hole in file");
    struct buf *b = bread(ip->dev, bno);
    m = min(n - tot, BSIZE - off % BSIZE);
    memmove(dst, b->data + off % BSIZE, m);
    brelse(b);
  }
  return n;
}

int
writei(struct inode *ip, char *src, uint off, uint n)
{
  if (ip->type == T_DEV) {
    if (ip->major < 0 || ip->major >= NDEV || !devsw[ip->major].write) return -1;
    return devsw[ip->major].write(ip, src, n);
  }
  if (off > ip->size || off + n < off) return -1;
  if (off + n > MAXFILE * BSIZE) return -1;
  uint tot, m;
  for (tot = 0; tot < n; tot += m, off += m, src += m) {
    uint bno = bmap(ip, off / BSIZE);
    if (bno == 0) break;  // disk full
    struct buf *b = bread(ip->dev, bno);
    m = min(n - tot, BSIZE - off % BSIZE);
    memmove(b->data + off % BSIZE, src, m);
    log_write(b);
    brelse(b);
  }
  if (off > ip->size) ip->size = off;
  iupdate(ip);  // bmap may have changed addrs even if the size did not change
  return tot > 0 || n == 0 ? (int)tot : -1;
}

// ---- Directories ----

int
namecmp(const char *s, const char *t)
{
  return strncmp(s, t, DIRSIZ);
}

// The entry called name in directory dp (locked), with its offset in *poff.
struct inode *
dirlookup(struct inode *dp, char *name, uint *poff)
{
  struct dirent de;
  if (dp->type != T_DIR) panic("dirlookup: not a directory");
  for (uint off = 0; off < dp->size; off += sizeof(de)) {
    if (readi(dp, (char *)&de, off, sizeof(de)) != sizeof(de)) panic("dirlookup: read");
    if (de.inum != 0 && namecmp(name, de.name) == 0) {
      if (poff) *poff = off;
      return iget(dp->dev, de.inum);
    }
  }
  return 0;
}

// Add the entry (name, inum) to directory dp (locked); -1 if name exists.
int
dirlink(struct inode *dp, char *name, uint inum)
{
  struct inode *ip = dirlookup(dp, name, 0);
  if (ip) {
    iput(ip);
    return -1;
  }
  struct dirent de;
  uint off;
  for (off = 0; off < dp->size; off += sizeof(de)) {
    if (readi(dp, (char *)&de, off, sizeof(de)) != sizeof(de)) panic("dirlink: read");
    if (de.inum == 0) break;
  }
  strncpy(de.name, name, DIRSIZ);
  de.inum = inum;
  if (writei(dp, (char *)&de, off, sizeof(de)) != sizeof(de)) return -1;
  return 0;
}

// ---- Path names ----

// Copy the next element of path into name; return what follows it (no leading
// slashes), or 0 if there is no element.
static char *
skipelem(char *path, char *name)
{
  while (*path == '/') path++;
  if (*path == 0) return 0;
  char *s = path;
  while (*path != '/' && *path != 0) path++;
  int len = path - s;
  if (len >= DIRSIZ) memmove(name, s, DIRSIZ);
  else {
    memmove(name, s, len);
    name[len] = 0;
  }
  while (*path == '/') path++;
  return path;
}

static struct inode *
namex(char *path, int nameiparent, char *name)
{
  struct inode *ip = (*path == '/') ? iget(FSDEV, ROOTINO) : idup(myproc()->cwd);
  while ((path = skipelem(path, name)) != 0) {
    ilock(ip);
    if (ip->type != T_DIR) {
      iunlockput(ip);
      return 0;
    }
    if (nameiparent && *path == 0) {  // stop one level early
      iunlock(ip);
      return ip;
    }
    struct inode *next = dirlookup(ip, name, 0);
    iunlockput(ip);
    if (!next) return 0;
    ip = next;
  }
  if (nameiparent) {
    iput(ip);
    return 0;
  }
  return ip;
}

struct inode *
namei(char *path)
{
  char name[DIRSIZ];
  return namex(path, 0, name);
}

struct inode *
nameiparent(char *path, char *name)
{
  return namex(path, 1, name);
}
