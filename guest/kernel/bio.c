// The buffer cache: NBUF copies of disk blocks, kept on one list from the most recently
// to the least recently released, and found by block number through a hash table (a
// lookup visits a buffer or two, not all of them: a program page read from disk costs
// some twenty lookups). A buffer is held by one process at a time (busy):
// bread returns it held, brelse gives it back. A dirty buffer (changed by a transaction
// not yet installed) is never recycled, so the log finds it still cached.
#include "types.h"
#include "param.h"
#include "fs.h"
#include "buf.h"
#include "defs.h"
#include "sleeplock.h"

static struct buf bufs[NBUF];
static struct buf lru;  // the list's head: lru.next is the most recently used
#define NHASH 64        // a power of two
static struct buf *chains[NHASH];  // buffers by block, each chain linked through hnext

static struct buf **
chain(uint dev, uint blockno)
{
  return &chains[(blockno ^ dev << 5) & (NHASH - 1)];
}

// Take b off its chain (it is on one: every buffer is, from binit on).
static void
unhash(struct buf *b)
{
  struct buf **link = chain(b->dev, b->blockno);
  while (*link != b) link = &(*link)->hnext;
  *link = b->hnext;
}

static void
rehash(struct buf *b)
{
  struct buf **head = chain(b->dev, b->blockno);
  b->hnext = *head;
  *head = b;
}

static void
unlink_buf(struct buf *b)
{
  b->prev->next = b->next;
  b->next->prev = b->prev;
}

static void
push_front(struct buf *b)
{
  b->prev = &lru;
  b->next = lru.next;
  lru.next->prev = b;
  lru.next = b;
}

void
binit(void)
{
  lru.prev = lru.next = &lru;
  for (struct buf *b = bufs; b < bufs + NBUF; b++) {
    push_front(b);
    rehash(b);  // block 0 of no device, not valid
  }
}

// The buffer for (dev, blockno), held; its data is valid only if B_VALID is set. If
// every buffer is in use: 0 if may_fail, else a panic.
static struct buf *
bget_or_fail(uint dev, uint blockno, int may_fail)
{
  struct buf *b;
  pushcli();
  for (b = *chain(dev, blockno); b; b = b->hnext) {  // cached?
    if (b->dev == dev && b->blockno == blockno) {
      b->refcnt++;
      popcli();
      ACQUIRE_BUSY(b->busy, b);
      return b;
    }
  }
  for (b = lru.prev; b != &lru; b = b->prev) {  // recycle the least recently used one
    if (b->refcnt == 0 && !(b->flags & B_DIRTY)) {
      unhash(b);
      b->dev = dev;
      b->blockno = blockno;
      rehash(b);
      b->flags = 0;
      b->refcnt = 1;
      b->busy = 1;
      popcli();
      return b;
    }
  }
  if (may_fail) {
    popcli();
    return 0;
  }
  panic("bget: every buffer is in use");
}

static struct buf *
bget(uint dev, uint blockno)
{
  return bget_or_fail(dev, blockno, 0);
}

// The block's buffer, held and read from disk if it was not cached.
struct buf *
bread(uint dev, uint blockno)
{
  struct buf *b = bget(dev, blockno);
  if (!(b->flags & B_VALID)) iderw(b);
  return b;
}

// Read the run of consecutive blocks in run[0..n) (held, not valid) with one disk command.
static void
read_run(struct buf **run, int n)
{
  if (n == 0) return;
  for (int i = 0; i + 1 < n; i++) run[i]->runnext = run[i + 1];
  iderw(run[0]);
  for (int i = 0; i < n; i++) run[i]->runnext = 0;
}

// The buffers of blocks[0..n) (a piece of a file, in the file's order; n <= READ_MAX),
// held, in held[], each valid: the blocks not cached are read with one disk command per run
// of consecutive blocks (one sleep, and one interrupt per MULTIPLE sectors, instead of both
// per block). The blocks go through the cache as a bread's do (a cached block, maybe
// changed by a transaction not yet installed, is not read again), so the cache stays the
// one copy that counts. Returns how many it holds: n, or the first k when buffers run short.
int
bgetblocks(uint dev, uint *blocks, int n, struct buf **held)
{
  struct buf *run[READ_MAX];
  int k = 0, got = 0;
  for (; got < n && got < READ_MAX; got++) {
    if (k > 0 && blocks[got] != run[k - 1]->blockno + 1) {
      read_run(run, k);
      k = 0;
    }
    struct buf *b = bget_or_fail(dev, blocks[got], 1);
    if (!b) break;
    held[got] = b;
    if (b->flags & B_VALID) {
      read_run(run, k);
      k = 0;
    } else {
      run[k++] = b;
    }
  }
  read_run(run, k);
  return got;
}

// Write b (held) to disk now. The file system uses log_write instead.
void
bwrite(struct buf *b)
{
  if (!b->busy) panic("bwrite: buffer not held");
  b->flags |= B_DIRTY;
  iderw(b);
}

// Give b back; when nobody refers to it any more, it becomes the most recently used.
void
brelse(struct buf *b)
{
  if (!b->busy) panic("brelse: buffer not held");
  RELEASE_BUSY(b->busy, b);
  pushcli();
  if (--b->refcnt == 0) {
    unlink_buf(b);
    push_front(b);
  }
  popcli();
}
