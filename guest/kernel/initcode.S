# The first user program, which userinit() copies to address 0 of process 1. It asks
# for exec("/init", {"init", 0}) the way a C program's stub would (arguments on the
# stack above a return address), and exits, over and over, should exec ever fail.
#include "syscall.h"

.globl start
start:
  pushl $init_argv
  pushl $init_path
  pushl $0                    # the stub's return address would be here
  movl  $SYS_exec, %eax
  int   $T_SYSCALL
give_up:
  movl  $SYS_exit, %eax
  int   $T_SYSCALL
  jmp   give_up

init_path:
  .string "/init"
.p2align 2
init_argv:
  .long init_path
  .long 0
