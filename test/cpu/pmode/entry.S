/* Protected-mode test kernel: multiboot entry, trap stubs, context save/restore, user blob. */
.set MB_MAGIC, 0x1BADB002
.set MB_FLAGS, 0x00000003
.section .text
.globl _start
  .align 4
multiboot_header:
  .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
_start:
  mov stack_top, %esp
  call kmain
1: cli
  hlt
  jmp 1b

/* Trap stubs: vectors with an error code push only the vector number. */
.macro stub n
vector\n:
  .if (\n == 8) || (\n >= 10 && \n <= 14) || (\n == 17)
  .else
  pushl $0
  .endif
  pushl $\n
  jmp alltraps
.endm
#include "../../support/vectors.inc"
.section .text
alltraps:
  pushal
  push %ds
  push %es
  mov $0x10, %ax
  mov %ax, %ds
  mov %ax, %es
  push %esp
  call trap
  add $4, %esp
  pop %es
  pop %ds
  popal
  add $8, %esp
  iret

/* int save_context(struct context *c): 0 now, 1 when restore_context(c) jumps back. */
.globl save_context
save_context:
  mov 4(%esp), %eax
  mov %ebx, 0(%eax)
  mov %esi, 4(%eax)
  mov %edi, 8(%eax)
  mov %ebp, 12(%eax)
  lea 4(%esp), %ecx
  mov %ecx, 16(%eax)
  mov (%esp), %ecx
  mov %ecx, 20(%eax)
  xor %eax, %eax
  ret
.globl restore_context
restore_context:
  mov 4(%esp), %edx
  mov %edx, %eax
  mov 0(%eax), %ebx
  mov 4(%eax), %esi
  mov 8(%eax), %edi
  mov 12(%eax), %ebp
  mov 16(%eax), %esp
  mov $0x10, %cx
  mov %cx, %ds
  mov %cx, %es
  mov %cx, %ss
  mov $1, %eax
  jmp *20(%edx)

/* User-mode code, copied to a user page: position independent. Entry points at fixed offsets. */
  .align 16
.globl user_start, user_end
user_start:
  /* +0: a system call, then cli (privileged: #GP) */
  mov $1, %eax
  mov $0x1234, %ebx
  int $0x80
  cli
  .align 16, 0x90
  /* +16: read a supervisor page */
  mov 0x100000, %eax
  .align 16, 0x90
  /* +32: write a user read-only page */
  movl $7, 0x403000
  .align 16, 0x90
  /* +48: int to a DPL-0 gate */
  int $0x30
  .align 16, 0x90
  /* +64: port I/O at CPL 3 */
  in $0x60, %al
  .align 16, 0x90
  /* +80: hlt at CPL 3 */
  hlt
  .align 16, 0x90
  /* +96: load a DPL-0 data segment */
  mov $0x10, %ax
  mov %ax, %ds
  .align 16, 0x90
user_end:
