// A block in the buffer cache.
struct buf {
  int flags;
  uint dev;
  uint blockno;
  int busy;                 // held by some process (a sleep lock)
  uint refcnt;
  struct buf *prev, *next;  // LRU list
  struct buf *hnext;        // the next buffer of its hash chain (bio.c)
  struct buf *qnext;        // disk queue
  struct buf *runnext;      // the next block of the same disk command (bgetblocks), or 0
  uchar data[BSIZE];
};
#define B_VALID 0x2  // has been read from disk
#define B_DIRTY 0x4  // needs to be written to disk
