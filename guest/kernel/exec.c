// exec: replace the current process's memory with a program from the file system,
// by the rules xv6 programs expect: PT_LOAD segments at page-aligned addresses from 0,
// a guard page and one stack page above them, and on the stack a fake return address,
// argc, argv and the argument strings. The new image is built whole in a new address
// space; only when nothing can fail any more does it replace the old one.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "proc.h"
#include "defs.h"
#include "elf.h"
#include "stat.h"
#include "fs.h"
#include "sleeplock.h"
#include "file.h"

#define ELF_PROG_NOTE 4
#define MEMV6_NOTE_TRANSLATED 1

// A program image under construction.
struct image {
  pde_t *pgdir;
  uint sz;
  uint entry;
  int mirrored;   // translated: every page gets a twin
  uint spill;     // the translator's spill page (no twin), or NOSPILL
  struct inode *file;  // the program file (a reference) if pages of it are read on demand
  struct imageseg seg[NIMAGESEG];
  int nseg;
};

// Is the program translated (mirrored)? Reads the translator's PT_NOTE: name "MemV6",
// type 1, desc = the mirror offset (u32) and, optionally, the spill page (u32).
// Returns 1 (and *spill) if mirrored, 0 if not, -1 (with a console message) if the
// note is malformed or made for another offset.
static int
translated(struct inode *ip, struct elfhdr *elf, char *path, uint *spill)
{
  struct proghdr ph;
  struct { uint namesz, descsz, type; char name[8]; uint desc[2]; } note;
  *spill = NOSPILL;
  for (int i = 0, off = elf->phoff; i < elf->phnum; i++, off += sizeof(ph)) {
    if (readi(ip, kmem(&ph), off, sizeof(ph)) != sizeof(ph)) return -1;
    if (ph.type != ELF_PROG_NOTE) continue;
    if (ph.filesz < 12 || readi(ip, kmem(&note), ph.off, 12) != 12) goto malformed;
    if (note.namesz != 6 || note.type != MEMV6_NOTE_TRANSLATED) continue;  // another note
    if ((note.descsz != 4 && note.descsz != 8) || ph.filesz < 20 + note.descsz ||
        readi(ip, kmem(&note), ph.off, 20 + note.descsz) != 20 + note.descsz ||
        memcmp(note.name, "MemV6", 6) != 0)
      goto malformed;
    if (note.desc[0] != MIRROR_OFFSET) {
      cprintf("exec %s: translated for mirror offset 0x%x, but this kernel mirrors at 0x%x\n",
              path, note.desc[0], MIRROR_OFFSET);
      return -1;
    }
    if (note.descsz == 8) {
      if (note.desc[1] % PGSIZE) goto malformed;
      *spill = note.desc[1];
    }
    return 1;
  }
  return 0;
malformed:
  cprintf("exec %s: malformed MemV6 translation note\n", path);
  return -1;
}

// Can the program's segments be read on demand? They must follow one another upwards
// without sharing a page, and at most NIMAGESEG of them may come from the file (xv6
// programs have one or two); otherwise exec reads them whole, as a later segment may
// write into an earlier one's pages.
static int
on_demand(struct inode *ip, struct elfhdr *elf)
{
  uint end = 0, fromfile = 0;
  struct proghdr ph;
  for (int i = 0, off = elf->phoff; i < elf->phnum; i++, off += sizeof(ph)) {
    if (readi(ip, kmem(&ph), off, sizeof(ph)) != sizeof(ph)) return 0;
    if (ph.type != ELF_PROG_LOAD) continue;
    if (ph.vaddr < end || ph.vaddr + ph.memsz < ph.vaddr) return 0;
    end = PGROUNDUP(ph.vaddr + ph.memsz);
    if (ph.filesz > 0 && ++fromfile > NIMAGESEG) return 0;
  }
  return 1;
}

// Load the program's segments into img->pgdir; the new size, or 0 on failure. The pages
// the file fills are, if they can be (on_demand), only marked: each is read from the file
// at its first touch (imagepage), most of a program's code never is; otherwise they are
// read now, each with its twin if mirrored (the bytes reach both through copyout). The
// pages wholly past the file (bss) are zero and, if mirrored, known zero, their twins made
// at their first write (most of a program's bss never is).
static uint
load_segments(struct image *img, struct inode *ip, struct elfhdr *elf)
{
  uint sz = 0;
  pde_t *pgdir = img->pgdir;
  int mirrored = img->mirrored, demand = on_demand(ip, elf);
  struct proghdr ph;
  for (int i = 0, off = elf->phoff; i < elf->phnum; i++, off += sizeof(ph)) {
    if (readi(ip, kmem(&ph), off, sizeof(ph)) != sizeof(ph)) return 0;
    if (ph.type != ELF_PROG_LOAD) continue;
    if (ph.memsz < ph.filesz || ph.vaddr + ph.memsz < ph.vaddr) return 0;
    if (ph.vaddr % PGSIZE != 0 || ph.vaddr + ph.memsz > USERTOP) return 0;
    uint filled = PGROUNDUP(ph.vaddr + ph.filesz);
    if (filled > ph.vaddr + ph.memsz) filled = ph.vaddr + ph.memsz;
    if (demand && ph.filesz > 0) {
      // The file must hold the bytes: a short program fails now, not at a later fault.
      if (ph.off + ph.filesz < ph.off || ph.off + ph.filesz > ip->disk.size) return 0;
      // Pages below the segment that no segment fills are zeros, as when read whole.
      if (sz < ph.vaddr && (sz = allocuvm(pgdir, sz, ph.vaddr, mirrored ? LAZY_TWIN : 0)) == 0) return 0;
      if (markimage(pgdir, ph.vaddr, filled) < 0) return 0;
      img->seg[img->nseg++] = (struct imageseg){ ph.vaddr, filled, ph.off, ph.filesz };
      sz = filled;
    } else if ((sz = allocuvm(pgdir, sz, filled, mirrored)) == 0 && filled > 0) {
      return 0;
    }
    if ((sz = allocuvm(pgdir, sz, ph.vaddr + ph.memsz, mirrored ? LAZY_TWIN : 0)) == 0) return 0;
    if (!demand && readi(ip, umem(pgdir, ph.vaddr), ph.off, ph.filesz) != ph.filesz) return 0;
  }
  return sz;
}

// Fill img from the program file ip (locked); 0, or -1.
static int
load_image(struct inode *ip, char *path, struct image *img)
{
  struct elfhdr elf;
  if (ip->disk.type != T_FILE) return -1;  // a device would be read (and wait for input) as a program
  if (readi(ip, kmem(&elf), 0, sizeof(elf)) != sizeof(elf) || elf.magic != ELF_MAGIC) return -1;
  if ((img->mirrored = translated(ip, &elf, path, &img->spill)) < 0) return -1;
  if ((img->pgdir = setupkvm()) == 0) return -1;
  if ((img->sz = load_segments(img, ip, &elf)) == 0) return -1;
  if (img->nseg > 0) img->file = idup(ip);
  if (img->spill != NOSPILL) {
    if (img->spill >= img->sz) return -1;
    if (dropmirror(img->pgdir, img->spill) < 0) return -1;
  }
  img->entry = elf.entry;
  return 0;
}

// The arguments, gathered from the calling process before anything is loaded (bad
// ones fail exec at once, cheaply): the strings packed at the top of a kernel page, each
// starting on a word boundary, as they will lie at the top of the new stack page.
struct args {
  char *page;
  int argc;
  uint offset[MAXARG];  // where each string starts in the page
  uint low;             // the lowest byte the strings use
};

// Gather the strings of the argv at user address uargv; 0, or -1 if an argument is bad,
// there are more than MAXARG, or they do not fit in a page.
static int
gather_args(uint uargv, struct args *a)
{
  uint uarg;
  a->argc = 0;
  a->low = PGSIZE;
  if ((a->page = kalloc()) == 0) return -1;
  for (;; a->argc++) {
    if (fetchword(uargv + 4 * a->argc, &uarg) < 0) return -1;
    if (uarg == 0) return 0;
    if (a->argc == MAXARG) return -1;
    // Into the free space at the page's bottom, then up under the previous string.
    int len = fetchstr(uarg, a->page, a->low);
    if (len < 0) return -1;
    a->low = (a->low - (len + 1)) & ~3;
    memmove(a->page + a->low, a->page, len + 1);
    a->offset[a->argc] = a->low;
  }
}

// The initial stack, in the stack page [top - PGSIZE, top): the gathered strings at the
// top; below them argv[] and its NULL; then argv, argc and a fake return address, where
// the stack pointer starts. Composed in the arguments' page and copied out whole.
// Returns the stack pointer, or 0 if it does not all fit in the page.
static uint
build_stack(pde_t *pgdir, uint top, struct args *a)
{
  uint base = top - PGSIZE, words[3 + MAXARG + 1];
  uint size = (3 + a->argc + 1) * 4;
  if (a->low < size) return 0;
  uint sp = base + a->low - size;
  words[0] = 0xFFFFFFFF;
  words[1] = a->argc;
  words[2] = sp + 3 * 4;  // argv: right above
  for (int i = 0; i < a->argc; i++) words[3 + i] = base + a->offset[i];
  words[3 + a->argc] = 0;
  memmove(a->page + (sp - base), words, size);
  return copyout(pgdir, sp, a->page + (sp - base), top - sp) < 0 ? 0 : sp;
}

// The last element of path: the process's new name.
static char *
last_element(char *path)
{
  char *last = path;
  for (char *s = path; *s; s++)
    if (*s == '/') last = s + 1;
  return last;
}

int
exec(char *path, uint uargv)
{
  struct image img = { .pgdir = 0 };
  struct args args = { .page = 0 };
  if (gather_args(uargv, &args) < 0) goto fail;

  begin_op();
  struct inode *ip = namei(path);
  int loaded = -1;
  if (ip) {
    ilock(ip);
    loaded = load_image(ip, path, &img);
    iunlockput(ip);
  }
  end_op();
  if (loaded < 0) goto fail;

  // A guard page (no user access), then the stack page.
  uint guard = PGROUNDUP(img.sz);
  if ((img.sz = allocuvm(img.pgdir, guard, guard + 2 * PGSIZE, img.mirrored)) == 0) goto fail;
  clearpteu(img.pgdir, guard);
  uint sp = build_stack(img.pgdir, img.sz, &args);
  if (sp == 0) goto fail;
  kfree(args.page);

  // Nothing can fail from here: the new image replaces the old.
  struct proc *p = myproc();
  safestrcpy(p->name, last_element(path), sizeof(p->name));
  pde_t *old = p->pgdir;
  uint oldsz = p->sz;
  dropimage(p);
  p->pgdir = img.pgdir;
  p->sz = img.sz;
  p->mirrored = img.mirrored;
  p->spill = img.spill;
  p->image = img.file;
  p->nseg = img.nseg;
  memmove(p->seg, img.seg, sizeof(img.seg));
  p->tf->eip = img.entry;
  p->tf->esp = sp;
  switchuvm(p);
  freevm(old, oldsz);
  return 0;

fail:
  if (args.page) kfree(args.page);
  if (img.pgdir) freevm(img.pgdir, USERTOP);  // a failed load may have mapped pages past img.sz
  if (img.file) {
    begin_op();
    iput(img.file);
    end_op();
  }
  return -1;
}

// ---- Program-image pages read on demand (see vm.c) ----

// Does q run p's program: the same program file, laid out the same?
static int
sameimage(struct proc *p, struct proc *q)
{
  if (q->image != p->image || q->nseg != p->nseg) return 0;
  for (int i = 0; i < p->nseg; i++) {
    struct imageseg *a = &p->seg[i], *b = &q->seg[i];
    if (a->va != b->va || a->end != b->end || a->off != b->off || a->filesz != b->filesz) return 0;
  }
  return 1;
}

// Share the program-image page at a with p from the nearest ancestor running the same
// program that holds it: 0, or -1 if none does.
static int
fromancestor(struct proc *p, uint a)
{
  for (struct proc *q = p->parent; q && sameimage(p, q); q = q->parent)
    if (shareimage(q->pgdir, p->pgdir, a) == 0) return 0;
  return -1;
}

// Read the program-image pages va[0..m) of p, not yet read, whose bytes lie one after the
// other in the file (len[i] bytes at off[i]: off[i + 1] is off[i] + PGSIZE) within one
// read (READ_MAX blocks), into new frames; map each with its twin and share it with the
// ancestors running the program that have not read it yet. The file is locked. A page
// not read (memory ran out, or the file is shorter now) stays unread.
static void
readpages(struct proc *p, uint *va, uint *off, uint *len, int m)
{
  char *mem[READ_MAX * BSIZE / PGSIZE + 1];
  int n = 0;
  while (n < m && (mem[n] = kalloc()) != 0) n++;
  int got = n ? ireadpages(p->image, off[0], off[n - 1] + len[n - 1] - off[0], mem) : 0;
  for (int i = 0; i < n; i++) {
    if (got < (int)(off[i] + len[i] - off[0])) {
      kfree(mem[i]);
      continue;
    }
    if (len[i] < PGSIZE) memset(mem[i] + len[i], 0, PGSIZE - len[i]);  // the bss, not what follows in the file
    if (mapimage(p->pgdir, va[i], mem[i], p->mirrored && va[i] != p->spill) < 0) {
      kfree(mem[i]);
      continue;
    }
    for (struct proc *q = p->parent; q && sameimage(p, q); q = q->parent) shareimage(p->pgdir, q->pgdir, va[i]);
  }
}

// Bring in the program-image page of p at user address va (native or mirror), if it is one
// not yet read (see vm.c): shared from an ancestor running the same program that holds it
// unchanged, or else read from the program file, mapped with its twin and shared with the
// ancestors running the program that have not read it yet (a sub-test's child of usertests
// reads a page for its parent, and so for the next child; a program that runs itself, as
// usertests does for its exec tests, finds most of its pages in its parent). Only the
// ancestors, which a fork's child meets by its parent pointers, not every process: asking
// each of them would cost more than most reads save. A read from the file reads around the
// page as well, as Linux does: the other pages of its segment not yet read in the aligned
// READAROUND bytes about it, of any of its segments, as many pages to a disk command as
// lie one after the other in the file (up to READ_MAX blocks), so that a program's first
// touches of its code and data read them in a few commands instead of one for each page, at whatever later moment each page is first run (the boot option
// readaround=off reads the page alone). 0, or -1 if va is not such
// a page, memory ran out, or the file no longer holds the bytes (of page va: the pages read
// around it are only a prefetch).
int
imagepage(struct proc *p, uint va)
{
  uint a = PGROUNDDOWN(va >= USERTOP ? va - MIRROR_OFFSET : va);
  if (!p->image || va >= KERNBASE || a >= p->sz || !imagemarked(p->pgdir, a)) return -1;
  struct imageseg *s = p->seg;
  while (s < p->seg + p->nseg && !(s->va <= a && a < s->end)) s++;
  if (s == p->seg + p->nseg) return -1;
  if (fromancestor(p, a) == 0) return 0;
  // Read it, holding the file's lock until the ancestors have it: a relative that faults on
  // the page meanwhile waits for the lock, then finds the page in an ancestor (or in itself,
  // if it is one), instead of reading it a second time.
  ilock(p->image);
  int r = 0;
  if (fromancestor(p, a) == 0 || !imagemarked(p->pgdir, a)) goto done;  // an ancestor's read brought it in
  // The pages to read: a, and with read-around the others of the window not yet read that
  // no ancestor holds, of every segment (a small program's code and data together).
  uint window = opt_readaround ? READAROUND : PGSIZE, from = a & ~(window - 1), to = from + window;
  uint pva[READAROUND / PGSIZE], poff[READAROUND / PGSIZE], plen[READAROUND / PGSIZE];
  int m = 0;
  for (struct imageseg *t = p->seg; t < p->seg + p->nseg; t++) {
    for (uint b = t->va > from ? t->va : from; b < t->end && b < to; b += PGSIZE) {
      if (!imagemarked(p->pgdir, b) || (b != a && fromancestor(p, b) == 0)) continue;
      pva[m] = b;
      poff[m] = t->off + (b - t->va);
      plen[m] = t->filesz - (b - t->va) < PGSIZE ? t->filesz - (b - t->va) : PGSIZE;
      m++;
    }
  }
  // Then as many to a disk command as lie one after the other in the file.
  for (int i = 0, j; i < m; i = j) {
    for (j = i + 1; j < m && poff[j] == poff[j - 1] + PGSIZE && (poff[j] + plen[j] - 1) / BSIZE - poff[i] / BSIZE < READ_MAX; j++)
      ;
    readpages(p, pva + i, poff + i, plen + i, j - i);
  }
  r = imagemarked(p->pgdir, a) ? -1 : 0;
done:
  iunlock(p->image);
  return r;
}

// Read the program-image pages of the current process in [va, va + n) not yet read (a
// system call's pointer argument, before the call takes any lock: reading them later, with
// an inode or a buffer held, could wait for itself). 0, or -1 if one cannot be read.
int
loadimage(struct proc *p, uint va, uint n)
{
  for (struct imageseg *s = p->seg; s < p->seg + p->nseg; s++) {
    uint a = PGROUNDDOWN(va) > s->va ? PGROUNDDOWN(va) : s->va;
    for (; a < va + n && a < s->end; a += PGSIZE)
      if (imagemarked(p->pgdir, a) && imagepage(p, a) < 0) return -1;
  }
  return 0;
}

// Forget p's program file (exec, exit): pages not yet read can no longer be.
void
dropimage(struct proc *p)
{
  struct inode *ip = p->image;
  if (!ip) return;
  p->image = 0;
  p->nseg = 0;
  begin_op();  // the file may have lost its last name while it ran
  iput(ip);
  end_op();
}
