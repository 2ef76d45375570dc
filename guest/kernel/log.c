// The write-ahead log (guest/FORMAT.md "Log"). A file-system operation runs between
// begin_op() and end_op(); the blocks it changes go to the log first, and only a
// committed log is installed at the blocks' homes, so a crash never leaves a
// half-done operation on disk.
#include "types.h"
#include "param.h"
#include "fs.h"
#include "buf.h"
#include "defs.h"

struct logheader {
  uint n;
  uint block[LOGSIZE];
};

static struct {
  uint start;       // the header block
  int size;
  int outstanding;  // operations in progress
  int committing;
  int dev;
  struct logheader lh;
} log;

static void
read_head(void)
{
  struct buf *b = bread(log.dev, log.start);
  struct logheader *lh = (struct logheader *)b->data;
  log.lh.n = lh->n;
  if (log.lh.n > LOGSIZE) panic("log header: too many blocks");
  for (int i = 0; i < log.lh.n; i++) log.lh.block[i] = lh->block[i];
  brelse(b);
}

// Writing the header with n > 0 is the commit point; with n = 0, the log is empty.
static void
write_head(void)
{
  struct buf *b = bread(log.dev, log.start);
  struct logheader *lh = (struct logheader *)b->data;
  lh->n = log.lh.n;
  for (int i = 0; i < log.lh.n; i++) lh->block[i] = log.lh.block[i];
  bwrite(b);
  brelse(b);
}

// Copy committed blocks from the log to their homes.
static void
install_trans(void)
{
  for (int i = 0; i < log.lh.n; i++) {
    struct buf *from = bread(log.dev, log.start + 1 + i);
    struct buf *to = bread(log.dev, log.lh.block[i]);
    memmove(to->data, from->data, BSIZE);
    bwrite(to);
    brelse(from);
    brelse(to);
  }
}

void
initlog(int dev)
{
  struct superblock sb;
  readsb(dev, &sb);
  log.start = sb.logstart;
  log.size = sb.nlog;
  log.dev = dev;
  read_head();
  if (log.lh.n > 0) cprintf("log: installing %d committed blocks\n", log.lh.n);
  install_trans();
  log.lh.n = 0;
  write_head();
}

void
begin_op(void)
{
  pushcli();
  for (;;) {
    if (log.committing ||
        log.lh.n + (log.outstanding + 1) * MAXOPBLOCKS > LOGSIZE)
      sleep(&log);  // wait for the commit, or for room in this transaction
    else {
      log.outstanding++;
      break;
    }
  }
  popcli();
}

static void
commit(void)
{
  if (log.lh.n == 0) return;
  for (int i = 0; i < log.lh.n; i++) {  // cached blocks to the log
    struct buf *to = bread(log.dev, log.start + 1 + i);
    struct buf *from = bread(log.dev, log.lh.block[i]);
    memmove(to->data, from->data, BSIZE);
    bwrite(to);
    brelse(from);
    brelse(to);
  }
  write_head();      // commit
  install_trans();
  log.lh.n = 0;
  write_head();      // the log is empty again
}

void
end_op(void)
{
  int do_commit = 0;
  pushcli();
  if (log.committing) panic("end_op: committing");
  if (--log.outstanding == 0) {
    do_commit = 1;
    log.committing = 1;
  } else {
    wakeup(&log);  // begin_op may be waiting for room
  }
  popcli();
  if (do_commit) {
    commit();
    pushcli();
    log.committing = 0;
    wakeup(&log);
    popcli();
  }
}

// Record that b changed: it will be written through the log at commit. Replaces bwrite.
void
log_write(struct buf *b)
{
  if (log.lh.n >= LOGSIZE || log.lh.n >= log.size - 1) panic("log_write: transaction too big");
  if (log.outstanding < 1) panic("log_write outside of a transaction");
  pushcli();
  int i;
  for (i = 0; i < log.lh.n; i++)
    if (log.lh.block[i] == b->blockno) break;  // absorbed into the earlier write
  log.lh.block[i] = b->blockno;
  if (i == log.lh.n) log.lh.n++;
  b->flags |= B_DIRTY;  // keep it cached until commit
  popcli();
}
