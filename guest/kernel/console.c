// The console: output to the UART and the CGA screen, and input from the UART or the
// keyboard, edited a line at a time (backspace, ^U erases the line, ^D ends the input,
// ^P lists the processes) before read() sees it.
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

#define CTRL(letter) ((letter) - '@')

static int panicked;  // after a panic, any other output stops the machine
void uartenable(void);

// ---- Output ----

static void
consputc(int c)
{
  if (panicked) {
    cli();
    for (;;) asm volatile("hlt");
  }
  if (c == '\b') {  // erase: back, overwrite with a blank, back again (the screen erases by itself)
    uartputc('\b');
    uartputc(' ');
  }
  uartputc(c);
  cgaputc(c);
}

static void
putstring(char *s)
{
  while (*s) consputc(*s++);
}

// value in base 10 (signed) or 16 (unsigned).
static void
putnumber(uint value, int base, int is_signed)
{
  char digits[12];
  int n = 0, negative = is_signed && (int)value < 0;
  if (negative) value = -value;
  do {
    digits[n++] = "0123456789abcdef"[value % base];
    value /= base;
  } while (value != 0);
  if (negative) consputc('-');
  while (n > 0) consputc(digits[--n]);
}

// Formatted output to the console: %d, %x (and %p), %s, %c and %%. Interrupts stay off
// while it prints, so its lines never interleave with another process's output.
void
cprintf(char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  pushcli();
  for (char *f = fmt; *f; f++) {
    if (*f != '%') {
      consputc(*f);
      continue;
    }
    char conv = *++f;
    if (conv == 0) break;  // a lone % at the end
    if (conv == 'd') putnumber(va_arg(ap, int), 10, 1);
    else if (conv == 'x' || conv == 'p') putnumber(va_arg(ap, uint), 16, 0);
    else if (conv == 's') {
      char *s = va_arg(ap, char *);
      putstring(s ? s : "(null)");
    } else if (conv == 'c') consputc(va_arg(ap, int));
    else if (conv == '%') consputc('%');
    else {  // unknown: print it as written
      consputc('%');
      consputc(conv);
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

// ---- Input ----
// Typed characters collect in a ring with three positions: read (the next character
// read() returns), committed (the end of the lines read() may take: complete lines,
// or a ^D) and typed (the end of what has been typed, which the editing keys change).

#define INPUT_BUF 128
static struct {
  char ring[INPUT_BUF];
  uint read, committed, typed;
} input;

// Echo and keep one typed character; a newline, a ^D or a full ring commits the line.
static void
type_char(int c)
{
  if (input.typed - input.read >= INPUT_BUF) return;  // full: drop it
  if (c == '\r') c = '\n';
  input.ring[input.typed++ % INPUT_BUF] = c;
  consputc(c);
  if (c == '\n' || c == CTRL('D') || input.typed - input.read == INPUT_BUF) {
    input.committed = input.typed;
    wakeup(&input.read);
  }
}

// Take back the last typed character, if it is not committed yet. Is there one?
static int
erase_char(void)
{
  if (input.typed == input.committed) return 0;
  input.typed--;
  consputc('\b');
  return 1;
}

// The keyboard or UART interrupt: take every character getc has.
void
consoleintr(int (*getc)(void))
{
  int c, list_processes = 0;
  while ((c = getc()) >= 0) {
    if (c == 0) continue;
    if (c == CTRL('P')) list_processes = 1;  // after the loop: procdump prints a lot
    else if (c == CTRL('U')) while (erase_char()) ;
    else if (c == CTRL('H') || c == 0x7F) erase_char();
    else type_char(c);
  }
  if (list_processes) procdump();
}

// read() on the console: wait for a committed line, then deliver its characters up to
// its newline or n of them. A ^D ends the input: as the first character of a read it
// is taken and the read returns 0 (end of file); later it ends the read and stays for
// the next one.
static int
consoleread(struct inode *ip, struct memref dst, int n)
{
  int got = 0;
  iunlock(ip);  // the wait may be long; the inode is not needed meanwhile
  pushcli();
  while (got < n) {
    while (input.read == input.committed) {
      if (myproc()->killed) {
        got = -1;
        goto out;
      }
      sleep(&input.read);
    }
    char c = input.ring[input.read % INPUT_BUF];
    if (c == CTRL('D')) {
      if (got == 0) input.read++;
      break;
    }
    if (deliver(&dst, &c, 1) < 0) {
      got = -1;
      break;
    }
    input.read++;
    got++;
    if (c == '\n') break;
  }
out:
  popcli();
  ilock(ip);
  return got;
}

// write() on the console, a chunk at a time from src; interrupts stay off until the
// last byte is out, so one write is never interleaved with another.
static int
consolewrite(struct inode *ip, struct memref src, int n)
{
  char chunk[128];
  int done = 0;
  iunlock(ip);
  pushcli();
  while (done < n) {
    int m = n - done < (int)sizeof(chunk) ? n - done : (int)sizeof(chunk);
    if (collect(chunk, &src, m) < 0) break;
    for (int i = 0; i < m; i++) consputc(chunk[i] & 0xFF);
    done += m;
  }
  popcli();
  ilock(ip);
  return done == n ? n : -1;
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
