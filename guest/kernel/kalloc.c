// Physical page allocation. Free pages form a stack, each free page holding the link
// to the next one. Each frame has a reference count (frameref.h): a user frame is shared
// by the processes that fork made from one another until one of them writes it
// (copy-on-write, vm.c); kfree() drops one reference and frees the frame with the last.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "defs.h"
#include "frameref.h"

struct freepage {
  struct freepage *next;
};
static struct freepage *top;  // the most recently freed page
static uint nfree;
// References to each frame in use (NPROC < 256 sharers), in the pages right after the
// kernel (kinit puts it there: as a static array it would be 192 KiB of kernel image, most
// of it never read).
uchar *refs;
#define NREFS (PHYSMAX / PGSIZE)
static char *first;           // the first page the allocator may hand out

#define REF(page) refs[V2P(page) / PGSIZE]

// Hand the whole pages in [vstart, vend) to the allocator.
void
kinit(void *vstart, void *vend)
{
  if (!refs) {
    refs = (uchar *)PGROUNDUP((uint)vstart);
    memset(refs, 0, NREFS);
    vstart = first = (char *)refs + NREFS;
  }
  for (char *p = (char *)PGROUNDUP((uint)vstart); p + PGSIZE <= (char *)vend; p += PGSIZE) {
    REF(p) = 1;
    kfree(p);
  }
}

void
kfree(char *page)
{
  if ((uint)page % PGSIZE || page < first || V2P(page) >= PHYSMAX) panic("kfree: not a page of free memory");
  struct freelist l = {0, 0, 0};
  dropframe(V2P(page), &l);
  kfree_list(&l);
}

// The frames of l (none referenced any more) to the free list, in the order a kfree of
// each in turn would have put them there.
void
kfree_list(struct freelist *l)
{
  if (l->n == 0) return;
  pushcli();
  ((struct freepage *)l->tail)->next = top;
  top = (struct freepage *)l->head;
  nfree += l->n;
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
    REF(f) = 1;
  }
  popcli();
  return (char *)f;
}

// Two pages at once, as two kallocs in turn would give them (a page and its twin): one
// pushcli for both. 0, or -1 with none taken when fewer than two are left.
int
kalloc2(char **first, char **second)
{
  pushcli();
  struct freepage *f = top;
  if (!f || !f->next) {
    popcli();
    return -1;
  }
  struct freepage *g = f->next;
  top = g->next;
  nfree -= 2;
  REF(f) = 1;
  REF(g) = 1;
  popcli();
  *first = (char *)f;
  *second = (char *)g;
  return 0;
}

uint
kfreepages(void)
{
  return nfree;
}

// How many references the frame at kernel address page has.
uint
krefs(char *page)
{
  return REF(page);
}
