// The write-ahead log (guest/FORMAT.md "Log"). A file-system operation runs between
// begin_op() and end_op(); the blocks it changes stay in the buffer cache (log_write
// marks them) until the last operation of a transaction ends. Then they are copied to
// the log, the header is written (the commit point), and only then are they written to
// their homes. After a crash, a committed log is installed again at boot; an
// uncommitted one is ignored. Either way no operation is ever half done on disk.
#include "types.h"
#include "param.h"
#include "fs.h"
#include "buf.h"
#include "defs.h"

// The header block: how many blocks the log holds, and their home block numbers.
struct logheader {
  uint n;
  uint block[LOGSIZE];
};

static struct {
  int dev;
  uint start;              // the header block; the logged copies follow it
  int size;                // blocks in the log area, header included
  int active;              // operations between begin_op and end_op
  int committing;
  struct logheader pending;  // the blocks the current transaction changed
} log;

// Copy every pending block between the log and its home: into the log before the
// commit, out of it to the home afterwards (and when recovering).
static void
copy_blocks(int into_log)
{
  for (int i = 0; i < log.pending.n; i++) {
    struct buf *copy = bread(log.dev, log.start + 1 + i);
    struct buf *home = bread(log.dev, log.pending.block[i]);
    struct buf *to = into_log ? copy : home;
    memmove(to->data, (into_log ? home : copy)->data, BSIZE);
    bwrite(to);
    brelse(copy);
    brelse(home);
  }
}

// Write the header. With n > 0 this is the commit; with n = 0 it empties the log.
static void
write_header(void)
{
  struct buf *b = bread(log.dev, log.start);
  memmove(b->data, &log.pending, sizeof(uint) * (1 + log.pending.n));
  bwrite(b);
  brelse(b);
}

// The header of the log, checked: installing a damaged one would copy log blocks over
// the superblock or the log itself, or beyond the disk.
static void
read_header(struct superblock *sb)
{
  struct buf *b = bread(log.dev, log.start);
  struct logheader *disk = (struct logheader *)b->data;
  if (disk->n > LOGSIZE || disk->n > log.size - 1) panic("log header: more blocks than the log holds");
  memmove(&log.pending, disk, sizeof(uint) * (1 + disk->n));
  brelse(b);
  for (int i = 0; i < log.pending.n; i++)
    if (log.pending.block[i] < sb->inodestart || log.pending.block[i] >= sb->size) panic("log header: a block outside the inodes, bitmap and data");
}

// At boot: finish the transaction a crash may have interrupted after its commit.
void
initlog(int dev)
{
  struct superblock sb;
  readsb(dev, &sb);
  log.dev = dev;
  log.start = sb.logstart;
  log.size = sb.nlog;
  read_header(&sb);
  if (log.pending.n > 0) cprintf("log: installing %d committed blocks\n", log.pending.n);
  copy_blocks(0);
  log.pending.n = 0;
  write_header();
}

// Start an operation. It may change up to MAXOPBLOCKS blocks, so wait while a commit
// is under way or the log could not hold that many more.
void
begin_op(void)
{
  pushcli();
  while (log.committing || log.pending.n + (log.active + 1) * MAXOPBLOCKS > LOGSIZE)
    sleep(&log);
  log.active++;
  popcli();
}

static void
commit(void)
{
  if (log.pending.n == 0) return;
  copy_blocks(1);
  write_header();  // the commit point
  copy_blocks(0);
  log.pending.n = 0;
  write_header();
}

// End an operation; the last one out commits the transaction.
void
end_op(void)
{
  pushcli();
  if (log.committing) panic("end_op: during a commit");
  int last = --log.active == 0;
  if (last) log.committing = 1;
  else wakeup(&log);  // a begin_op may be waiting for the room this one reserved
  popcli();
  if (!last) return;
  commit();  // sleeps on the disk: not inside pushcli
  pushcli();
  log.committing = 0;
  wakeup(&log);
  popcli();
}

// Note that b (held) changed: it goes to disk with the transaction, and stays in the
// cache until then (B_DIRTY). Used instead of bwrite. A block changed twice is logged
// once.
void
log_write(struct buf *b)
{
  if (log.pending.n >= LOGSIZE || log.pending.n >= log.size - 1) panic("log_write: transaction too big");
  if (log.active < 1) panic("log_write: outside a transaction");
  pushcli();
  int i = 0;
  while (i < log.pending.n && log.pending.block[i] != b->blockno) i++;
  if (i == log.pending.n) log.pending.block[log.pending.n++] = b->blockno;
  b->flags |= B_DIRTY;
  popcli();
}
