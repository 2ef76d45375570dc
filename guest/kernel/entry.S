# Multiboot entry. The loader jumps to _start (a physical address) in protected mode
# with paging off, EAX = 0x2BADB002 and EBX = the physical address of its info block.
# We turn on paging with bootpgdir (4 MiB pages mapping the low 8 MiB both at 0 and
# at KERNBASE), switch to a boot stack, and call kmain(info) at its linked address.
#include "mmu.h"
#include "memlayout.h"
#include "param.h"

.set MULTIBOOT_MAGIC, 0x1BADB002
.set MULTIBOOT_FLAGS, 0x00000003        # page-align modules, provide memory information

.text
.p2align 2
multiboot_header:
  .long MULTIBOOT_MAGIC
  .long MULTIBOOT_FLAGS
  .long -(MULTIBOOT_MAGIC + MULTIBOOT_FLAGS)

.globl _start
_start = V2P_WO(entry)

.globl entry
entry:
  movl    %ebx, %edi
  movl    %cr4, %eax
  orl     $(CR4_PSE | CR4_MCE), %eax
  movl    %eax, %cr4
  movl    $(V2P_WO(bootpgdir)), %eax
  movl    %eax, %cr3
  movl    %cr0, %eax
  orl     $(CR0_PG|CR0_WP), %eax
  movl    %eax, %cr0
  movl    $(bootstack + KSTACKSIZE), %esp
  pushl   %edi
  movl    $kmain, %eax
  call    *%eax
1:
  hlt
  jmp     1b

.comm bootstack, KSTACKSIZE
