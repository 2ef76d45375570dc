// Machine checks (#MC, vector 18): a memory error that the hardware, or the monitor
// below us, could not correct. Bank 0 says where (MC0_ADDR). MemV6's answer depends on
// whose page it is:
//   a page of the current process that has a mirror: copy the mirror into a new page,
//     remap, and go on (the process never notices);
//   a page of the current process without a healthy copy: kill the process, as Linux does;
//   anything else (kernel memory): panic with a clear message.
// The bad frame is retired: never freed, so it is never used again. With a mirror reserve
// (--mirror system) a page and its twin are a frame pa and pa + mirror_half: recovering
// either moves the pair to a new frame.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "proc.h"
#include "defs.h"
#include "traps.h"

#define MSR_MCG_STATUS 0x17A
#define MSR_MC0_STATUS 0x401
#define MSR_MC0_ADDR   0x402
#define MCI_HIGH_VAL   0x80000000   // bit 63: the bank holds an error
#define MCI_HIGH_ADDRV 0x04000000   // bit 58: MC0_ADDR is valid

static uint retired;     // frames taken out of use
static int depth;        // machine checks being handled (a second can arrive while copying)
static volatile uint copysource;  // the frame recover() is reading, or 0 (volatile: the #MC handler reads it)
static volatile int copyfailed;

// Stop for good, printing nothing more (printing itself may be what fails).
static void
stop(void)
{
  for (;;) asm volatile("cli; hlt");
}

// The address to remap for the page at va: itself, or with a reserve the native page
// (its twin follows it).
static uint
moved_page(uint va)
{
  return mirror_half && va >= USERTOP ? va - MIRROR_OFFSET : va;
}

// Overwrite frame pa with data from src (0: zeros), so that a read the kernel retries
// completes. With a reserve, through the native frame: the store writes its twin too.
static void
rewrite_frame(uint pa, char *src)
{
  char *k = P2V(mirror_half && pa >= mirror_half ? pa - mirror_half : pa);
  if (src) memmove(k, src, PGSIZE);
  else memset(k, 0, PGSIZE);
}

// Give the page at va a new frame holding a copy of its twin: 0, or 1 for a page known
// zero (no twin yet: zeros); -1 if the twin is bad too.
static int
recover(struct proc *p, uint va)
{
  uint twin = va < USERTOP ? va + MIRROR_OFFSET : va - MIRROR_OFFSET;
  uint src = userframe(p->pgdir, twin);
  char *mem;
  if (va < USERTOP && knownzero(p->pgdir, va)) {  // no twin needed: the page is all zeros
    if ((mem = kalloc()) == 0) return -1;
    memset(mem, 0, PGSIZE);
    rewrite_frame(userframe(p->pgdir, va), 0);
    if (remappage(p->pgdir, va, mem) < 0) panic("machine check: out of memory");
    return 1;
  }
  if (!src || (mem = kalloc()) == 0) return -1;
  copysource = src;
  copyfailed = 0;
  volatile uint *from = (uint *)frame_kva(src);
  for (int i = 0; i < PGSIZE / 4 && !copyfailed; i++) ((uint *)mem)[i] = from[i];
  copysource = 0;
  if (copyfailed) {
    kfree(mem);
    return -1;
  }
  // The kernel may have been reading the bad frame through its direct map (fork copying
  // the page, say) and will retry that read: rewrite the frame with the good data too.
  rewrite_frame(userframe(p->pgdir, va), mem);
  if (remappage(p->pgdir, moved_page(va), mem) < 0) {
    kfree(mem);
    return -1;
  }
  return 0;
}

// The data of the page at va is lost: zeros instead, and the process dies on its way
// back to user space, with every process that shares the frame since a fork (the zeros
// written into it must reach none of them).
static void
lose(struct proc *p, uint va)
{
  char *mem = kalloc();
  if (!mem) panic("machine check: out of memory");
  memset(mem, 0, PGSIZE);
  uint frame = userframe(p->pgdir, va);
  int others = killsharers(p, frame);
  if (others) cprintf("mce: frame 0x%x is shared: %d more processes killed\n", frame, others);
  rewrite_frame(frame, 0);  // for a read the kernel will retry
  if (remappage(p->pgdir, moved_page(va), mem) < 0) panic("machine check: out of memory");
  p->killed = 1;
}

void
machinecheck(struct trapframe *tf)
{
  uint lo, hi, addr, unused;
  rdmsr(MSR_MC0_STATUS, &lo, &hi);
  if (!(hi & MCI_HIGH_VAL) || !(hi & MCI_HIGH_ADDRV))
    panic("machine check without a valid error address");
  rdmsr(MSR_MC0_ADDR, &addr, &unused);
  wrmsr(MSR_MC0_STATUS, 0, 0);
  uint frame = PGROUNDDOWN(addr);
  struct proc *p = myproc();
  if (depth > 0) {
    // A second error while handling the first. If it is the twin recover() is copying,
    // the copy fails: overwrite the lost data (so the interrupted read completes) and
    // tell recover(). Anything else stops the machine.
    if (frame != copysource) stop();
    rewrite_frame(frame, 0);
    copyfailed = 1;
    wrmsr(MSR_MCG_STATUS, 0, 0);
    return;
  }
  depth++;
  wrmsr(MSR_MCG_STATUS, 0, 0);  // from here a second error is a new machine check, not a shutdown
  int va = p ? userpageof(p, frame) : -1;
  if (va < 0) {
    cprintf("mce: uncorrectable memory error in kernel memory at physical 0x%x (eip 0x%x)\n", addr, tf->eip);
    panic("machine check in kernel memory");
  }
  retired++;
  int how = p->mirrored ? recover(p, va) : -1;
  if (how >= 0) {
    cprintf("mce: pid %d (%s): page 0x%x recovered %s (%d frames retired)\n", p->pid, p->name, va,
            how ? "as known zero" : "from its mirror", retired);
  } else {
    cprintf("mce: pid %d (%s): memory error in page 0x%x, which has no healthy copy: killing it\n", p->pid, p->name, va);
    lose(p, va);
  }
  depth--;
}
