// The 16550 UART on COM1: the serial console. Output polls the transmitter;
// input arrives by interrupt (IRQ 4).
#include "types.h"
#include "param.h"
#include "x86.h"
#include "defs.h"
#include "traps.h"

#define COM1 0x3F8
static int present;

void
uartinit(void)
{
  outb(COM1 + 2, 0);      // FIFOs off
  outb(COM1 + 3, 0x80);   // DLAB: set the divisor
  outb(COM1 + 0, 12);     // 115200 / 12 = 9600 baud
  outb(COM1 + 1, 0);
  outb(COM1 + 3, 0x03);   // 8 bits, no parity, one stop bit
  outb(COM1 + 4, 0);
  outb(COM1 + 1, 0x01);   // interrupt when data arrives
  if (inb(COM1 + 5) == 0xFF) return;  // no UART
  present = 1;
  inb(COM1 + 2);
  inb(COM1 + 0);
}

void
uartenable(void)
{
  if (present) ioapicenable(IRQ_COM1, 0);
}

void
uartputc(int c)
{
  if (!present) return;
  for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
    ;
  outb(COM1 + 0, c);
}

static int
uartgetc(void)
{
  if (!present || !(inb(COM1 + 5) & 0x01)) return -1;
  return inb(COM1 + 0);
}

void
uartintr(void)
{
  consoleintr(uartgetc);
}
