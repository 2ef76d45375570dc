// MemV6 starts here: find memory, build the kernel's address space, start devices,
// create the first process and run the scheduler.
#include "types.h"
#include "param.h"
#include "fs.h"
#include "memlayout.h"
#include "mmu.h"
#include "defs.h"
#include "multiboot.h"

extern char end[];    // first address after the kernel (kernel.ld)

int opt_mirrorcheck = MIRRORCHECK_OFF;
int opt_idle_spin;
int opt_readaround = 1;

static int
hasword(char *s, char *word)
{
  int n = strlen(word);
  for (; *s; s++)
    if ((s[n] == 0 || s[n] == ' ') && strncmp(s, word, n) == 0) return 1;
  return 0;
}

// Kernel options on the multiboot command line:
//   mirrorcheck=syscall  compare native and mirror pages at every system call and exit
//   mirrorcheck=exit     only when a mirrored process exits
//   idle=spin            never halt: the idle scheduler spins with interrupts open for a
//                        few instructions at a time, and pushcli reads the local APIC ID
//                        (the shape of many teaching kernels, which the machine must run well)
static void
parse_options(struct multiboot_info *mb)
{
  if (!(mb->flags & MB_INFO_CMDLINE) || !mb->cmdline) return;
  char *cmdline = P2V(mb->cmdline);
  if (hasword(cmdline, "mirrorcheck=syscall")) opt_mirrorcheck = MIRRORCHECK_SYSCALL;
  else if (hasword(cmdline, "mirrorcheck=exit")) opt_mirrorcheck = MIRRORCHECK_EXIT;
  if (hasword(cmdline, "idle=spin")) opt_idle_spin = 1;
  if (hasword(cmdline, "readaround=off")) opt_readaround = 0;
  if (opt_mirrorcheck || opt_idle_spin || !opt_readaround)
    cprintf("MemV6 options: mirrorcheck=%s%s%s\n",
            opt_mirrorcheck == MIRRORCHECK_SYSCALL ? "syscall" : opt_mirrorcheck == MIRRORCHECK_EXIT ? "exit" : "off",
            opt_idle_spin ? " idle=spin" : "", opt_readaround ? "" : " readaround=off");
}

// The end of the usable RAM that starts at 1 MiB, from the memory map if there is
// one, else from mem_upper; capped at what the kernel direct-maps.
static uint
find_phystop(struct multiboot_info *mb)
{
  uint top = 0;
  if (mb->flags & MB_INFO_MMAP) {
    char *p = P2V(mb->mmap_addr);
    char *last = p + mb->mmap_length;
    while (p < last) {
      struct multiboot_mmap_entry *e = (struct multiboot_mmap_entry *)p;
      if (e->type == MB_MEMORY_AVAILABLE && e->addr_high == 0 && e->addr_low <= 0x100000) {
        uint len = e->len_high ? 0xFFFFFFFF - e->addr_low : e->len_low;
        if (e->addr_low + len > top) top = e->addr_low + len;
      }
      p += e->size + 4;
    }
  }
  if (top == 0 && (mb->flags & MB_INFO_MEMORY))
    top = 0x100000 + mb->mem_upper * 1024;
  if (top > PHYSMAX) top = PHYSMAX;
  return PGROUNDDOWN(top);
}

void
kmain(uint mbinfo_phys)
{
  struct multiboot_info *mb = P2V(mbinfo_phys);
  uint phystop = find_phystop(mb);
  uartinit();
  parse_options(mb);  // before kinit(): the loader may have put the command line in memory it frees
  if (phystop < 16 * 1024 * 1024)
    panic("MemV6 needs at least 16 MiB of memory");
  if (mirror_half && (mirror_half % BIGPGSIZE || phystop > mirror_half))
    panic("the mirror reserve must start on a 4 MiB boundary, above the memory in use");
  kframes(phystop);
  kinit(end, P2V(8 * 1024 * 1024));  // what the boot page directory maps
  kvmalloc(phystop);                 // the kernel's own page directory
  kinit(P2V(8 * 1024 * 1024), P2V(phystop));
  cprintf("MemV6 booting: %d MiB of memory, %d free pages", phystop >> 20, kfreepages());
  if (mirror_half) cprintf(", mirrored in the reserve at 0x%x", mirror_half);
  cprintf("\n");
  seginit();
  mpinit();
  lapicinit();
  picinit();
  ioapicinit();
  consoleinit();
  tvinit();
  idtinit();
  binit();
  fileinit();
  ideinit();
  pinit();
  userinit();
  scheduler();
}

// The page directory entry.S turns paging on with, used until kvmalloc(): physical
// 0-8 MiB (the kernel, its boot stack and the first pages kinit hands out) as two 4 MiB
// pages, at 0, where entry.S runs when paging starts, at KERNBASE, and at KMIRROR, the
// mirror map (which entry.S points at the mirror reserve if there is one).
#define BOOT_PAGE(pa) ((pa) | PTE_P | PTE_W | PTE_PS)
__attribute__((__aligned__(PGSIZE)))
pde_t bootpgdir[NPDENTRIES] = {
  [PDX(0)] = BOOT_PAGE(0),
  [PDX(BIGPGSIZE)] = BOOT_PAGE(BIGPGSIZE),
  [PDX(KERNBASE)] = BOOT_PAGE(0),
  [PDX(KERNBASE + BIGPGSIZE)] = BOOT_PAGE(BIGPGSIZE),
  [PDX(KMIRROR)] = BOOT_PAGE(0),       // the mirror map, onto the memory itself until entry.S
  [PDX(KMIRROR + BIGPGSIZE)] = BOOT_PAGE(BIGPGSIZE),  // finds the reserve
};
