/* Entry for the benchmark program and the test programs: main(argc, argv), then exit with its value. */
.text
.globl _start
_start:
  mov (%esp), %eax
  lea 4(%esp), %ecx
  push %ecx
  push %eax
  call main
  mov %eax, %ebx
  mov $1, %eax
  int $0x80

.globl sys_write
sys_write:
  push %ebx
  mov 8(%esp), %ebx
  mov 12(%esp), %ecx
  mov 16(%esp), %edx
  mov $4, %eax
  int $0x80
  pop %ebx
  ret
