// The 16550 UART on COM1: the serial console. Output waits for the transmitter to be
// ready; input arrives by interrupt (IRQ 4), one character per read of the data register.
#include "types.h"
#include "param.h"
#include "x86.h"
#include "defs.h"
#include "traps.h"

#define COM1 0x3F8
// Registers, as offsets from COM1.
#define UART_DATA 0        // receive / transmit; with LCR_DLAB: divisor, low byte
#define UART_IER  1        // interrupt enable; with LCR_DLAB: divisor, high byte
#define UART_IIR  2        // interrupt identification (read)
#define UART_FCR  2        // FIFO control (write)
#define UART_LCR  3        // line control
#define UART_MCR  4        // modem control
#define UART_LSR  5        // line status
#define IER_RX_READY  0x01  // interrupt when a character arrives
#define LCR_8N1       0x03  // 8 data bits, no parity, one stop bit
#define LCR_DLAB      0x80  // divisor latch access
#define LSR_RX_READY  0x01  // a character has arrived
#define LSR_THR_EMPTY 0x20  // the transmitter takes another character
#define BAUD_DIVISOR  12    // 115200 / 12 = 9600 baud

static int present;

void
uartinit(void)
{
  outb(COM1 + UART_FCR, 0);  // no FIFOs: one character at a time
  outb(COM1 + UART_LCR, LCR_DLAB);
  outb(COM1 + UART_DATA, BAUD_DIVISOR & 0xFF);
  outb(COM1 + UART_IER, BAUD_DIVISOR >> 8);
  outb(COM1 + UART_LCR, LCR_8N1);
  outb(COM1 + UART_MCR, 0);
  outb(COM1 + UART_IER, IER_RX_READY);
  if (inb(COM1 + UART_LSR) == 0xFF) return;  // nothing answers at COM1
  present = 1;
  inb(COM1 + UART_IIR);   // clear what may be pending from before
  inb(COM1 + UART_DATA);
}

// Route the UART's interrupt, once the console can take its input.
void
uartenable(void)
{
  if (present) ioapicenable(IRQ_COM1, 0);
}

void
uartputc(int c)
{
  if (!present) return;
  for (int tries = 0; tries < 100000 && !(inb(COM1 + UART_LSR) & LSR_THR_EMPTY); tries++)
    ;
  outb(COM1 + UART_DATA, c);
}

static int
uartgetc(void)
{
  if (!present || !(inb(COM1 + UART_LSR) & LSR_RX_READY)) return -1;
  return inb(COM1 + UART_DATA);
}

void
uartintr(void)
{
  consoleintr(uartgetc);
}
