// System-call stubs. The C caller has already pushed the arguments; the kernel reads
// them from the user stack just above our return address, so each stub only loads
// the call number into %eax and traps. The result comes back in %eax.
#include "syscall.h"

#define SYSCALL(name)            \
  .globl name;                   \
  .type name, @function;         \
name:                            \
  movl $SYS_ ## name, %eax;      \
  int $T_SYSCALL;                \
  ret;                           \
  .size name, . - name

  .text
SYSCALL(fork)
SYSCALL(exit)
SYSCALL(wait)
SYSCALL(pipe)
SYSCALL(read)
SYSCALL(mirrorcheck)
SYSCALL(write)
SYSCALL(close)
SYSCALL(kill)
SYSCALL(exec)
SYSCALL(open)
SYSCALL(mknod)
SYSCALL(unlink)
SYSCALL(fstat)
SYSCALL(link)
SYSCALL(mkdir)
SYSCALL(chdir)
SYSCALL(dup)
SYSCALL(getpid)
SYSCALL(sbrk)
SYSCALL(sleep)
SYSCALL(uptime)

  .section .note.GNU-stack, "", @progbits
