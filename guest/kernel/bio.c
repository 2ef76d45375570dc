// The buffer cache: NBUF block buffers in LRU order. A buffer is held by one
// process at a time (busy); bread returns it held, brelse gives it back.
#include "types.h"
#include "param.h"
#include "fs.h"
#include "buf.h"
#include "defs.h"
#include "sleeplock.h"

static struct {
  struct buf buf[NBUF];
  struct buf head;  // head.next is the most recently used
} bcache;

void
binit(void)
{
  bcache.head.prev = &bcache.head;
  bcache.head.next = &bcache.head;
  for (struct buf *b = bcache.buf; b < bcache.buf + NBUF; b++) {
    b->next = bcache.head.next;
    b->prev = &bcache.head;
    bcache.head.next->prev = b;
    bcache.head.next = b;
  }
}

// The buffer for (dev, blockno), held; not necessarily read yet.
static struct buf *
bget(uint dev, uint blockno)
{
  struct buf *b;
  pushcli();
  for (b = bcache.head.next; b != &bcache.head; b = b->next) {
    if (b->dev == dev && b->blockno == blockno) {
      b->refcnt++;
      popcli();
      ACQUIRE_BUSY(b->busy, b);
      return b;
    }
  }
  // Recycle the least recently used buffer nobody holds and that is clean.
  for (b = bcache.head.prev; b != &bcache.head; b = b->prev) {
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
  panic("bget: no buffers");
}

struct buf *
bread(uint dev, uint blockno)
{
  struct buf *b = bget(dev, blockno);
  if (!(b->flags & B_VALID)) iderw(b);
  return b;
}

void
bwrite(struct buf *b)
{
  if (!b->busy) panic("bwrite: not held");
  b->flags |= B_DIRTY;
  iderw(b);
}

void
brelse(struct buf *b)
{
  if (!b->busy) panic("brelse: not held");
  RELEASE_BUSY(b->busy, b);
  pushcli();
  if (--b->refcnt == 0) {  // move to the front: most recently used
    b->next->prev = b->prev;
    b->prev->next = b->next;
    b->next = bcache.head.next;
    b->prev = &bcache.head;
    bcache.head.next->prev = b;
    bcache.head.next = b;
  }
  popcli();
}
