// Process system calls.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "proc.h"
#include "defs.h"

int sys_fork(void) { return fork(); }
int sys_exit(void) { exit(); }
int sys_wait(void) { return wait(); }
int sys_getpid(void) { return myproc()->pid; }
int sys_uptime(void) { return ticks; }

int
sys_kill(void)
{
  int pid;
  return argint(0, &pid) < 0 ? -1 : kill(pid);
}

// sbrk(n): grow or shrink the process's memory; the old end, where new memory starts.
int
sys_sbrk(void)
{
  int n;
  if (argint(0, &n) < 0) return -1;
  uint old = myproc()->sz;
  return growproc(n) < 0 ? -1 : (int)old;
}

// sleep(n): wait n timer ticks (-1 if killed meanwhile).
int
sys_sleep(void)
{
  int n;
  if (argint(0, &n) < 0) return -1;
  int r = 0;
  pushcli();
  for (uint start = ticks; ticks - start < (uint)n; sleep(&ticks)) {
    if (myproc()->killed) {
      r = -1;
      break;
    }
  }
  popcli();
  return r;
}

// Compare the caller's native and mirror pages: how many differ, or -1 if the caller
// is not mirrored.
int
sys_mirrorcheck(void)
{
  struct proc *p = myproc();
  return p->mirrored ? mirrorcheck(p, 0) : -1;
}
