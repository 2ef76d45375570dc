// System calls: fetching their arguments, and the table that dispatches them.
//
// A user program pushes the arguments as for a C call, puts the call number in %eax and
// executes int $64 (include/syscall.h), so argument n is the word at esp + 4 + 4n (the
// word at esp is the return address into the stub). Arguments are read with copyin(),
// like all user memory; a pointer argument stays a user address (a uint), checked to
// lie inside the process, and the memory behind it is reached through the door in vm.c.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "proc.h"
#include "defs.h"
#include "syscall.h"

// Is [va, va + n) inside the current process's memory, [0, sz)?
static int
in_process(uint va, uint n)
{
  uint sz = myproc()->sz;
  return va < sz && n <= sz - va;
}

// The word at user address va of the current process.
int
fetchword(uint va, uint *w)
{
  return in_process(va, 4) ? copyin(myproc()->pgdir, w, va, 4) : -1;
}

// The NUL-terminated string at user address va of the current process, copied into buf
// (max bytes). Its length, or -1.
int
fetchstr(uint va, char *buf, uint max)
{
  return va < myproc()->sz ? copyinstr(myproc()->pgdir, buf, va, max) : -1;
}

int
argint(int n, int *ip)
{
  return fetchword(myproc()->tf->esp + 4 + 4 * n, (uint *)ip);
}

// Argument n as the user address of size bytes inside the process. The program-image
// pages in the range not yet read are read now, before the call takes any lock (exec.c).
int
argaddr(int n, uint *va, int size)
{
  if (argint(n, (int *)va) < 0 || size < 0 || !in_process(*va, size)) return -1;
  struct proc *p = myproc();
  if (p->image)
    for (struct imageseg *s = p->seg; s < p->seg + p->nseg; s++)
      if (*va < s->end && *va + size > s->va) return loadimage(p, *va, size);
  return 0;
}

// Argument n as a string, copied into buf (max bytes, MAXPATH for a path). Its length.
int
argstr(int n, char *buf, uint max)
{
  uint va;
  if (argint(n, (int *)&va) < 0) return -1;
  return fetchstr(va, buf, max);
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

// Run the system call the current process asked for; its result goes back in %eax.
// With mirrorcheck=syscall, a mirrored process's pages written since its last call are
// first compared with their twins.
void
syscall(void)
{
  struct proc *p = myproc();
  uint num = p->tf->eax;
  if (p->mirrored && opt_mirrorcheck == MIRRORCHECK_SYSCALL) mirrorcheck(p, 1);
  int (*call)(void) = num < NELEM(syscalls) ? syscalls[num] : 0;
  if (!call) {
    cprintf("%d %s: unknown sys call %d\n", p->pid, p->name, num);
    p->tf->eax = -1;
    return;
  }
  p->tf->eax = call();
}
