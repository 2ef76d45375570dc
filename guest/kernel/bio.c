// The buffer cache: NBUF copies of disk blocks, kept on one list from the most recently
// to the least recently released. A buffer is held by one process at a time (busy):
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
  for (struct buf *b = bufs; b < bufs + NBUF; b++) push_front(b);
}

// The buffer for (dev, blockno), held; its data is valid only if B_VALID is set.
static struct buf *
bget(uint dev, uint blockno)
{
  struct buf *b;
  pushcli();
  for (b = lru.next; b != &lru; b = b->next) {  // cached?
    if (b->dev == dev && b->blockno == blockno) {
      b->refcnt++;
      popcli();
      ACQUIRE_BUSY(b->busy, b);
      return b;
    }
  }
  for (b = lru.prev; b != &lru; b = b->prev) {  // recycle the least recently used one
    if (b->refcnt == 0 && !(b->flags & B_DIRTY)) {
      b->dev = dev;
      b->blockno = blockno;
      b->flags = 0;
      b->refcnt = 1;
      b->busy = 1;
      popcli();
      return b;
    }
  }
  panic("bget: every buffer is in use");
}

// The block's buffer, held and read from disk if it was not cached.
struct buf *
bread(uint dev, uint blockno)
{
  struct buf *b = bget(dev, blockno);
  if (!(b->flags & B_VALID)) iderw(b);
  return b;
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
