// Open files: the table shared by all processes, and reads and writes through them.
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

struct file *
filealloc(void)
{
  pushcli();
  for (struct file *f = ftable; f < ftable + NFILE; f++) {
    if (f->ref == 0) {
      f->ref = 1;
      popcli();
      return f;
    }
  }
  popcli();
  return 0;
}

struct file *
filedup(struct file *f)
{
  pushcli();
  if (f->ref < 1) panic("filedup");
  f->ref++;
  popcli();
  return f;
}

void
fileclose(struct file *f)
{
  pushcli();
  if (f->ref < 1) panic("fileclose");
  if (--f->ref > 0) {
    popcli();
    return;
  }
  struct file ff = *f;
  f->ref = 0;
  f->type = FD_NONE;
  popcli();
  if (ff.type == FD_PIPE) {
    pipeclose(ff.pipe, ff.writable);
  } else if (ff.type == FD_INODE) {
    begin_op();
    iput(ff.ip);
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

int
fileread(struct file *f, char *addr, int n)
{
  if (!f->readable) return -1;
  if (f->type == FD_PIPE) return piperead(f->pipe, addr, n);
  if (f->type != FD_INODE) panic("fileread");
  ilock(f->ip);
  int r = readi(f->ip, addr, f->off, n);
  if (r > 0) f->off += r;
  iunlock(f->ip);
  return r;
}

int
filewrite(struct file *f, char *addr, int n)
{
  if (!f->writable) return -1;
  if (f->type == FD_PIPE) return pipewrite(f->pipe, addr, n);
  if (f->type != FD_INODE) panic("filewrite");
  // Write in pieces small enough for one log transaction: the inode, an indirect
  // and a doubly-indirect block, a bitmap block or two, and the data blocks.
  int max = ((MAXOPBLOCKS - 1 - 2 - 2) / 2) * BSIZE;
  int i = 0;
  while (i < n) {
    int n1 = n - i < max ? n - i : max;
    begin_op();
    ilock(f->ip);
    int r = writei(f->ip, addr + i, f->off, n1);
    if (r > 0) f->off += r;
    iunlock(f->ip);
    end_op();
    if (r < 0) break;
    if (r != n1) panic("short filewrite");
    i += r;
  }
  return i == n ? n : -1;
}
