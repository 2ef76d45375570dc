// Pipes: a small ring buffer between a reading and a writing file.
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
  char data[PIPESIZE];
  uint nread;      // bytes read so far
  uint nwrite;     // bytes written so far
  int readopen;
  int writeopen;
};

int
pipealloc(struct file **f0, struct file **f1)
{
  struct pipe *p = 0;
  *f0 = *f1 = 0;
  if ((*f0 = filealloc()) == 0 || (*f1 = filealloc()) == 0) goto bad;
  if ((p = (struct pipe *)kalloc()) == 0) goto bad;
  p->readopen = 1;
  p->writeopen = 1;
  p->nwrite = 0;
  p->nread = 0;
  (*f0)->type = FD_PIPE;
  (*f0)->readable = 1;
  (*f0)->writable = 0;
  (*f0)->pipe = p;
  (*f1)->type = FD_PIPE;
  (*f1)->readable = 0;
  (*f1)->writable = 1;
  (*f1)->pipe = p;
  return 0;
bad:
  if (*f0) fileclose(*f0);
  if (*f1) fileclose(*f1);
  return -1;
}

void
pipeclose(struct pipe *p, int writable)
{
  pushcli();
  if (writable) {
    p->writeopen = 0;
    wakeup(&p->nread);
  } else {
    p->readopen = 0;
    wakeup(&p->nwrite);
  }
  int last = !p->readopen && !p->writeopen;
  popcli();
  if (last) kfree((char *)p);
}

int
pipewrite(struct pipe *p, char *addr, int n)
{
  pushcli();
  if (!p->readopen) {  // nobody will ever read it
    popcli();
    return -1;
  }
  for (int i = 0; i < n; i++) {
    while (p->nwrite == p->nread + PIPESIZE) {  // full
      if (!p->readopen || myproc()->killed) {
        popcli();
        return -1;
      }
      wakeup(&p->nread);
      sleep(&p->nwrite);
    }
    p->data[p->nwrite++ % PIPESIZE] = addr[i];
  }
  wakeup(&p->nread);
  popcli();
  return n;
}

int
piperead(struct pipe *p, char *addr, int n)
{
  pushcli();
  while (p->nread == p->nwrite && p->writeopen) {
    if (myproc()->killed) {
      popcli();
      return -1;
    }
    sleep(&p->nread);
  }
  int i;
  for (i = 0; i < n && p->nread != p->nwrite; i++)
    addr[i] = p->data[p->nread++ % PIPESIZE];
  wakeup(&p->nwrite);
  popcli();
  return i;
}
