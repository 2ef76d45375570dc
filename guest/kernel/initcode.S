# The first user program, copied into process 1 by userinit():
# exec("/init", {"init", 0}), and exit if that ever returns.
#include "syscall.h"

.globl start
start:
  pushl $argv
  pushl $init
  pushl $0              # where a return address would be
  movl  $SYS_exec, %eax
  int   $T_SYSCALL
failed:
  movl  $SYS_exit, %eax
  int   $T_SYSCALL
  jmp   failed

init:
  .string "/init"
.p2align 2
argv:
  .long init
  .long 0
