// The console: output to the UART and the CGA screen, input from either as a line
// discipline (backspace, ^U kill line, ^D end of file, ^P process list).
#include "types.h"
#include "param.h"
#include "fs.h"
#include "file.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "proc.h"
#include "defs.h"
#include "traps.h"

// -nostdinc: the compiler's own variadic-argument support.
typedef __builtin_va_list va_list;
#define va_start(ap, last) __builtin_va_start(ap, last)
#define va_arg(ap, type) __builtin_va_arg(ap, type)
#define va_end(ap) __builtin_va_end(ap)

static int panicked;
void uartenable(void);

static void
consputc(int c)
{
  if (panicked) {
    cli();
    for (;;) asm volatile("hlt");
  }
  if (c == '\b') {
    uartputc('\b'); uartputc(' '); uartputc('\b');
  } else {
    uartputc(c);
  }
  cgaputc(c);
}

static void
printint(int value, int base, int sign)
{
  static char digits[] = "0123456789abcdef";
  char buf[16];
  uint x = (sign && value < 0) ? -value : value;
  int i = 0;
  do buf[i++] = digits[x % base]; while ((x /= base) != 0);
  if (sign && value < 0) buf[i++] = '-';
  while (--i >= 0) consputc(buf[i]);
}

// Formatted output: %d %x %p %s %c %%.
void
cprintf(char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  pushcli();
  for (int i = 0; fmt[i]; i++) {
    int c = fmt[i] & 0xFF;
    if (c != '%') { consputc(c); continue; }
    c = fmt[++i] & 0xFF;
    if (c == 0) break;
    switch (c) {
    case 'd': printint(va_arg(ap, int), 10, 1); break;
    case 'x': case 'p': printint(va_arg(ap, int), 16, 0); break;
    case 's': {
      char *s = va_arg(ap, char *);
      for (s = s ? s : "(null)"; *s; s++) consputc(*s);
      break;
    }
    case 'c': consputc(va_arg(ap, int)); break;
    case '%': consputc('%'); break;
    default: consputc('%'); consputc(c);
    }
  }
  popcli();
  va_end(ap);
}

void
panic(char *msg)
{
  cli();
  cprintf("panic: %s\n", msg);
  panicked = 1;
  for (;;) asm volatile("cli; hlt");
}

#define INPUT_BUF 128
static struct {
  char buf[INPUT_BUF];
  uint r, w, e;  // read, write (end of committed lines), edit positions
} input;
#define C(x) ((x) - '@')

void
consoleintr(int (*getc)(void))
{
  int c, dump = 0;
  while ((c = getc()) >= 0) {
    switch (c) {
    case 0:
      break;
    case C('P'):
      dump = 1;
      break;
    case C('U'):
      while (input.e != input.w && input.buf[(input.e - 1) % INPUT_BUF] != '\n') {
        input.e--;
        consputc('\b');
      }
      break;
    case C('H'): case 0x7F:
      if (input.e != input.w) {
        input.e--;
        consputc('\b');
      }
      break;
    default:
      if (input.e - input.r < INPUT_BUF) {
        c = (c == '\r') ? '\n' : c;
        input.buf[input.e++ % INPUT_BUF] = c;
        consputc(c);
        if (c == '\n' || c == C('D') || input.e == input.r + INPUT_BUF) {
          input.w = input.e;
          wakeup(&input.r);
        }
      }
    }
  }
  if (dump) procdump();
}

static int
consoleread(struct inode *ip, char *dst, int n)
{
  int target = n;
  iunlock(ip);
  pushcli();
  while (n > 0) {
    while (input.r == input.w) {
      if (myproc()->killed) {
        popcli();
        ilock(ip);
        return -1;
      }
      sleep(&input.r);
    }
    int c = input.buf[input.r++ % INPUT_BUF];
    if (c == C('D')) {  // end of file
      if (n < target) input.r--;  // leave it for the next read, which returns 0
      break;
    }
    *dst++ = c;
    --n;
    if (c == '\n') break;
  }
  popcli();
  ilock(ip);
  return target - n;
}

static int
consolewrite(struct inode *ip, char *buf, int n)
{
  iunlock(ip);
  pushcli();
  for (int i = 0; i < n; i++) consputc(buf[i] & 0xFF);
  popcli();
  ilock(ip);
  return n;
}

struct devsw devsw[NDEV];

void
consoleinit(void)
{
  devsw[CONSOLE].write = consolewrite;
  devsw[CONSOLE].read = consoleread;
  uartenable();
  ioapicenable(IRQ_KBD, 0);
}
