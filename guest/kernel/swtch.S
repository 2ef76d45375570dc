# void swtch(struct context *save, struct context *resume)
#
# Switch kernel threads. The calling thread's callee-saved registers, its stack pointer
# (as it will be when swtch returns) and its return address go into *save; the thread
# that *resume describes continues where it was saved: its own call to swtch returns,
# or, for a new process, its first function starts on the stack allocproc prepared.
.globl swtch
swtch:
  movl 4(%esp), %eax      # save
  movl 8(%esp), %edx      # resume
  popl %ecx               # the return address
  movl %ebx, 0(%eax)
  movl %esi, 4(%eax)
  movl %edi, 8(%eax)
  movl %ebp, 12(%eax)
  movl %esp, 16(%eax)
  movl %ecx, 20(%eax)
  movl 0(%edx), %ebx
  movl 4(%edx), %esi
  movl 8(%edx), %edi
  movl 12(%edx), %ebp
  movl 16(%edx), %esp
  jmp *20(%edx)
