// Physical page allocation. Free pages form a stack, each free page holding the link
// to the next one. Each frame has a reference count: a user frame is shared by the
// processes that fork made from one another until one of them writes it (copy-on-write,
// vm.c); kfree() drops one reference and frees the frame with the last.
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
  uchar *r = &REF(page), left;
  if (*r == 0) panic("kfree: page already free");
  // One decrement instruction (an interrupt cannot split it on our single processor):
  // dropping one of several references costs no pushcli.
  asm volatile("decb %0; setnz %1" : "+m"(*r), "=q"(left) : : "cc");
  if (!left) kfree_unreferenced(page);
}

// A page whose last reference has just been dropped (kfree, or vm.c's inlined dropframe):
// to the free list.
void
kfree_unreferenced(char *page)
{
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
    REF(f) = 1;
  }
  popcli();
  return (char *)f;
}

uint
kfreepages(void)
{
  return nfree;
}

// One more reference to the frame at kernel address page (a copy-on-write mapping). One
// increment instruction: an interrupt cannot split it on our single processor.
void
kshare(char *page)
{
  uchar *r = &REF(page);
  if (*r == 0 || *r == 255) panic("kshare: page free or shared too often");
  asm volatile("incb %0" : "+m"(*r));
}

// How many references the frame at kernel address page has.
uint
krefs(char *page)
{
  return REF(page);
}
