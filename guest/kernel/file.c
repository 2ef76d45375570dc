// Open files: the table every process's descriptors point into, and reading and
// writing through an open file, whatever is behind it (an inode or a pipe).
#include "types.h"
#include "param.h"
#include "fs.h"
#include "stat.h"
#include "file.h"
#include "defs.h"

static struct file ftable[NFILE];

void
fileinit(void)
{
}

// An unused entry of the file table, with one reference; 0 if the table is full.
struct file *
filealloc(void)
{
  struct file *f;
  pushcli();
  for (f = ftable; f < ftable + NFILE && f->ref != 0; f++)
    ;
  if (f == ftable + NFILE) f = 0;
  else f->ref = 1;
  popcli();
  return f;
}

struct file *
filedup(struct file *f)
{
  pushcli();
  if (f->ref < 1) panic("filedup: closed file");
  f->ref++;
  popcli();
  return f;
}

// Drop a reference; the last one closes what the file refers to. The entry is freed
// before that, because closing may sleep (writing the pipe's other end awake, or the
// inode through the log).
void
fileclose(struct file *f)
{
  pushcli();
  if (f->ref < 1) panic("fileclose: closed file");
  int last = --f->ref == 0;
  struct file closing = *f;
  if (last) f->type = FD_NONE;
  popcli();
  if (!last) return;
  if (closing.type == FD_PIPE) {
    pipeclose(closing.pipe, closing.writable);
  } else if (closing.type == FD_INODE) {
    begin_op();
    iput(closing.ip);
    end_op();
  }
}

int
filestat(struct file *f, struct stat *st)
{
  if (f->type != FD_INODE) return -1;
  ilock(f->ip);
  stati(f->ip, st);
  iunlock(f->ip);
  return 0;
}

// ---- Reading and writing an inode, at the file's offset ----

static int
inode_read(struct file *f, struct memref dst, int n)
{
  ilock(f->ip);
  int r = readi(f->ip, dst, f->off, n);
  if (r > 0) f->off += r;
  iunlock(f->ip);
  return r;
}

// The most bytes written in one transaction, whose blocks must fit in the log
// (MAXOPBLOCKS): besides the data blocks, the inode, an indirect and a doubly-indirect
// block and two bitmap blocks may change; the data's share is halved for safety.
#define MAXWRITE (((MAXOPBLOCKS - 1 - 2 - 2) / 2) * BSIZE)

// Large writes go in pieces, a transaction each; all n bytes, or -1.
static int
inode_write(struct file *f, struct memref src, int n)
{
  int written = 0;
  while (written < n) {
    int piece = n - written < MAXWRITE ? n - written : MAXWRITE;
    begin_op();
    ilock(f->ip);
    int r = writei(f->ip, src, f->off, piece);
    if (r > 0) f->off += r;
    iunlock(f->ip);
    end_op();
    if (r != piece) break;  // the disk is full, or src went bad
    src.addr += piece;
    written += piece;
  }
  return written == n ? n : -1;
}

// ---- Through any open file ----

int
fileread(struct file *f, struct memref dst, int n)
{
  if (!f->readable) return -1;
  switch (f->type) {
  case FD_PIPE: return piperead(f->pipe, dst, n);
  case FD_INODE: return inode_read(f, dst, n);
  default: panic("fileread: not an open file");
  }
}

int
filewrite(struct file *f, struct memref src, int n)
{
  if (!f->writable) return -1;
  switch (f->type) {
  case FD_PIPE: return pipewrite(f->pipe, src, n);
  case FD_INODE: return inode_write(f, src, n);
  default: panic("filewrite: not an open file");
  }
}
