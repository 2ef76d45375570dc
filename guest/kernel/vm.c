// Address spaces. The kernel half of every page directory maps physical memory at
// KERNBASE with 4 MiB pages (shared by copying the directory entries); the user
// half, below USERTOP, maps 4 KiB pages. User PTEs are created in one place,
// mappages().
//
// Mirroring: a mirrored process (its program was translated) has, for every user page
// at va, a twin at va + MIRROR_OFFSET with its own frame, the same permissions and the
// same bytes. The translated code writes both; the kernel keeps them equal when it
// writes user memory itself, always through mirrorcopy(). Whether an address space is
// mirrored is visible in its page tables: a page has a twin exactly when the PTE at
// va + MIRROR_OFFSET is present. (The translator's spill page, scratch that is never
// mirrored, has none.)
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "proc.h"
#include "defs.h"
#include "elf.h"
#include "fs.h"
#include "file.h"

static pde_t *kpgdir;  // the kernel-only page directory (used by the scheduler)

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
  asm volatile("ljmp %0, $1f; 1:" : : "i"(SEG_KCODE << 3));
}

void
kvmalloc(uint phystop)
{
  kpgdir = (pde_t *)kalloc();
  if (!kpgdir) panic("kvmalloc");
  memset(kpgdir, 0, PGSIZE);
  for (uint pa = 0; pa < phystop; pa += 0x400000)
    kpgdir[PDX(KERNBASE + pa)] = pa | PTE_P | PTE_W | PTE_PS;
  for (uint va = DEVSPACE; va != 0; va += 0x400000)   // devices, 1:1, up to 4 GiB
    kpgdir[PDX(va)] = va | PTE_P | PTE_W | PTE_PS | 0x10 /* cache disable */;
  switchkvm();
}

// A new page directory holding only the kernel's mappings.
pde_t *
setupkvm(void)
{
  pde_t *pgdir = (pde_t *)kalloc();
  if (!pgdir) return 0;
  memset(pgdir, 0, PGSIZE);
  for (int i = PDX(KERNBASE); i < NPDENTRIES; i++)
    pgdir[i] = kpgdir[i];
  return pgdir;
}

void
switchkvm(void)
{
  lcr3(V2P(kpgdir));
}

// Run process p: its kernel stack for traps from user mode, its page directory.
void
switchuvm(struct proc *p)
{
  pushcli();
  struct cpu *c = &cpu0;
  c->gdt[SEG_TSS] = SEG_BYTES(STS_T32A, &c->ts, sizeof(c->ts) - 1, 0);
  c->ts.ss0 = SEG_KDATA << 3;
  c->ts.esp0 = (uint)p->kstack + KSTACKSIZE;
  c->ts.iomb = 0xFFFF;  // no I/O permission bitmap: user in/out faults
  ltr(SEG_TSS << 3);
  lcr3(V2P(p->pgdir));
  popcli();
}

// The PTE for user address va, allocating its page table if asked.
static pte_t *
walkpgdir(pde_t *pgdir, uint va, int alloc)
{
  pde_t *pde = &pgdir[PDX(va)];
  pte_t *table;
  if (*pde & PTE_P) {
    table = (pte_t *)P2V(PTE_ADDR(*pde));
  } else {
    if (!alloc || (table = (pte_t *)kalloc()) == 0)
      return 0;
    memset(table, 0, PGSIZE);
    *pde = V2P(table) | PTE_P | PTE_W | PTE_U;
  }
  return &table[PTX(va)];
}

// Map [va, va+size) to physical [pa, ...) with permissions perm. Every user PTE
// the kernel creates is created here.
static int
mappages(pde_t *pgdir, uint va, uint size, uint pa, int perm)
{
  uint a = PGROUNDDOWN(va);
  uint last = PGROUNDDOWN(va + size - 1);
  for (;;) {
    pte_t *pte = walkpgdir(pgdir, a, 1);
    if (!pte) return -1;
    if (*pte & PTE_P) panic("mappages: remap");
    *pte = pa | perm | PTE_P;
    if (a == last) break;
    a += PGSIZE;
    pa += PGSIZE;
  }
  return 0;
}

// Load the first process's code (at most one page) at address 0.
void
inituvm(pde_t *pgdir, char *init, uint sz)
{
  if (sz >= PGSIZE) panic("inituvm: more than a page");
  char *mem = kalloc();
  if (!mem) panic("inituvm: out of memory");
  memset(mem, 0, PGSIZE);
  mappages(pgdir, 0, PGSIZE, V2P(mem), PTE_W | PTE_U);
  memmove(mem, init, sz);
}

// The kernel address of user address uva (native or mirror range), or 0 if it is not
// a present user page.
static char *
uva2ka(pde_t *pgdir, uint uva)
{
  if (uva >= KERNBASE) return 0;
  pte_t *pte = walkpgdir(pgdir, uva, 0);
  if (!pte || (*pte & (PTE_P | PTE_U)) != (PTE_P | PTE_U)) return 0;
  return (char *)P2V(PTE_ADDR(*pte)) + (uva % PGSIZE);
}

// Read sz bytes of file ip at offset into user memory at addr (page aligned).
int
loaduvm(pde_t *pgdir, char *addr, struct inode *ip, uint offset, uint sz)
{
  if ((uint)addr % PGSIZE) panic("loaduvm: unaligned");
  for (uint i = 0; i < sz; i += PGSIZE) {
    char *ka = uva2ka(pgdir, (uint)addr + i);
    if (!ka) panic("loaduvm: missing page");
    uint n = sz - i < PGSIZE ? sz - i : PGSIZE;
    if (readi(ip, ka, offset + i, n) != n) return -1;
  }
  return 0;
}

// A zeroed user page at va.
static int
allocpage(pde_t *pgdir, uint va)
{
  char *mem = kalloc();
  if (!mem) return -1;
  memset(mem, 0, PGSIZE);
  if (mappages(pgdir, va, PGSIZE, V2P(mem), PTE_W | PTE_U) < 0) {
    kfree(mem);
    return -1;
  }
  return 0;
}

// Grow user memory from oldsz to newsz, with mirror pages if mirrored; returns newsz,
// or 0 on failure (nothing kept).
int
allocuvm(pde_t *pgdir, uint oldsz, uint newsz, int mirrored)
{
  if (newsz > USERTOP) return 0;
  if (newsz < oldsz) return oldsz;
  for (uint a = PGROUNDUP(oldsz); a < newsz; a += PGSIZE) {
    if (allocpage(pgdir, a) < 0 || (mirrored && allocpage(pgdir, a + MIRROR_OFFSET) < 0)) {
      deallocuvm(pgdir, a + PGSIZE, oldsz);
      return 0;
    }
  }
  return newsz;
}

// Free the present user pages in [from, to). Walks each page table once (a process's
// exit visits every slot below USERTOP, twice for a mirrored one).
static void
freerange(pde_t *pgdir, uint from, uint to)
{
  uint a = PGROUNDUP(from);
  while (a < to) {
    uint tableEnd = ((a >> 22) + 1) << 22;     // 0 when the table is the last one
    uint end = (tableEnd == 0 || tableEnd > to) ? to : tableEnd;
    pde_t pde = pgdir[PDX(a)];
    if (pde & PTE_P) {
      pte_t *table = (pte_t *)P2V(PTE_ADDR(pde));
      for (uint i = PTX(a), n = PTX(end - 1); i <= n; i++) {
        if (table[i] & PTE_P) {
          kfree(P2V(PTE_ADDR(table[i])));
          table[i] = 0;
        }
      }
    }
    if (end == to) break;
    a = end;
  }
}

// Shrink user memory from oldsz to newsz, freeing pages and their mirrors; returns newsz.
int
deallocuvm(pde_t *pgdir, uint oldsz, uint newsz)
{
  if (newsz >= oldsz) return oldsz;
  freerange(pgdir, newsz, oldsz);
  freerange(pgdir, newsz + MIRROR_OFFSET, oldsz + MIRROR_OFFSET);
  return newsz;
}

// Remove the mirror of the page at va (the translator's spill page has none).
void
dropmirror(pde_t *pgdir, uint va)
{
  freerange(pgdir, va + MIRROR_OFFSET, va + MIRROR_OFFSET + PGSIZE);
}

// Free a page directory, its user pages and its page tables.
void
freevm(pde_t *pgdir)
{
  if (!pgdir) panic("freevm: no pgdir");
  deallocuvm(pgdir, USERTOP, 0);
  for (int i = 0; i < PDX(KERNBASE); i++)
    if (pgdir[i] & PTE_P)
      kfree(P2V(PTE_ADDR(pgdir[i])));
  kfree((char *)pgdir);
}

// Make a user page inaccessible from user mode (the stack guard page).
void
clearpteu(pde_t *pgdir, char *uva)
{
  pte_t *pte = walkpgdir(pgdir, (uint)uva, 0);
  if (!pte) panic("clearpteu");
  *pte &= ~PTE_U;
  if ((pte = walkpgdir(pgdir, (uint)uva + MIRROR_OFFSET, 0)) && (*pte & PTE_P))
    *pte &= ~PTE_U;
}

// Copy the page at va of pgdir, if present, into a new page of d. 0 if absent, 1 if
// copied, -1 if out of memory.
static int
copypage(pde_t *pgdir, pde_t *d, uint va)
{
  pte_t *pte = walkpgdir(pgdir, va, 0);
  if (!pte || !(*pte & PTE_P)) return 0;
  char *mem = kalloc();
  if (!mem) return -1;
  memmove(mem, P2V(PTE_ADDR(*pte)), PGSIZE);
  if (mappages(d, va, PGSIZE, V2P(mem), PTE_FLAGS(*pte) & (PTE_W | PTE_U)) < 0) {
    kfree(mem);
    return -1;
  }
  return 1;
}

// A copy of a parent's user memory for fork: both copies of a mirrored page are
// copied, each from its own frame.
pde_t *
copyuvm(pde_t *pgdir, uint sz)
{
  pde_t *d = setupkvm();
  if (!d) return 0;
  for (uint a = 0; a < sz; a += PGSIZE) {
    int r = copypage(pgdir, d, a);
    if (r == 0) panic("copyuvm: missing page");
    if (r < 0 || copypage(pgdir, d, a + MIRROR_OFFSET) < 0) goto bad;
  }
  return d;
bad:
  freevm(d);
  return 0;
}

// After the kernel wrote [va, va+len) of pgdir's user memory, write the same bytes into
// the mirror pages that exist. The one helper for every kernel write into user memory.
void
mirrorcopy(pde_t *pgdir, uint va, uint len)
{
  while (len > 0) {
    uint va0 = PGROUNDDOWN(va);
    uint n = PGSIZE - (va - va0);
    if (n > len) n = len;
    char *native = uva2ka(pgdir, va0);
    char *mirror = va0 < USERTOP ? uva2ka(pgdir, va0 + MIRROR_OFFSET) : 0;
    if (native && mirror) memmove(mirror + (va - va0), native + (va - va0), n);
    len -= n;
    va = va0 + PGSIZE;
  }
}

// Do two pages differ? Word by word: this runs at every system call when asked to.
static int
pagediffers(uint *a, uint *b)
{
  for (int i = 0; i < PGSIZE / 4; i++)
    if (a[i] != b[i]) return 1;
  return 0;
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
    } else if (pagediffers(P2V(PTE_ADDR(*pte)), P2V(PTE_ADDR(*mpte)))) {
      cprintf("mirror: pid %d (%s): page 0x%x differs from its mirror\n", p->pid, p->name, a);
      bad++;
    }
  }
  if (cleared && p == myproc()) lcr3(V2P(p->pgdir));  // forget the cached dirty bits
  return bad;
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

// Point the user page at va to the kernel page mem (same permissions). The old frame
// is left out of use: it holds a memory error.
void
remappage(pde_t *pgdir, uint va, char *mem)
{
  pte_t *pte = walkpgdir(pgdir, va, 0);
  if (!pte || !(*pte & PTE_P)) panic("remappage");
  *pte = V2P(mem) | PTE_FLAGS(*pte);
  lcr3(rcr3());
}

// A system call of the current process wrote len bytes at user address uva.
void
usermirror(void *uva, uint len)
{
  struct proc *p = myproc();
  if (p->mirrored) mirrorcopy(p->pgdir, (uint)uva, len);
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

// Copy len bytes from kernel address p to user address va in pgdir (and its mirror).
int
copyout(pde_t *pgdir, uint va, void *p, uint len)
{
  char *buf = (char *)p;
  uint start = va, total = len;
  while (len > 0) {
    uint va0 = PGROUNDDOWN(va);
    char *pa0 = uva2ka(pgdir, va0);
    if (!pa0) return -1;
    uint n = PGSIZE - (va - va0);
    if (n > len) n = len;
    memmove(pa0 + (va - va0), buf, n);
    len -= n;
    buf += n;
    va = va0 + PGSIZE;
  }
  mirrorcopy(pgdir, start, total);
  return 0;
}
