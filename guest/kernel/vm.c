// Address spaces. Every page directory maps physical memory at KERNBASE with 4 MiB
// pages (directory entries copied from kpgdir, so all processes share the kernel's
// tables) and the process's own memory below USERTOP with 4 KiB pages. A user PTE is
// made in one place, map_page().
//
// Mirroring: a mirrored process (its program was translated) has, for every user page
// at va, a twin at va + MIRROR_OFFSET with its own frame, the same permissions and the
// same bytes. The twin's frame belongs to the page's frame (frameref.h): processes that
// share a frame since fork share its twin with it, fork and exit count and free the
// frames of the native range only, and the mirror range's entries merely map what the
// native range's frames own (exit does not even visit them). The translated code writes both copies itself; the kernel keeps them
// equal when it writes user memory because every such write goes through copyout()
// (the last section of this file). Whether an address space is mirrored is visible in
// its page tables: a page has a twin exactly when the PTE at va + MIRROR_OFFSET is
// present. (The translator's spill page, scratch that is never mirrored, has none.)
//
// With a mirror reserve (--mirror system, docs/system-mode.md) the kernel is translated
// too, and every frame pa has a fixed twin, pa + mirror_half, which the kernel's mirror
// map (KMIRROR) reaches and every kernel store writes. A twin is then not allocated,
// copied or freed: it is mapped (map_twin) and unmapped. The kernel reads twins through
// frame_kva(); it never stores through the mirror map itself (its own mirror store would
// land at KMIRROR + MIRROR_OFFSET, in user space).
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "proc.h"
#include "defs.h"
#include "frameref.h"
#include "syscall.h"

static pde_t *kpgdir;  // the kernel-only page directory (used by the scheduler)
uint mirror_half;      // where the mirror reserve starts (entry.S), or 0 without one

// ---- The kernel's half ----

void
seginit(void)
{
  struct cpu *c = &cpu0;
  c->gdt[SEG_KCODE] = SEG_FLAT(STA_X | STA_R, 0);
  c->gdt[SEG_KDATA] = SEG_FLAT(STA_W, 0);
  c->gdt[SEG_UCODE] = SEG_FLAT(STA_X | STA_R, DPL_USER);
  c->gdt[SEG_UDATA] = SEG_FLAT(STA_W, DPL_USER);
  lgdt(c->gdt, sizeof(c->gdt));
  asm volatile("movw %0, %%ds; movw %0, %%es; movw %0, %%ss; movw %1, %%fs; movw %1, %%gs"
               : : "r"((ushort)(SEG_KDATA << 3)), "r"((ushort)0));
  // Reload CS with a far return rather than a far jump: the jump's target would be an
  // absolute operand of the instruction, while a pushed address is an ordinary code
  // pointer the binary translator knows how to move (guest/kernel is translated for
  // --mirror system).
  asm volatile("pushl %0; pushl $1f; lret; 1:" : : "i"(SEG_KCODE << 3));
}

// Build kpgdir: RAM up to phystop at KERNBASE, its mirror map at KMIRROR (the twins in
// the reserve, or without one the same frames: a translated kernel's mirror stores then
// write the same bytes twice), and the devices' MMIO window (IOAPIC, LAPIC) at its own
// address, uncached. All with 4 MiB pages: no page tables needed. Every process's page
// directory has these same entries (setupkvm), so they are global: switching address
// spaces keeps their TLB entries.
void
kvmalloc(uint phystop)
{
  if ((kpgdir = (pde_t *)kalloc()) == 0) panic("kvmalloc: out of memory");
  memset(kpgdir, 0, PGSIZE);
  uint big = PTE_P | PTE_W | PTE_PS | PTE_G;
  for (uint pa = 0; pa < phystop; pa += BIGPGSIZE) {
    kpgdir[PDX(KERNBASE + pa)] = pa | big;
    kpgdir[PDX(KMIRROR + pa)] = (pa + mirror_half) | big;
  }
  for (uint va = DEVSPACE; va >= DEVSPACE; va += BIGPGSIZE)  // up to 4 GiB (va wraps to 0)
    kpgdir[PDX(va)] = va | big | PTE_PCD;
  switchkvm();
}

// A new page directory with the kernel's mappings and no user memory.
pde_t *
setupkvm(void)
{
  pde_t *pgdir = (pde_t *)kalloc();
  if (!pgdir) return 0;
  memset(pgdir, 0, PDX(KERNBASE) * sizeof(pde_t));
  memmove(&pgdir[PDX(KERNBASE)], &kpgdir[PDX(KERNBASE)], (NPDENTRIES - PDX(KERNBASE)) * sizeof(pde_t));
  return pgdir;
}

void
switchkvm(void)
{
  lcr3(V2P(kpgdir));
}

// Make p's address space current. Traps from user mode will arrive on p's kernel
// stack, which the task state segment names (esp0); with the I/O bitmap offset past
// the segment's end, every in/out from user mode faults.
void
switchuvm(struct proc *p)
{
  struct cpu *c = &cpu0;
  pushcli();
  c->gdt[SEG_TSS] = SEG_TASK(&c->ts);
  c->ts.ss0 = SEG_KDATA << 3;
  c->ts.esp0 = (uint)p->kstack + KSTACKSIZE;
  c->ts.iomb = 0xFFFF;
  ltr(SEG_TSS << 3);
  lcr3(V2P(p->pgdir));
  popcli();
}

// ---- User pages ----

// The PTE of user address va, creating its page table if alloc is set; 0 if there is
// no table (or no memory for one).
static pte_t *
walkpgdir(pde_t *pgdir, uint va, int alloc)
{
  pde_t *pde = &pgdir[PDX(va)];
  if (!(*pde & PTE_P)) {
    char *table;
    if (!alloc || (table = kalloc()) == 0) return 0;
    memset(table, 0, PGSIZE);
    *pde = V2P(table) | PTE_P | PTE_W | PTE_U;  // the PTEs below decide the permissions
  }
  return (pte_t *)P2V(PTE_ADDR(*pde)) + PTX(va);
}

// Map the user page at va to frame pa. Every user PTE is made here.
static int
map_page(pde_t *pgdir, uint va, uint pa, int perm)
{
  pte_t *pte = walkpgdir(pgdir, va, 1);
  if (!pte) return -1;
  if (*pte & PTE_P) panic("map_page: already mapped");
  *pte = pa | perm | PTE_P;
  return 0;
}

// Give the page at va, mapped to frame pa, its twin at va + MIRROR_OFFSET with the same
// permissions and bytes: in the reserve, the frame's fixed twin (the kernel wrote it when
// it wrote pa); without one, a frame of its own with a copy of pa.
static int
map_twin(pde_t *pgdir, uint va, uint pa, int perm)
{
  if (mirror_half) return map_page(pgdir, va + MIRROR_OFFSET, pa + mirror_half, perm);
  char *twin = kalloc();
  if (!twin) return -1;
  memmove(twin, P2V(pa), PGSIZE);
  if (map_page(pgdir, va + MIRROR_OFFSET, V2P(twin), perm) < 0) {
    kfree(twin);
    return -1;
  }
  settwin(pa, V2P(twin));
  return 0;
}

// A new zeroed, writable user page at va, without a twin. On failure the page itself may
// be left mapped (the caller frees the range).
static int
add_page(pde_t *pgdir, uint va)
{
  char *mem = kalloc();
  if (!mem) return -1;
  memset(mem, 0, PGSIZE);
  if (map_page(pgdir, va, V2P(mem), PTE_W | PTE_U) < 0) {
    kfree(mem);
    return -1;
  }
  return 0;
}

// The kernel address of user address va (native or mirror range), or 0 if va is not in
// a present user page.
static char *
uva2ka(pde_t *pgdir, uint va)
{
  if (va >= KERNBASE) return 0;
  pte_t *pte = walkpgdir(pgdir, va, 0);
  if (!pte || (*pte & (PTE_P | PTE_U)) != (PTE_P | PTE_U)) return 0;
  return (char *)P2V(PTE_ADDR(*pte)) + va % PGSIZE;
}

// The first process's memory: one page at 0 holding its code (initcode).
void
inituvm(pde_t *pgdir, char *init, uint sz)
{
  if (sz > PGSIZE) panic("inituvm: initcode is more than a page");
  if (add_page(pgdir, 0) < 0 || copyout(pgdir, 0, init, sz) < 0) panic("inituvm: out of memory");
}

// Grow user memory from oldsz to newsz with zeroed pages, each writable with its twin if
// mirrored; or with mirrored == LAZY_TWIN (and no reserve), read-only and marked known zero
// (PTE_ZERO), its twin left for its first write (unshare). A page and its twin are taken
// from the allocator together, and the page tables are walked once per 4 MiB (sbrk gives
// a mirrored process each page this way: every step here is paid twice).
// Returns newsz, or 0 with nothing added if memory runs out.
// allocuvm's work in one page table: new zeroed pages for the entries from pte on, for
// [va, end), with flags; their twins' entries from twin on (0: none) in the reserve, or
// else (owned) frames of their own. The address reached: end, or the page memory ran out at.
static inline __attribute__((always_inline)) uint
fillpages(pte_t *pte, pte_t *twin, uint va, uint end, uint flags, int owned)
{
  for (; va < end; va += PGSIZE, pte++) {
    char *mem, *copy;
    if (owned ? kalloc2(&mem, &copy) < 0 : (mem = kalloc()) == 0) break;
    if ((*pte & PTE_P) || (twin && (*twin & PTE_P))) panic("allocuvm: already mapped");
    stosb(mem, 0, PGSIZE);  // memset, inline: sbrk zeroes every page it gives
    *pte = V2P(mem) | flags;
    if (!twin) continue;
    // The twin: in the reserve, the frame's own (the kernel zeroed it with the frame);
    // else the second page taken, zeroed like the first, which the frame now owns.
    if (owned) {
      stosb(copy, 0, PGSIZE);
      *twin++ = V2P(copy) | flags;
    } else {
      *twin++ = (V2P(mem) + mirror_half) | flags;
    }
  }
  return va;
}

int
allocuvm(pde_t *pgdir, uint oldsz, uint newsz, int mirrored)
{
  if (newsz > USERTOP) return 0;
  if (PGROUNDUP(oldsz) >= newsz) return newsz < oldsz ? oldsz : newsz;  // no new page (sbrk(1))
  int lazy = mirrored == LAZY_TWIN && !mirror_half, twinned = mirrored && !lazy;
  for (uint va = PGROUNDUP(oldsz), end; va < newsz; va = end) {
    end = (va | (BIGPGSIZE - 1)) + 1;  // the next page table's (newsz <= USERTOP: no overflow)
    if (end > newsz) end = PGROUNDUP(newsz);
    pte_t *pte = walkpgdir(pgdir, va, 1), *twin = 0;
    uint reached = va;
    if (pte && (!twinned || (twin = walkpgdir(pgdir, va + MIRROR_OFFSET, 1)))) {
      if (!twinned)
        reached = fillpages(pte, 0, va, end, (lazy ? PTE_U | PTE_ZERO : PTE_W | PTE_U) | PTE_P, 0);
      else if (mirror_half)
        reached = fillpages(pte, twin, va, end, PTE_W | PTE_U | PTE_P, 0);
      else
        reached = fillpages(pte, twin, va, end, PTE_W | PTE_U | PTE_P, 1);
    }
    if (reached < end) {
      deallocuvm(pgdir, reached + PGSIZE, oldsz);  // with the page tables just made
      return 0;
    }
  }
  return newsz;
}

// freerange's work in one page table: entries i to n, their frames dropped if free_frames
// (to paired those that own a twin, if paired is not 0).
static inline __attribute__((always_inline)) void
freeentries(pte_t *table, uint i, uint n, int free_frames, struct freelist *l, struct freelist *paired)
{
  for (; i <= n; i++) {
    if (table[i] & PTE_P) {
      if (free_frames) dropframe(PTE_ADDR(table[i]), l, paired);
      table[i] = 0;
    } else if (table[i]) {
      table[i] = 0;
    }
  }
}

// Unmap the present user pages in [from, to), freeing their frames (and so the twins they
// own) if free_frames is set (the mirror range's twins belong to their pages' frames: they
// are only unmapped), and forget the program-image pages not yet read there. Walks each
// page table once.
static void
freerange(pde_t *pgdir, uint from, uint to, int free_frames)
{
  struct freelist freed = {0, 0, 0}, paired = {0, 0, 0};
  uint a = PGROUNDUP(from);
  while (a < to) {
    uint tableEnd = ((a >> 22) + 1) << 22;     // 0 when the table is the last one
    uint end = (tableEnd == 0 || tableEnd > to) ? to : tableEnd;
    pde_t pde = pgdir[PDX(a)];
    if (pde & PTE_P) {
      pte_t *table = (pte_t *)P2V(PTE_ADDR(pde));
      uint i = PTX(a), n = PTX(end - 1);
      // A frame may own a twin only in a mirrored process (its mirror table is there).
      if (!free_frames)
        freeentries(table, i, n, 0, &freed, 0);
      else if (!mirror_half && (pgdir[PDX(a + MIRROR_OFFSET)] & PTE_P))
        freeentries(table, i, n, 1, &freed, &paired);
      else
        freeentries(table, i, n, 1, &freed, 0);
    }
    if (end == to) break;
    a = end;
  }
  kfree_list(&freed);
  kfree_pairs(&paired);
}

// Free the page tables of pgdir that cover [from, to).
static void
freetables(pde_t *pgdir, uint from, uint to)
{
  for (uint i = PDX(from); from < to && i <= PDX(to - 1); i++) {
    if (pgdir[i] & PTE_P) kfree(P2V(PTE_ADDR(pgdir[i])));
    pgdir[i] = 0;
  }
}

// Shrink user memory from oldsz to newsz, freeing pages and their twins, and the page
// tables left with nothing to map (so that freevm need only visit those below the size);
// returns newsz.
int
deallocuvm(pde_t *pgdir, uint oldsz, uint newsz)
{
  if (newsz >= oldsz) return oldsz;
  // The twins first: they go with the pages' frames. Nothing to unmap when every table
  // goes (freevm).
  if (newsz > 0) freerange(pgdir, newsz + MIRROR_OFFSET, oldsz + MIRROR_OFFSET, 0);
  freerange(pgdir, newsz, oldsz, 1);
  uint unused = (PGROUNDUP(newsz) + BIGPGSIZE - 1) & ~(BIGPGSIZE - 1);  // the first table wholly above
  freetables(pgdir, unused, oldsz);
  freetables(pgdir, unused + MIRROR_OFFSET, oldsz + MIRROR_OFFSET);
  return newsz;
}

// Remove the twin of the page at va (the translator's spill page has none): a page known
// zero becomes an ordinary writable page without one, and a program-image page not yet
// read a new zero page (the spill page is the translated code's scratch, zeros in the
// file, which it writes before it reads: not worth a read from the disk). 0, or -1 if out
// of memory.
int
dropmirror(pde_t *pgdir, uint va)
{
  freerange(pgdir, va + MIRROR_OFFSET, va + MIRROR_OFFSET + PGSIZE, 0);
  pte_t *pte = walkpgdir(pgdir, va, 0);
  // The frame's twin goes, unless another process maps the frame (and so the twin) too.
  if (!mirror_half && pte && (*pte & PTE_P) && twinof(PTE_ADDR(*pte)) && krefs(P2V(PTE_ADDR(*pte))) == 1) {
    kfree(P2V(twinof(PTE_ADDR(*pte))));
    settwin(PTE_ADDR(*pte), 0);
  }
  if (pte && (*pte & PTE_ZERO)) *pte = (*pte & ~PTE_ZERO) | PTE_W;
  if (pte && (*pte & (PTE_P | PTE_IMAGE)) == PTE_IMAGE) {
    *pte = 0;
    return add_page(pgdir, va);
  }
  return 0;
}

// Free an address space whose user pages all lie below sz (and their twins below
// sz + MIRROR_OFFSET): its user pages and page tables, then the directory.
void
freevm(pde_t *pgdir, uint sz)
{
  if (!pgdir) panic("freevm: no page directory");
  deallocuvm(pgdir, sz > USERTOP ? USERTOP : sz, 0);
  kfree((char *)pgdir);
}

// Make the page at va, and its twin, unreachable from user mode: the guard page below
// the user stack, which turns a stack overflow into a page fault.
void
clearpteu(pde_t *pgdir, uint va)
{
  pte_t *pte = walkpgdir(pgdir, va, 0);
  if (!pte || !(*pte & PTE_P)) panic("clearpteu: no page");
  *pte &= ~PTE_U;
  if ((pte = walkpgdir(pgdir, va + MIRROR_OFFSET, 0)) && (*pte & PTE_P))
    *pte &= ~PTE_U;
}

// ---- Copy-on-write fork ----
//
// fork shares the parent's frames with the child instead of copying them: every writable
// user page becomes read-only with PTE_COW in both, its frame gets one more reference
// (kalloc.c), and a mirrored page's twin is shared the same way, so a shared page keeps
// its twin and recovery works on it for every process that maps it. The first write to
// such a page, by the process (a page fault, cowfault()) or by the kernel (copyout),
// unshares the pair: the native page gets a new frame holding a copy of its old frame, and
// that frame a new twin holding a copy of the old twin (not the twin re-derived from the
// native copy: the two copies stay independent, so an error the native frame holds is not
// written into both), or, when no other process maps the frame any more, both are simply
// made writable again. With a mirror
// reserve the twin is the fixed frame pa + mirror_half: the translated kernel's copy of
// the native page writes it, and only the mapping moves.

// Invalidate the TLB entry of va if pgdir is the address space in use.
static void
flushpage(pde_t *pgdir, uint va)
{
  if (V2P(pgdir) == rcr3()) invlpg(va);
}

// Share the present pages of pgdir in [from, to) (native or mirror range) with d: each is
// mapped at the same address in d, both read-only until written (PTE_COW), and its frame
// gets a reference if counted (the native range: a twin belongs to its page's frame). A
// program-image page not yet read stays one in d (d's process reads it when it touches
// it). Walks each page table once. 0, or -1 if out of memory.
static int
sharerange(pde_t *pgdir, pde_t *d, uint from, uint to, int counted)
{
  int changed = 0;
  for (uint a = from; a < to;) {
    uint end = ((a >> 22) + 1) << 22;
    if (end > to) end = to;
    pde_t pde = pgdir[PDX(a)];
    if (!(pde & PTE_P)) {
      a = end;
      continue;
    }
    pte_t *src = (pte_t *)P2V(PTE_ADDR(pde)), *dst = 0;
    for (uint i = PTX(a), n = PTX(end - 1); i <= n; i++) {
      pte_t e = src[i];
      if (!(e & (PTE_P | PTE_IMAGE))) continue;
      if (!dst) {
        pte_t *t = walkpgdir(d, (a & ~(BIGPGSIZE - 1)) | i << 12, 1);
        if (!t) return -1;
        dst = t - i;
      }
      if (e & PTE_P) {
        if (e & PTE_W) {
          e = (e & ~PTE_W) | PTE_COW;
          src[i] = e;
          changed = 1;
        }
        if (counted) shareframe(PTE_ADDR(e));
        e &= ~(PTE_A | PTE_D);
      }
      dst[i] = e;
    }
    a = end;
  }
  if (changed && V2P(pgdir) == rcr3()) lcr3(V2P(pgdir));  // the pages made read-only
  return 0;
}

// The child's address space for fork: the parent's pages and their twins, shared.
pde_t *
copyuvm(pde_t *pgdir, uint sz)
{
  pde_t *d = setupkvm();
  if (!d) return 0;
  if (sharerange(pgdir, d, 0, sz, 1) < 0 || sharerange(pgdir, d, MIRROR_OFFSET, MIRROR_OFFSET + sz, 0) < 0) {
    freevm(d, sz);
    return 0;
  }
  return d;
}

// Make the page of PTE pte, and its twin's PTE twin if not 0 (a twin the frame owns),
// writable, copying the frame and the twin first if another process maps the frame too.
// 0, or -1 if out of memory.
static int
ownframe(pte_t *pte, pte_t *twin)
{
  char *old = P2V(PTE_ADDR(*pte));
  if (krefs(old) > 1) {
    char *mem, *copy = 0;
    if (twin ? kalloc2(&mem, &copy) < 0 : (mem = kalloc()) == 0) return -1;
    memmove(mem, old, PGSIZE);
    *pte = V2P(mem) | PTE_FLAGS(*pte);
    if (copy) {
      memmove(copy, P2V(PTE_ADDR(*twin)), PGSIZE);
      *twin = V2P(copy) | PTE_FLAGS(*twin);
    }
    kfree(old);  // one reference less: the other processes keep it, and its twin
  }
  *pte = (*pte & ~(PTE_COW | PTE_IMAGE)) | PTE_W;  // no longer the program file's bytes
  if (twin) *twin = (*twin & ~(PTE_COW | PTE_IMAGE)) | PTE_W;
  return 0;
}

// Unshare the copy-on-write page at user address va (native or mirror) of pgdir and its
// twin before a write; a page known zero gets its twin (zeros, like the page) and becomes
// writable. 0 (also when there is nothing to do), or -1 if out of memory.
static int
unshare(pde_t *pgdir, uint va)
{
  uint n = PGROUNDDOWN(va >= USERTOP ? va - MIRROR_OFFSET : va);
  pte_t *pte = walkpgdir(pgdir, n, 0);
  pte_t *twin = walkpgdir(pgdir, n + MIRROR_OFFSET, 0);
  int cow = pte && (*pte & PTE_P) && (*pte & (PTE_COW | PTE_ZERO));
  int twincow = twin && (*twin & (PTE_P | PTE_COW)) == (PTE_P | PTE_COW);
  if (!cow && !twincow) return 0;
  if (cow && (*pte & PTE_ZERO)) {
    char *mem = kalloc();
    pte_t *slot = mem ? walkpgdir(pgdir, n + MIRROR_OFFSET, 1) : 0;
    if (slot && (*slot & PTE_P)) panic("unshare: a page known zero has a twin");
    if (!slot || ownframe(pte, 0) < 0) {  // the page's own frame, if fork shares it
      if (mem) kfree(mem);
      return -1;
    }
    memset(mem, 0, PGSIZE);
    *slot = V2P(mem) | PTE_W | PTE_U | PTE_P;
    settwin(PTE_ADDR(*pte), V2P(mem));
    *pte &= ~PTE_ZERO;
    flushpage(pgdir, n);
    return 0;
  }
  if (!mirror_half) {
    // A twin is copy-on-write exactly when its page is (sharerange, mapimage).
    if (!cow) panic("unshare: a twin shared without its page");
    if (ownframe(pte, twin && (*twin & PTE_P) ? twin : 0) < 0) return -1;
    flushpage(pgdir, n);
    flushpage(pgdir, n + MIRROR_OFFSET);
    return 0;
  }
  if (cow) {
    if (ownframe(pte, 0) < 0) return -1;
    flushpage(pgdir, n);
  }
  if (twincow) {
    *twin = (PTE_ADDR(*pte) + mirror_half) | (PTE_FLAGS(*twin) & ~PTE_COW) | PTE_W;
    flushpage(pgdir, n + MIRROR_OFFSET);
  }
  return 0;
}

// A page fault at va in p: if it is a write to a copy-on-write user page, or to a page
// known zero (at its address or its twin's), unshare it and return 0 (the instruction
// runs again); -1 if it is not one, or memory ran out.
int
cowfault(struct proc *p, uint va)
{
  uint n = va >= USERTOP ? va - MIRROR_OFFSET : va;
  if (va >= KERNBASE || n >= p->sz) return -1;
  pte_t *pte = walkpgdir(p->pgdir, va, 0);
  if (pte && (*pte & (PTE_P | PTE_U | PTE_COW)) == (PTE_P | PTE_U | PTE_COW)) return unshare(p->pgdir, va);
  pte_t *native = walkpgdir(p->pgdir, n, 0);
  if (native && (*native & (PTE_P | PTE_U | PTE_ZERO)) == (PTE_P | PTE_U | PTE_ZERO)) return unshare(p->pgdir, va);
  return -1;
}

// Is the page at native address va of pgdir known zero (no twin yet, see allocuvm)?
int
knownzero(pde_t *pgdir, uint va)
{
  pte_t *pte = walkpgdir(pgdir, va, 0);
  return pte && (*pte & (PTE_P | PTE_ZERO)) == (PTE_P | PTE_ZERO);
}

// ---- Program-image pages read on demand ----
//
// exec maps the pages a program file fills without reading them: their PTEs are not
// present and marked PTE_IMAGE (no frame, no twin). The first touch, a page fault from
// user mode or the kernel's copyin/copyout (see readimage), brings the page in (exec.c,
// imagepage): shared from an ancestor running the same program that holds it unchanged,
// or else read from the file into a new frame and then shared with the ancestors running
// the program that have not read it yet. Such a page keeps
// PTE_IMAGE while it holds the file's bytes: read-only and copy-on-write, with its twin (a
// copy) the same way, so that it can be shared; its first write makes it an ordinary page
// (unshare). A page not present cannot be read, so it needs no twin: the mirroring
// invariant ("every page a process can read has a healthy twin or is known zero") holds
// throughout, and the monitor's walk, which sees present pages only, checks it.

// Mark the pages of pgdir in [from, to) (page-aligned, none mapped) as program-image pages
// not yet read. 0, or -1 if out of memory for a page table.
int
markimage(pde_t *pgdir, uint from, uint to)
{
  for (uint va = from; va < to; va += PGSIZE) {
    pte_t *pte = walkpgdir(pgdir, va, 1);
    if (!pte) return -1;
    if (*pte & PTE_P) panic("markimage: already mapped");
    *pte = PTE_IMAGE;
  }
  return 0;
}

// Is the page at native address va of pgdir a program-image page not yet read?
int
imagemarked(pde_t *pgdir, uint va)
{
  pte_t *pte = walkpgdir(pgdir, va, 0);
  return pte && (*pte & (PTE_P | PTE_IMAGE)) == PTE_IMAGE;
}

// Map the kernel page mem, holding the bytes of the program-image page at va, there:
// read-only until written, with its twin if mirrored. 0 (mem is the page's now, or was not
// needed: the page was mapped meanwhile and mem is freed), or -1 if out of memory (mem is
// the caller's).
int
mapimage(pde_t *pgdir, uint va, char *mem, int mirrored)
{
  pte_t *pte = walkpgdir(pgdir, va, 0);
  if (!pte || (*pte & (PTE_P | PTE_IMAGE)) != PTE_IMAGE) {
    kfree(mem);
    return 0;
  }
  if (mirrored && map_twin(pgdir, va, V2P(mem), PTE_U | PTE_COW) < 0) return -1;
  *pte = V2P(mem) | PTE_U | PTE_COW | PTE_IMAGE | PTE_P;
  return 0;
}

// Share the program-image page at va of src, if src holds it unchanged, with dst, if dst
// has not read it: dst maps the same frame and twin, both copy-on-write. 0 if shared, -1
// if not (or out of memory for dst's mirror page table: dst then reads the page itself).
int
shareimage(pde_t *src, pde_t *dst, uint va)
{
  pte_t *s = walkpgdir(src, va, 0), *d = walkpgdir(dst, va, 0);
  if (!s || (*s & (PTE_P | PTE_IMAGE)) != (PTE_P | PTE_IMAGE) || !d || (*d & (PTE_P | PTE_IMAGE)) != PTE_IMAGE) return -1;
  pte_t *twin = walkpgdir(src, va + MIRROR_OFFSET, 0);
  if (twin && (*twin & PTE_P) && !walkpgdir(dst, va + MIRROR_OFFSET, 1)) return -1;
  // With the tables in place, sharing cannot fail.
  sharerange(src, dst, va + MIRROR_OFFSET, va + MIRROR_OFFSET + PGSIZE, 0);
  sharerange(src, dst, va, va + PGSIZE, 1);
  return 0;
}

// The kernel address of frame pa, for reading: the direct map, or for a twin in the
// reserve the mirror map. (Never store through the mirror map: see the top of this file.)
char *
frame_kva(uint pa)
{
  return mirror_half && pa >= mirror_half ? (char *)KMIRROR + (pa - mirror_half) : P2V(pa);
}

// ---- Mirror bookkeeping ----

// Do two pages differ? Word by word: this runs at every system call when asked to.
static int
pagediffers(uint *a, uint *b)
{
  for (int i = 0; i < PGSIZE / 4; i++)
    if (a[i] != b[i]) return 1;
  return 0;
}

// Is a page all zeros?
static int
pagezero(uint *a)
{
  for (int i = 0; i < PGSIZE / 4; i++)
    if (a[i]) return 0;
  return 1;
}

// Compare the native and mirror copies of p's pages (the spill page excepted) and
// report each difference on the console; returns how many pages differ. With
// dirtyonly, only pages written since the last check (native or mirror PTE dirty) are
// compared, and their dirty bits are cleared: cheap enough to run at every system call.
int
mirrorcheck(struct proc *p, int dirtyonly)
{
  int bad = 0, cleared = 0;
  for (uint a = 0; a < p->sz; a += PGSIZE) {
    pte_t *pte = walkpgdir(p->pgdir, a, 0);
    if (!pte || !(*pte & PTE_P) || a == p->spill) continue;
    if (*pte & PTE_ZERO) {  // no twin yet: the page must still be all zeros
      if (!dirtyonly && !pagezero((uint *)frame_kva(PTE_ADDR(*pte)))) {
        cprintf("mirror: pid %d (%s): page 0x%x is known zero but is not\n", p->pid, p->name, a);
        bad++;
      }
      continue;
    }
    pte_t *mpte = walkpgdir(p->pgdir, a + MIRROR_OFFSET, 0);
    if (!mpte || !(*mpte & PTE_P)) {
      cprintf("mirror: pid %d (%s): page 0x%x has no mirror page\n", p->pid, p->name, a);
      bad++;
      continue;
    }
    if (dirtyonly) {
      if (!((*pte | *mpte) & PTE_D)) continue;
      *pte &= ~PTE_D;
      *mpte &= ~PTE_D;
      cleared = 1;
    }
    if (PTE_ADDR(*pte) == PTE_ADDR(*mpte)) {
      cprintf("mirror: pid %d (%s): page 0x%x shares its frame with its mirror\n", p->pid, p->name, a);
      bad++;
    } else if (pagediffers((uint *)frame_kva(PTE_ADDR(*pte)), (uint *)frame_kva(PTE_ADDR(*mpte)))) {
      cprintf("mirror: pid %d (%s): page 0x%x differs from its mirror\n", p->pid, p->name, a);
      bad++;
    }
  }
  if (cleared && p == myproc()) lcr3(V2P(p->pgdir));  // forget the cached dirty bits
  return bad;
}

// Pages of pgdir's user memory that have a mirror.
uint
mirrorpages(pde_t *pgdir, uint sz)
{
  uint n = 0;
  for (uint a = 0; a < sz; a += PGSIZE) {
    pte_t *mpte = walkpgdir(pgdir, a + MIRROR_OFFSET, 0);
    if (mpte && (*mpte & PTE_P)) n++;
  }
  return n;
}

// The user address (native or mirror) at which p maps physical page pa, or -1.
int
userpageof(struct proc *p, uint pa)
{
  for (uint a = 0; a < p->sz; a += PGSIZE) {
    for (uint va = a; va < KERNBASE; va += MIRROR_OFFSET) {
      pte_t *pte = walkpgdir(p->pgdir, va, 0);
      if (pte && (*pte & PTE_P) && PTE_ADDR(*pte) == pa) return va;
      if (va + MIRROR_OFFSET < va) break;
    }
  }
  return -1;
}

// The physical frame behind user address va, or 0 if none is mapped.
uint
userframe(pde_t *pgdir, uint va)
{
  pte_t *pte = walkpgdir(pgdir, va, 0);
  return pte && (*pte & PTE_P) ? PTE_ADDR(*pte) : 0;
}

// Point the user page at va to the kernel page mem (same permissions); with a reserve,
// va is the native page and its twin, if mapped, follows to mem's twin. The old frame
// is left out of use: it holds a memory error. Without a reserve twins stay owned by their
// pages' frames: a native page's new frame takes over the old frame's twin, or a copy of
// it while other processes map the old frame (and its twin) too; a twin's new frame
// becomes its page frame's twin in every process that maps that frame. 0, or -1 if out of
// memory (nothing changed).
int
remappage(pde_t *pgdir, uint va, char *mem)
{
  pte_t *pte = walkpgdir(pgdir, va, 0);
  if (!pte || !(*pte & PTE_P)) panic("remappage");
  uint old = PTE_ADDR(*pte), pa = V2P(mem);
  if (!mirror_half && va < USERTOP && twinof(old)) {
    pte_t *twin = walkpgdir(pgdir, va + MIRROR_OFFSET, 0);
    if (krefs(P2V(old)) == 1) {
      settwin(pa, twinof(old));
      settwin(old, 0);
    } else if (twin && (*twin & PTE_P)) {
      char *copy = kalloc();
      if (!copy) return -1;
      memmove(copy, P2V(twinof(old)), PGSIZE);
      *twin = V2P(copy) | PTE_FLAGS(*twin);
      settwin(pa, V2P(copy));
    }
  } else if (!mirror_half && va >= USERTOP) {
    uint page = userframe(pgdir, va - MIRROR_OFFSET);
    if (page && twinof(page) == old) {
      settwin(page, pa);
      retwin(old, pa);
    }
  }
  *pte = pa | PTE_FLAGS(*pte);
  pte_t *twin = mirror_half ? walkpgdir(pgdir, va + MIRROR_OFFSET, 0) : 0;
  if (twin && (*twin & PTE_P)) *twin = (pa + mirror_half) | PTE_FLAGS(*twin);
  lcr3(rcr3());
  return 0;
}

// Map frame to instead of from wherever pgdir maps it in the mirror range below
// sz + MIRROR_OFFSET (a twin moved by remappage).
void
replacetwin(pde_t *pgdir, uint sz, uint from, uint to)
{
  for (uint a = MIRROR_OFFSET; a < sz + MIRROR_OFFSET; a += PGSIZE) {
    pte_t *pte = walkpgdir(pgdir, a, 0);
    if (pte && (*pte & PTE_P) && PTE_ADDR(*pte) == from) *pte = to | PTE_FLAGS(*pte);
  }
}

// ---- The door to user memory ----
//
// The rule: kernel code reads and writes a process's memory only through the functions
// below. copyin() and copyinstr() read it; copyout() writes it. Everything else is
// built on them: system-call arguments (syscall.c), the memrefs through which the file
// system, pipes and the console move data (deliver and collect), exec's loader and
// initial stack. A user address is carried as a uint, never as a pointer, and the one
// function that turns it into a kernel pointer, uva2ka(), is private to this file. To
// check: `grep -n uva2ka guest/kernel/*.c` finds vm.c alone, and
// `grep -n 'copyout\|deliver' guest/kernel/*.c` lists every place that writes user memory.
//
// copyout() is also where mirroring happens: after the bytes reach the native pages,
// the same bytes go to the twins of the pages that have one, so no caller can forget
// it. (With a reserve the translated kernel's own mirror stores have written them.) Reads need no mirroring: both copies hold the same bytes. (Page-level work is not
// "access" in this sense: allocating, copying for fork, comparing and recovering whole
// frames stays in this file and in mce.c.)

#define min(a, b) ((a) < (b) ? (a) : (b))

// [va, va + n) lies in the native range, below the mirrors.
static int
native_range(uint va, uint n)
{
  return va < USERTOP && n <= USERTOP - va;
}

// The kernel address of user address va of pgdir, not present: if it is a program-image
// page of the current process not yet read, read it (and, before a write, unshare it: it
// comes in copy-on-write); 0 if it is not one, or cannot be. (System calls read their
// pointer arguments' pages in argaddr, before they take any lock; this is for the other
// reads, exec's argv among them. Out of line: copyin and copyout stay small.)
static __attribute__((noinline)) char *
readimage(pde_t *pgdir, uint va, int to_user)
{
  struct proc *p = myproc();
  if (!p || p->pgdir != pgdir || imagepage(p, va) < 0) return 0;
  if (to_user && unshare(pgdir, va) < 0) return 0;
  return uva2ka(pgdir, va);
}

// Copy n bytes between kernel memory at k and user memory at va, a page at a time,
// into user memory if to_user is set (a page shared since fork is unshared first). Stops
// at the first address that is not in a present user page; returns the bytes copied.
// (Inlined in copyin and copyout, as the compiler did before readimage came in.)
static inline __attribute__((always_inline)) uint
copy_pages(pde_t *pgdir, uint va, char *k, uint n, int to_user)
{
  uint done = 0;
  while (done < n) {
    if (to_user && unshare(pgdir, va + done) < 0) break;
    char *u = uva2ka(pgdir, va + done);
    if (!u && (u = readimage(pgdir, va + done, to_user)) == 0) break;
    uint chunk = min(n - done, PGSIZE - (va + done) % PGSIZE);
    if (to_user) memmove(u, k + done, chunk);
    else memmove(k + done, u, chunk);
    done += chunk;
  }
  return done;
}

// The mirroring step of copyout: the n bytes just written at va go to the twins too.
// Pages without a twin (an unmirrored process, the spill page) are passed over.
static void
copy_to_twins(pde_t *pgdir, uint va, const char *src, uint n)
{
  for (uint done = 0, chunk; done < n; done += chunk) {
    chunk = min(n - done, PGSIZE - (va + done) % PGSIZE);
    char *twin = uva2ka(pgdir, va + done + MIRROR_OFFSET);
    if (twin) memmove(twin, src + done, chunk);
  }
}

#ifdef MIRRORBUG_READ
// The negative-control kernel (build/guest/kernel-mirrorbug, booted only by the
// mirroring tests) forgets the twins while a read() system call runs; the divergence
// check must notice. The real kernel has no such branch.
#define twins_forgotten() (myproc() && myproc()->tf->eax == SYS_read)
#else
#define twins_forgotten() 0
#endif

// Write n bytes from kernel memory src to user address va of pgdir, and to the twins.
// 0, or -1 if part of the range is not user memory (the part before it is written,
// to both copies).
int
copyout(pde_t *pgdir, uint va, const void *src, uint n)
{
  if (!native_range(va, n)) return -1;
  uint done = copy_pages(pgdir, va, (char *)src, n, 1);
  if (!mirror_half && !twins_forgotten()) copy_to_twins(pgdir, va, src, done);
  return done == n ? 0 : -1;
}

// Did the current process lose data while the kernel read its memory? A machine check
// on a page with no healthy copy (mce.c) kills the process and the interrupted read goes
// on with zeros: what was read must then reach no one (no file, pipe or child gets it).
static int
readlost(void)
{
  struct proc *p = myproc();
  return p && p->killed;
}

// Read n bytes at user address va of pgdir into kernel memory dst; 0, or -1 if part of
// the range is not user memory or its data was lost.
int
copyin(pde_t *pgdir, void *dst, uint va, uint n)
{
  return native_range(va, n) && copy_pages(pgdir, va, dst, n, 0) == n && !readlost() ? 0 : -1;
}

// Read the NUL-terminated string at user address va of pgdir into dst, which holds max
// bytes. Its length, or -1 if it is not terminated within max bytes of user memory or
// its data was lost.
int
copyinstr(pde_t *pgdir, char *dst, uint va, uint max)
{
  uint len = 0;
  while (len < max && va + len < USERTOP) {
    char *u = uva2ka(pgdir, va + len);
    if (!u && (u = readimage(pgdir, va + len, 0)) == 0) break;
    if (!u) break;
    for (uint chunk = min(max - len, PGSIZE - (va + len) % PGSIZE); chunk > 0; chunk--, len++)
      if ((dst[len] = *u++) == 0) return readlost() ? -1 : (int)len;
  }
  return -1;
}

// Copy n bytes from kernel memory into the memref, and advance it.
int
deliver(struct memref *to, const void *src, uint n)
{
  if (to->pgdir) {
    if (copyout(to->pgdir, to->addr, src, n) < 0) return -1;
  } else {
    memmove((void *)to->addr, src, n);
  }
  to->addr += n;
  return 0;
}

// Copy n bytes from the memref into kernel memory, and advance it.
int
collect(void *dst, struct memref *from, uint n)
{
  if (from->pgdir) {
    if (copyin(from->pgdir, dst, from->addr, n) < 0) return -1;
  } else {
    memmove(dst, (void *)from->addr, n);
  }
  from->addr += n;
  return 0;
}
