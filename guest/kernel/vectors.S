# The 256 interrupt entry points and the table of their addresses (vectors[]).
# The CPU pushes an error code for vectors 8, 10-14 and 17; for the others we push 0
# so that every trap frame has the same shape.
.macro vector n
  .text
  .globl vector\n
vector\n:
  .if (\n == 8) || ((\n >= 10) && (\n <= 14)) || (\n == 17)
  .else
    pushl $0
  .endif
  pushl $\n
  jmp alltraps
  .data
  .long vector\n
.endm

.data
.globl vectors
.p2align 2
vectors:
.altmacro
.set i, 0
.rept 256
  vector %i
  .set i, i + 1
.endr
