// The physical page allocator: a free list of 4 KiB pages threaded through the
// pages themselves.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "defs.h"

struct run { struct run *next; };
static struct run *freelist;
static uint nfree;
extern char end[];

void
kinit(void *vstart, void *vend)
{
  char *p = (char *)PGROUNDUP((uint)vstart);
  for (; p + PGSIZE <= (char *)vend; p += PGSIZE)
    kfree(p);
}

void
kfree(char *v)
{
  if ((uint)v % PGSIZE || v < end || V2P(v) >= PHYSMAX)
    panic("kfree: bad page");
  memset(v, 1, PGSIZE);  // make use-after-free visible
  struct run *r = (struct run *)v;
  pushcli();
  r->next = freelist;
  freelist = r;
  nfree++;
  popcli();
}

// A page of memory, or 0 when none is left.
char *
kalloc(void)
{
  pushcli();
  struct run *r = freelist;
  if (r) {
    freelist = r->next;
    nfree--;
  }
  popcli();
  return (char *)r;
}

uint
kfreepages(void)
{
  return nfree;
}
