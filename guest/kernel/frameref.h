// Frame reference counts (kalloc.c owns them: a user frame is shared by the processes
// that fork made from one another until one of them writes it), as inline functions for
// the loops over page tables that fork and exit run for every page and twin, where a
// call each cost as much as the loop's own work. kalloc.c's kfree is built on them too.
// Each count changes in one instruction, which an interrupt (and so another process)
// cannot split on our single processor: dropping one of several references costs no
// pushcli.

// Frames a loop freed, handed back to the allocator together (kfree_list): one pushcli
// for all of them. Linked through each page's first word, as on the free list.
struct freelist {
  char *head, *tail;
  uint n;
};

extern uchar *refs;  // references to each frame in use, by frame number
extern uint *twins;  // the twin each frame owns, by frame number (a physical address), or 0
void kfree_list(struct freelist *l);
void kfree_pairs(struct freelist *l);

// Twins without a mirror reserve (vm.c): the twin of a mirrored user page is a frame the
// page's frame owns. Every process that maps the frame maps its twin at the mirror address;
// the twin has no references of its own (fork and exit count the page's frame only). A
// frame keeps its twin when it is freed (dropframe), on the allocator's list of pairs:
// kalloc2 hands the two out together again (kalloc.c).
static inline uint
twinof(uint pa)
{
  return twins[pa / PGSIZE];
}

static inline void
settwin(uint pa, uint twin)
{
  twins[pa / PGSIZE] = twin;
}

// One more reference to frame pa (a copy-on-write mapping).
static inline void
shareframe(uint pa)
{
  uchar *r = &refs[pa / PGSIZE];
  if (*r == 0 || *r == 255) panic("shareframe: page free or shared too often");
  asm volatile("incb %0" : "+m"(*r));
}

// One reference less to frame pa; with the last, the frame joins l, or paired if it owns a
// twin, which it keeps (paired 0: pa has none), its bytes overwritten first (a stale
// pointer into a freed page reads garbage, not old data).
static inline void
dropframe(uint pa, struct freelist *l, struct freelist *paired)
{
  uchar *r = &refs[pa / PGSIZE], left;
  if (*r == 0) panic("kfree: page already free");
  asm volatile("decb %0; setnz %1" : "+m"(*r), "=q"(left) : : "cc");
  if (left) return;
  char *page = P2V(pa);
  if (paired && twins[pa / PGSIZE]) l = paired;
  memset(page, 1, PGSIZE);
  *(char **)page = l->head;
  if (!l->head) l->tail = page;
  l->head = page;
  l->n++;
}
