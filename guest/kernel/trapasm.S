# Every interrupt and exception enters through vectors.S, which pushes an error code
# (0 where the CPU pushes none) and the vector number, then jumps here.
#include "mmu.h"

.globl alltraps
alltraps:
  pushl %ds
  pushl %es
  pushl %fs
  pushl %gs
  pushal
  movw $(SEG_KDATA << 3), %ax
  movw %ax, %ds
  movw %ax, %es
  pushl %esp            # the trapframe
  call trap
  addl $4, %esp

.globl trapret
trapret:
  popal
  popl %gs
  popl %fs
  popl %es
  popl %ds
  addl $8, %esp         # vector number and error code
  iret
