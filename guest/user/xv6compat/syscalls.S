/* System-call stubs written the way an xv6 (x86) program has them: the number in
 * %eax, `int $64`, arguments left on the stack by the C caller. Nothing here comes
 * from MemV6's headers: the numbers are xv6's, written out. */

#define STUB(name, number) \
  .globl name;             \
name:                      \
  movl $number, %eax;      \
  int $64;                 \
  ret

STUB(fork, 1)
STUB(exit, 2)
STUB(wait, 3)
STUB(pipe, 4)
STUB(read, 5)
STUB(fstat, 8)
STUB(open, 15)
STUB(write, 16)
STUB(unlink, 18)
STUB(mkdir, 20)
STUB(close, 21)

  .section .note.GNU-stack, "", @progbits
