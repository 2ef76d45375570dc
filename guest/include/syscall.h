// System call numbers: identical to xv6 (x86), so xv6 binaries run unchanged.
// A user program puts the number in %eax, its arguments on the user stack (as for a
// C call, above the return address), and executes `int $T_SYSCALL`; the result
// comes back in %eax.
#ifndef MEMV6_SYSCALL_H
#define MEMV6_SYSCALL_H
#define T_SYSCALL   64
#define SYS_fork    1
#define SYS_exit    2
#define SYS_wait    3
#define SYS_pipe    4
#define SYS_read    5
#define SYS_kill    6
#define SYS_exec    7
#define SYS_fstat   8
#define SYS_chdir   9
#define SYS_dup    10
#define SYS_getpid 11
#define SYS_sbrk   12
#define SYS_sleep  13
#define SYS_uptime 14
#define SYS_open   15
#define SYS_write  16
#define SYS_mknod  17
#define SYS_unlink 18
#define SYS_link   19
#define SYS_mkdir  20
#define SYS_close  21
// MemV6 additions (numbers above xv6's, so they never collide with xv6 programs).
#define SYS_mirrorcheck 22   // compare a process's native and mirror pages (see [mirror])
#endif
