# Multiboot entry. The loader starts us at _start, a physical address, in protected mode
# with paging off, EAX = 0x2BADB002 and EBX = the physical address of its information
# block. We page with bootpgdir (main.c: 4 MiB pages mapping physical 0-8 MiB both at 0,
# where we run now, and at KERNBASE, where we are linked), move to a stack at the
# linked addresses and call kmain(info).
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
  movl    %ebx, %esi                    # kmain's argument
  movl    %cr4, %eax                    # 4 MiB pages; machine checks raise #MC
  orl     $(CR4_PSE | CR4_MCE), %eax
  movl    %eax, %cr4
  movl    $(V2P_WO(bootpgdir)), %eax
  movl    %eax, %cr3
  movl    %cr0, %eax                    # paging on; read-only pages bind the kernel too
  orl     $(CR0_PG | CR0_WP), %eax
  movl    %eax, %cr0
  movl    $(boot_stack + KSTACKSIZE), %esp
  pushl   %esi
  movl    $kmain, %eax                  # an absolute jump: up to the linked addresses
  call    *%eax
halt:
  hlt
  jmp     halt

.comm boot_stack, KSTACKSIZE
