/* A hostile guest for issue 22: after a line on the console, one `rep lodsb` of 4 GiB from
   unassigned physical memory (above the machine's RAM), element by element on the host.
   It must not hold memvisor past --timeout. */
#include "../../support/kernel.h"

void interrupt(u32 vector) { (void)vector; }

void kmain(void) {
  uart_init();
  puts("long rep starts\n");
  u32 src = 0xc0000000, count = 0xffffffff;
  __asm__ volatile("cld; rep lodsb" : "+S"(src), "+c"(count) : : "eax", "memory");
  puts("long rep ended\n");
  for (;;) __asm__ volatile("cli; hlt");
}
