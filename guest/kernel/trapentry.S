# The way into the kernel for every interrupt, exception and system call, and the way
# back out.
#
# Vector v's stub makes every entry look alike: the processor has pushed eip, cs and
# eflags (and, coming from user mode, esp and ss), and for some vectors an error code;
# for the others the stub pushes a 0 in its place. Then it pushes the vector number.
# trap_entry adds the segment and general registers, which completes a struct trapframe
# (x86.h), loads the kernel's data segments and calls trap(tf). When trap returns,
# trap_exit restores everything from the frame and returns to the interrupted code.
#include "mmu.h"

# Vectors with a processor-pushed error code: double fault, invalid TSS, segment not
# present, stack fault, general protection, page fault, alignment check.
.macro stub v
  .text
stub\v:
  .if (\v == 8) || ((\v >= 10) && (\v <= 14)) || (\v == 17)
  .else
    pushl $0
  .endif
  pushl $\v
  jmp trap_entry
  .data
  .long stub\v            # trap_vectors[v]
.endm

# The IDT's handler addresses, in vector order (trap.c).
.data
.p2align 2
.globl trap_vectors
trap_vectors:
.altmacro
.set v, 0
.rept 256
  stub %v
  .set v, v + 1
.endr

.text
trap_entry:
  pushl %ds
  pushl %es
  pushl %fs
  pushl %gs
  pushal
  movw $(SEG_KDATA << 3), %ax   # fs and gs are not used by the kernel: left as they are
  movw %ax, %ds
  movw %ax, %es
  pushl %esp                    # the trapframe just completed
  call trap
  addl $4, %esp
  # on into trap_exit

# Return to the state saved in the trapframe at %esp.
trap_exit:
  popal
  popl %gs
  popl %fs
  popl %es
  popl %ds
  addl $8, %esp                 # the vector number and the error code
  iret

# void enter_user(struct trapframe *tf): leave the kernel for the user state in tf.
# A new process's first way out (forkret), as if it returned from a trap.
.globl enter_user
enter_user:
  movl 4(%esp), %esp
  jmp trap_exit
