# Multiboot entry. The loader starts us at _start, a physical address, in protected mode
# with paging off, EAX = 0x2BADB002 and EBX = the physical address of its information
# block. We page with bootpgdir (main.c: 4 MiB pages mapping physical 0-8 MiB both at 0,
# where we run now, and at KERNBASE, where we are linked), look for the mirror reserve,
# move to a stack at the linked addresses and call kmain(info).
#
# The mirror reserve (--mirror system, docs/system-mode.md): when the memory map has a
# region of type MB_MEMORY_MIRROR, every frame pa has its twin at pa + the region's start
# (mirror_half), and the kernel's mirror map at KMIRROR points there. The kernel may be
# translated, so that every store it makes is repeated at address + MIRROR_OFFSET: it
# makes no store before paging is on, and until the reserve is known bootpgdir maps
# KMIRROR onto the native memory itself (a mirror store there writes the same bytes
# twice). The mirror PDEs are written twice, around a TLB flush, so that both copies of
# bootpgdir hold them.
#include "mmu.h"
#include "memlayout.h"
#include "param.h"
#include "multiboot.h"

.set MULTIBOOT_MAGIC, 0x1BADB002
.set MULTIBOOT_FLAGS, 0x00000003        # page-align modules, provide memory information

# The header is data, in a section of its own that kernel.ld puts first (the loader looks
# for it in the first 8 KiB of the file), so that the code section holds only code.
.section .multiboot, "a"
.p2align 2
multiboot_header:
  .long MULTIBOOT_MAGIC
  .long MULTIBOOT_FLAGS
  .long -(MULTIBOOT_MAGIC + MULTIBOOT_FLAGS)

.text

.globl _start
_start = V2P_WO(entry)

.globl entry
entry:
  movl    %ebx, %esi                    # kmain's argument
  movl    %cr4, %eax                    # 4 MiB pages; machine checks raise #MC; global pages
  orl     $(CR4_PSE | CR4_MCE | CR4_PGE), %eax
  movl    %eax, %cr4
  movl    $(V2P_WO(bootpgdir)), %eax
  movl    %eax, %cr3
  movl    %cr0, %eax                    # paging on; read-only pages bind the kernel too
  orl     $(CR0_PG | CR0_WP), %eax
  movl    %eax, %cr0

  xorl    %edx, %edx                    # the reserve's start, or 0
  testl   $MB_INFO_MMAP, MB_FLAGS(%esi)
  jz      no_reserve
  movl    MB_MMAP_ADDR(%esi), %ebx      # the memory map (physical, mapped at 0)
  movl    MB_MMAP_LENGTH(%esi), %ecx
  addl    %ebx, %ecx                    # its end
next_entry:
  cmpl    %ecx, %ebx
  jae     no_reserve
  cmpl    $MB_MEMORY_MIRROR, MB_ENTRY_TYPE(%ebx)
  je      found_reserve
  addl    (%ebx), %ebx                  # the entry's size field counts the rest of it
  addl    $4, %ebx
  jmp     next_entry
found_reserve:
  movl    MB_ENTRY_ADDR(%ebx), %edx
  movl    $2, %ecx                      # twice: before and after the TLB flush
map_mirror:
  # Accessed and dirty from the start: the second mirror store goes through this very
  # entry, and bits the page walk set in it would be overwritten in the twin by the store.
  leal    (PTE_P | PTE_W | PTE_PS | PTE_A | PTE_D)(%edx), %eax
  movl    %eax, bootpgdir + 4 * (KMIRROR >> 22)
  addl    $BIGPGSIZE, %eax
  movl    %eax, bootpgdir + 4 * (KMIRROR >> 22) + 4
  movl    %cr3, %eax
  movl    %eax, %cr3
  decl    %ecx
  jnz     map_mirror
no_reserve:
  movl    %edx, mirror_half
  movl    $(boot_stack + KSTACKSIZE), %esp
  pushl   %esi
  pushl   $halt                         # kmain's return address (it never returns)
  movl    $kmain, %eax                  # an absolute jump: up to the linked addresses
  jmp     *%eax                         # (a call from here would push a low, physical address)
halt:
  hlt
  jmp     halt

.comm boot_stack, KSTACKSIZE
