/* A boot sector that uses no BIOS calls: real mode at 0x7C00, COM1 by port I/O, sector 1
   read from the IDE master by PIO into 0x7E00, then protected mode, then isa-debug-exit.
   Assembled as a flat binary at 0x7C00 (sector 0) followed by sector 1. */
.code16
.globl _start
_start:
  cli
  xor %ax, %ax
  mov %ax, %ds
  mov %ax, %es
  mov %ax, %ss
  mov $0x7c00, %sp
  mov %dl, drive
  mov $0x3fb, %dx; mov $0x80, %al; out %al, %dx
  mov $0x3f8, %dx; mov $0x01, %al; out %al, %dx
  mov $0x3f9, %dx; mov $0x00, %al; out %al, %dx
  mov $0x3fb, %dx; mov $0x03, %al; out %al, %dx
  mov $hello, %si
  call puts16
  /* IDE master, LBA 1, one sector, polled. */
  mov $0x3f6, %dx; mov $0x02, %al; out %al, %dx
  mov $0x1f6, %dx; mov $0xe0, %al; out %al, %dx
  mov $0x1f2, %dx; mov $1, %al; out %al, %dx
  mov $0x1f3, %dx; mov $1, %al; out %al, %dx
  mov $0x1f4, %dx; xor %al, %al; out %al, %dx
  mov $0x1f5, %dx; out %al, %dx
  mov $0x1f7, %dx; mov $0x20, %al; out %al, %dx
1:in %dx, %al
  test $0x80, %al
  jnz 1b
  test $0x08, %al
  jz 1b
  mov $0x7e00, %di
  mov $256, %cx
  mov $0x1f0, %dx
  cld
  rep insw
  /* The drive number the boot code was started with, in hex. */
  mov $drivemsg, %si
  call puts16
  mov drive, %al
  shr $4, %al
  call hexdigit16
  mov drive, %al
  call hexdigit16
  mov $newline, %si
  call puts16
  lgdt gdtdesc
  mov %cr0, %eax
  or $1, %eax
  mov %eax, %cr0
  ljmp $0x08, $pm

puts16:
  lodsb
  test %al, %al
  jz 3f
  mov %al, %bl
  mov $0x3fd, %dx
2:in %dx, %al
  test $0x20, %al
  jz 2b
  mov $0x3f8, %dx
  mov %bl, %al
  out %al, %dx
  jmp puts16
3:ret

hexdigit16:
  and $0x0f, %al
  add $'0', %al
  cmp $'9', %al
  jbe 4f
  add $7, %al
4:mov %al, hexbuf
  mov $hexbuf, %si
  jmp puts16

.code32
pm:
  mov $0x10, %ax
  mov %ax, %ds
  mov %ax, %es
  mov %ax, %ss
  mov $0x90000, %esp
  mov $pmmsg, %esi
  call puts32
  mov $0x7e00, %esi
  call puts32
  mov $done, %esi
  call puts32
  mov $0xf4, %dx
  xor %al, %al
  out %al, %dx
5:hlt
  jmp 5b

puts32:
  lodsb
  test %al, %al
  jz 7f
  mov %al, %bl
  mov $0x3fd, %dx
6:in %dx, %al
  test $0x20, %al
  jz 6b
  mov $0x3f8, %dx
  mov %bl, %al
  out %al, %dx
  jmp puts32
7:ret

hello:    .asciz "boot sector: real mode, no BIOS calls\n"
drivemsg: .asciz "boot drive: 0x"
newline:  .asciz "\n"
pmmsg:    .asciz "protected mode: ok\n"
done:     .asciz "DONE\n"
hexbuf:   .byte 0, 0
drive:    .byte 0
  .align 8
gdt:
  .quad 0
  .quad 0x00cf9a000000ffff
  .quad 0x00cf92000000ffff
gdtdesc:
  .word 23
  .long gdt
  .org 510
  .word 0xaa55
/* Sector 1: read by the boot sector over PIO. */
  .asciz "sector 1: read by PIO into 0x7e00\n"
  .org 1024
