// Pipes: a ring of PIPESIZE bytes between a write end and a read end. Bytes move in
// contiguous runs, straight between the ring and the memory of the process at each
// end, through collect() and deliver().
#include "types.h"
#include "param.h"
#include "mmu.h"
#include "x86.h"
#include "proc.h"
#include "fs.h"
#include "file.h"
#include "defs.h"

#define PIPESIZE 512

struct pipe {
  char ring[PIPESIZE];
  uint added;     // bytes written in since the pipe was made
  uint taken;     // bytes read out; the ring holds added - taken, from index taken % PIPESIZE
  int reader;     // is the read end open?
  int writer;     // is the write end open?
};
// Sleep channels: readers wait on &added (for data), writers on &taken (for room).

static uint
stored(struct pipe *p)
{
  return p->added - p->taken;
}

// The longest run that can move at ring index `at`: at most `want` bytes, `limit`
// bytes, and never past the end of the ring.
static uint
run_at(uint at, uint want, uint limit)
{
  uint n = PIPESIZE - at % PIPESIZE;
  if (n > want) n = want;
  return n < limit ? n : limit;
}

static void
make_end(struct file *f, struct pipe *p, int writing)
{
  f->type = FD_PIPE;
  f->pipe = p;
  f->readable = !writing;
  f->writable = writing;
}

// A new pipe, and open files for its two ends.
int
pipealloc(struct file **rd, struct file **wr)
{
  struct pipe *p = (struct pipe *)kalloc();
  *rd = filealloc();
  *wr = filealloc();
  if (!p || !*rd || !*wr) {
    if (p) kfree((char *)p);
    if (*rd) fileclose(*rd);
    if (*wr) fileclose(*wr);
    return -1;
  }
  p->added = p->taken = 0;
  p->reader = p->writer = 1;
  make_end(*rd, p, 0);
  make_end(*wr, p, 1);
  return 0;
}

// One end closes: whoever waits at the other end must look again. The second close
// frees the pipe.
void
pipeclose(struct pipe *p, int writing)
{
  pushcli();
  if (writing) {
    p->writer = 0;
    wakeup(&p->added);
  } else {
    p->reader = 0;
    wakeup(&p->taken);
  }
  int unused = !p->reader && !p->writer;
  popcli();
  if (unused) kfree((char *)p);
}

// Write all n bytes from src, waiting for room as needed; n, or -1 if the read end is
// (or becomes) closed, or the writer is killed while it waits.
int
pipewrite(struct pipe *p, struct memref src, int n)
{
  int done = 0;
  pushcli();
  if (!p->reader) done = -1;
  while (done >= 0 && done < n) {
    uint room = PIPESIZE - stored(p);
    if (room == 0) {
      if (!p->reader || myproc()->killed) {
        done = -1;
        break;
      }
      wakeup(&p->added);
      sleep(&p->taken);
      continue;
    }
    uint run = run_at(p->added, n - done, room);
    if (collect(p->ring + p->added % PIPESIZE, &src, run) < 0) {
      done = -1;
      break;
    }
    p->added += run;
    done += run;
  }
  wakeup(&p->added);
  popcli();
  return done;
}

// Read up to n bytes into dst once there are any, or 0 once the write end is closed
// and the ring empty; -1 if the reader is killed while it waits.
int
piperead(struct pipe *p, struct memref dst, int n)
{
  pushcli();
  while (stored(p) == 0 && p->writer) {
    if (myproc()->killed) {
      popcli();
      return -1;
    }
    sleep(&p->added);
  }
  int done = 0, failed = 0;
  while (done < n && stored(p) > 0) {  // two runs at most: to the ring's end, then on from its start
    uint run = run_at(p->taken, n - done, stored(p));
    if ((failed = deliver(&dst, p->ring + p->taken % PIPESIZE, run) < 0)) break;
    p->taken += run;
    done += run;
  }
  wakeup(&p->taken);
  popcli();
  return failed && done == 0 ? -1 : done;
}
