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

int
sys_kill(void)
{
  int pid;
  if (argint(0, &pid) < 0) return -1;
  return kill(pid);
}

int
sys_sbrk(void)
{
  int n;
  if (argint(0, &n) < 0) return -1;
  int addr = myproc()->sz;
  if (growproc(n) < 0) return -1;
  return addr;
}

int
sys_sleep(void)
{
  int n;
  if (argint(0, &n) < 0) return -1;
  pushcli();
  uint start = ticks;
  while (ticks - start < (uint)n) {
    if (myproc()->killed) {
      popcli();
      return -1;
    }
    sleep(&ticks);
  }
  popcli();
  return 0;
}

// Compare the caller's native and mirror pages: how many differ, or -1 if the caller
// is not mirrored.
int
sys_mirrorcheck(void)
{
  struct proc *p = myproc();
  return p->mirrored ? mirrorcheck(p, 0) : -1;
}

int
sys_uptime(void)
{
  return ticks;
}
