/* The multiboot test kernels' entry (test/machine/devices, irqwindow; their C code includes
   kernel.h): a flat GDT, and one interrupt stub per vector that calls interrupt(vector) in C
   with the registers (pushal) and the CPU's frame above the argument. */
.set MB_MAGIC, 0x1BADB002
.set MB_FLAGS, 0x00000003
.section .text
.globl _start
  .align 4
  .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
_start:
  cli
  mov $stack_top, %esp
  lgdt gdt_desc
  ljmp $0x08, $1f
1:mov $0x10, %ax
  mov %ax, %ds
  mov %ax, %es
  mov %ax, %ss
  mov %ax, %fs
  mov %ax, %gs
  call kmain
2:cli
  hlt
  jmp 2b

.macro stub n
vector\n:
  pushal
  pushl $\n
  call interrupt
  add $4, %esp
  popal
  iret
.endm
#include "vectors.inc"
.section .data
  .align 8
gdt:
  .quad 0
  .quad 0x00cf9a000000ffff
  .quad 0x00cf92000000ffff
gdt_desc:
  .word 23
  .long gdt

.section .bss
  .align 16
  .space 16384
stack_top:
