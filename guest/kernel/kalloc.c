// Physical page allocation. Free pages form a stack, each free page holding the link
// to the next one, so the allocator needs no memory of its own.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "defs.h"

struct freepage {
  struct freepage *next;
};
static struct freepage *top;  // the most recently freed page
static uint nfree;
extern char end[];            // the first address after the kernel (kernel.ld)

// Hand the whole pages in [vstart, vend) to the allocator.
void
kinit(void *vstart, void *vend)
{
  for (char *p = (char *)PGROUNDUP((uint)vstart); p + PGSIZE <= (char *)vend; p += PGSIZE)
    kfree(p);
}

void
kfree(char *page)
{
  if ((uint)page % PGSIZE || page < end || V2P(page) >= PHYSMAX) panic("kfree: not a page of free memory");
  memset(page, 1, PGSIZE);  // a stale pointer into a freed page reads garbage, not old data
  struct freepage *f = (struct freepage *)page;
  pushcli();
  f->next = top;
  top = f;
  nfree++;
  popcli();
}

// A page of memory (its contents undefined), or 0 when none is left.
char *
kalloc(void)
{
  pushcli();
  struct freepage *f = top;
  if (f) {
    top = f->next;
    nfree--;
  }
  popcli();
  return (char *)f;
}

uint
kfreepages(void)
{
  return nfree;
}
