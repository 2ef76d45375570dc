// exec: replace the current process's memory with a program from the file system,
// following xv6's rules: PT_LOAD segments at page-aligned addresses from 0, one
// guard page and one stack page above them, and on the stack a fake return
// address, argc, argv and the argument strings.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "proc.h"
#include "defs.h"
#include "elf.h"

#define ELF_PROG_NOTE 4
#define MEMV6_NOTE_TRANSLATED 1

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
    if (readi(ip, (char *)&ph, off, sizeof(ph)) != sizeof(ph)) return -1;
    if (ph.type != ELF_PROG_NOTE) continue;
    if (ph.filesz < 12 || readi(ip, (char *)&note, ph.off, 12) != 12) goto malformed;
    if (note.namesz != 6 || note.type != MEMV6_NOTE_TRANSLATED) continue;  // another note
    if ((note.descsz != 4 && note.descsz != 8) || ph.filesz < 20 + note.descsz ||
        readi(ip, (char *)&note, ph.off, 20 + note.descsz) != 20 + note.descsz ||
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

// Load the program's segments into pgdir (with mirror pages if mirrored); the new
// size, or 0 on failure.
static uint
load_segments(pde_t *pgdir, struct inode *ip, struct elfhdr *elf, int mirrored)
{
  uint sz = 0;
  struct proghdr ph;
  for (int i = 0, off = elf->phoff; i < elf->phnum; i++, off += sizeof(ph)) {
    if (readi(ip, (char *)&ph, off, sizeof(ph)) != sizeof(ph)) return 0;
    if (ph.type != ELF_PROG_LOAD) continue;
    if (ph.memsz < ph.filesz || ph.vaddr + ph.memsz < ph.vaddr) return 0;
    if (ph.vaddr % PGSIZE != 0 || ph.vaddr + ph.memsz > USERTOP) return 0;
    if ((sz = allocuvm(pgdir, sz, ph.vaddr + ph.memsz, mirrored)) == 0) return 0;
    if (loaduvm(pgdir, (char *)ph.vaddr, ip, ph.off, ph.filesz) < 0) return 0;
  }
  return sz;
}

// Build the initial stack at the top of [.., sp): strings, then argv[], then argc
// and a fake return address. Returns the new stack pointer, or 0.
static uint
build_stack(pde_t *pgdir, uint sp, char **argv)
{
  uint ustack[3 + MAXARG + 1];
  int argc;
  for (argc = 0; argv[argc]; argc++) {
    if (argc >= MAXARG) return 0;
    sp = (sp - (strlen(argv[argc]) + 1)) & ~3;
    if (copyout(pgdir, sp, argv[argc], strlen(argv[argc]) + 1) < 0) return 0;
    ustack[3 + argc] = sp;
  }
  ustack[3 + argc] = 0;
  ustack[0] = 0xFFFFFFFF;       // fake return PC
  ustack[1] = argc;
  ustack[2] = sp - (argc + 1) * 4;  // argv
  sp -= (3 + argc + 1) * 4;
  if (copyout(pgdir, sp, ustack, (3 + argc + 1) * 4) < 0) return 0;
  return sp;
}

int
exec(char *path, char **argv)
{
  struct proc *cur = myproc();
  pde_t *pgdir = 0;
  struct elfhdr elf;

  begin_op();
  struct inode *ip = namei(path);
  if (!ip) {
    end_op();
    return -1;
  }
  ilock(ip);
  uint sz = 0, sp;
  if (readi(ip, (char *)&elf, 0, sizeof(elf)) != sizeof(elf) || elf.magic != ELF_MAGIC) goto bad;
  uint spill;
  int mirrored = translated(ip, &elf, path, &spill);
  if (mirrored < 0) goto bad;
  if ((pgdir = setupkvm()) == 0) goto bad;
  if ((sz = load_segments(pgdir, ip, &elf, mirrored)) == 0) goto bad;
  if (mirrored) {  // the image into both copies, then no twin for the spill page
    mirrorcopy(pgdir, 0, sz);
    if (spill != NOSPILL) {
      if (spill >= sz) goto bad;
      dropmirror(pgdir, spill);
    }
  }
  iunlockput(ip);
  end_op();
  ip = 0;

  // A guard page (no user access), then the stack page.
  sz = PGROUNDUP(sz);
  if ((sz = allocuvm(pgdir, sz, sz + 2 * PGSIZE, mirrored)) == 0) goto bad;
  clearpteu(pgdir, (char *)(sz - 2 * PGSIZE));
  if ((sp = build_stack(pgdir, sz, argv)) == 0) goto bad;

  char *last = path, *s;
  for (s = path; *s; s++)
    if (*s == '/') last = s + 1;
  safestrcpy(cur->name, last, sizeof(cur->name));

  pde_t *oldpgdir = cur->pgdir;
  cur->pgdir = pgdir;
  cur->sz = sz;
  cur->mirrored = mirrored;
  cur->spill = spill;
  cur->tf->eip = elf.entry;
  cur->tf->esp = sp;
  switchuvm(cur);
  freevm(oldpgdir);
  return 0;

bad:
  if (pgdir) freevm(pgdir);
  if (ip) {
    iunlockput(ip);
    end_op();
  }
  return -1;
}
