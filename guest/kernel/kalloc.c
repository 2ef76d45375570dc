// Physical page allocation. Free pages form a stack, each free page holding the link
// to the next one. Pages never handed out since boot are not on it: kinit keeps them as
// ranges, from whose top kalloc takes once the stack is empty, which is the order the
// stack would give had kinit freed them one by one; so booting writes nothing into the
// free memory (a page freed later is filled with junk, a page never used holds what the
// machine started with), and costs the same for 16 MiB as for 2 GiB.
// Each frame has a reference count (frameref.h): a user frame is shared by the processes
// that fork made from one another until one of them writes it (copy-on-write, vm.c);
// kfree() drops one reference and frees the frame with the last.
// Each frame may also own a twin (the mirror copy of a mirrored user page, vm.c), which
// stays with it when it is freed: such frames wait on a second free list, of pairs, and
// sbrk and exit of a mirrored process take and give back a page and its twin for the price
// of one page (frameref.h).
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "defs.h"
#include "frameref.h"

struct freepage {
  struct freepage *next;
};
static struct freepage *top;    // the most recently freed page (without a twin)
static struct freepage *pairs;  // the most recently freed page that keeps its twin
static uint nfree, npairs;     // nfree counts the never-used pages too
// Pages never handed out, [start, end), from the top of the last range down (kinit).
static struct {
  char *start, *end;
} fresh[2];
static uint nfresh;
// References to each frame in use (NPROC < 256 sharers), in the pages right after the
// kernel (kinit puts it there: as a static array it would be 192 KiB of kernel image, most
// of it never read).
uchar *refs;
#define NREFS (PHYSMAX / PGSIZE)
// The twin each frame owns (a physical address), or 0, for the frames below phystop
// (kframes): after refs. A free frame's twin has no references of its own.
uint *twins;
static uint nframes;
static char *first;           // the first page the allocator may hand out

#define REF(page) refs[V2P(page) / PGSIZE]
#define TWIN(page) twins[V2P(page) / PGSIZE]

// Memory ends at phystop: size the table of twins (before the first kinit).
void
kframes(uint phystop)
{
  nframes = phystop / PGSIZE;
}

// Hand the whole pages in [vstart, vend) to the allocator.
void
kinit(void *vstart, void *vend)
{
  if (!refs) {
    refs = (uchar *)PGROUNDUP((uint)vstart);
    memset(refs, 0, NREFS);
    twins = (uint *)(refs + NREFS);
    memset(twins, 0, nframes * sizeof(uint));
    vstart = first = (char *)(twins + nframes);
    if ((char *)vstart >= (char *)vend) panic("kinit: no room for the frame tables");
  }
  char *start = (char *)PGROUNDUP((uint)vstart);
  if (start + PGSIZE > (char *)vend) return;
  char *end = start + ((char *)vend - start) / PGSIZE * PGSIZE;
  if (start < first || V2P(end - PGSIZE) >= PHYSMAX) panic("kinit: not a range of free memory");
  // Pages freed before kinit go below the range in the stack's order: free these one by one.
  if (top || nfresh == sizeof(fresh) / sizeof(fresh[0])) {
    for (char *p = start; p < end; p += PGSIZE) {
      REF(p) = 1;
      kfree(p);
    }
    return;
  }
  fresh[nfresh].start = start;
  fresh[nfresh].end = end;
  nfresh++;
  nfree += (end - start) / PGSIZE;
}

// The next page of the stack (the last freed, else the highest never handed out), or 0;
// with interrupts off.
static struct freepage *
pop(void)
{
  struct freepage *f = top;
  if (f) {
    top = f->next;
    nfree--;
    return f;
  }
  while (nfresh > 0 && fresh[nfresh - 1].end == fresh[nfresh - 1].start) nfresh--;
  if (nfresh == 0) return 0;
  fresh[nfresh - 1].end -= PGSIZE;
  nfree--;
  return (struct freepage *)fresh[nfresh - 1].end;
}

void
kfree(char *page)
{
  if ((uint)page % PGSIZE || page < first || V2P(page) >= PHYSMAX) panic("kfree: not a page of free memory");
  struct freelist l = {0, 0, 0};
  dropframe(V2P(page), &l, 0);
  if (TWIN(page)) kfree_pairs(&l);
  else kfree_list(&l);
}

// The frames of l (none referenced any more) to the front of the list at *head, which
// counts *count, in the order a kfree of each in turn would have put them there.
static inline __attribute__((always_inline)) void
push_frames(struct freepage **head, uint *count, struct freelist *l)
{
  if (l->n == 0) return;
  pushcli();
  ((struct freepage *)l->tail)->next = *head;
  *head = (struct freepage *)l->head;
  *count += l->n;
  popcli();
}

// The frames of l to the free list.
void
kfree_list(struct freelist *l)
{
  push_frames(&top, &nfree, l);
}

// The same for frames that keep their twins: to the list of pairs.
void
kfree_pairs(struct freelist *l)
{
  push_frames(&pairs, &npairs, l);
}

// A page of memory (its contents undefined), or 0 when none is left. When only pairs are
// left, the first is split: its frame is handed out, its twin becomes a free page.
char *
kalloc(void)
{
  pushcli();
  struct freepage *f = pop();
  if (!f && (f = pairs) != 0) {
    pairs = f->next;
    npairs--;
    struct freepage *t = P2V(TWIN(f));
    TWIN(f) = 0;
    REF(t) = 0;
    t->next = top;
    top = t;
    nfree++;
  }
  if (f) REF(f) = 1;
  popcli();
  return (char *)f;
}

// A page and a twin it owns (see frameref.h), with one pushcli: the first pair freed
// together, or else two pages as two kallocs in turn would give them. 0, or -1 with none
// taken when fewer than two are left.
int
kalloc2(char **first, char **second)
{
  pushcli();
  struct freepage *f = pairs, *t;
  if (f) {
    pairs = f->next;
    npairs--;
    t = P2V(TWIN(f));
  } else {
    if (nfree < 2) {
      popcli();
      return -1;
    }
    f = pop();
    t = pop();
    TWIN(f) = V2P(t);
  }
  REF(f) = 1;
  REF(t) = 1;
  popcli();
  *first = (char *)f;
  *second = (char *)t;
  return 0;
}

// Free frames, with the twins kept by those that keep one.
uint
kfreepages(void)
{
  return nfree + 2 * npairs;
}

// How many references the frame at kernel address page has.
uint
krefs(char *page)
{
  return REF(page);
}
