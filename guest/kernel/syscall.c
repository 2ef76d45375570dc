// System-call dispatch and argument fetching. Arguments sit on the user stack
// above the return address; every user address is checked against the process size.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "proc.h"
#include "defs.h"
#include "syscall.h"

int
fetchint(uint addr, int *ip)
{
  struct proc *p = myproc();
  if (addr >= p->sz || addr + 4 > p->sz || addr + 4 < addr) return -1;
  *ip = *(int *)addr;
  return 0;
}

// Point *pp at the NUL-terminated string at addr; its length, or -1.
int
fetchstr(uint addr, char **pp)
{
  struct proc *p = myproc();
  if (addr >= p->sz) return -1;
  *pp = (char *)addr;
  for (char *s = *pp; s < (char *)p->sz; s++)
    if (*s == 0) return s - *pp;
  return -1;
}

int
argint(int n, int *ip)
{
  return fetchint(myproc()->tf->esp + 4 + 4 * n, ip);
}

// The n-th argument as a pointer to size bytes of user memory.
int
argptr(int n, char **pp, int size)
{
  int i;
  if (argint(n, &i) < 0) return -1;
  uint sz = myproc()->sz;
  if (size < 0 || (uint)i >= sz || (uint)i + size > sz || (uint)i + size < (uint)i) return -1;
  *pp = (char *)i;
  return 0;
}

int
argstr(int n, char **pp)
{
  int addr;
  if (argint(n, &addr) < 0) return -1;
  return fetchstr(addr, pp);
}

extern int sys_chdir(void), sys_close(void), sys_dup(void), sys_exec(void), sys_exit(void),
  sys_fork(void), sys_fstat(void), sys_getpid(void), sys_kill(void), sys_link(void),
  sys_mkdir(void), sys_mknod(void), sys_open(void), sys_pipe(void), sys_read(void),
  sys_sbrk(void), sys_sleep(void), sys_unlink(void), sys_wait(void), sys_write(void),
  sys_uptime(void), sys_mirrorcheck(void);

static int (*syscalls[])(void) = {
  [SYS_fork] sys_fork,     [SYS_exit] sys_exit,     [SYS_wait] sys_wait,
  [SYS_pipe] sys_pipe,     [SYS_read] sys_read,     [SYS_kill] sys_kill,
  [SYS_exec] sys_exec,     [SYS_fstat] sys_fstat,   [SYS_chdir] sys_chdir,
  [SYS_dup] sys_dup,       [SYS_getpid] sys_getpid, [SYS_sbrk] sys_sbrk,
  [SYS_sleep] sys_sleep,   [SYS_uptime] sys_uptime, [SYS_open] sys_open,
  [SYS_write] sys_write,   [SYS_mknod] sys_mknod,   [SYS_unlink] sys_unlink,
  [SYS_link] sys_link,     [SYS_mkdir] sys_mkdir,   [SYS_close] sys_close,
  [SYS_mirrorcheck] sys_mirrorcheck,
};

void
syscall(void)
{
  struct proc *p = myproc();
  int num = p->tf->eax;
  if (p->mirrored && opt_mirrorcheck == MIRRORCHECK_SYSCALL) mirrorcheck(p, 1);
  if (num > 0 && num < NELEM(syscalls) && syscalls[num]) {
    p->tf->eax = syscalls[num]();
  } else {
    cprintf("%d %s: unknown sys call %d\n", p->pid, p->name, num);
    p->tf->eax = -1;
  }
}
