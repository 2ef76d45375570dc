# The bytes of initcode, built separately at address 0 and embedded here.
.section .rodata
.globl initcode_start, initcode_end
initcode_start:
  .incbin "initcode.bin"
initcode_end:
