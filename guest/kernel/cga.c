// The CGA text screen at physical 0xB8000: 80 columns by 25 rows of (attribute << 8 |
// character) cells, and the hardware cursor, whose position the CRT controller keeps.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "x86.h"
#include "defs.h"

#define CRT_INDEX 0x3D4         // CRT controller: register number, then its value at +1
#define CRT_CURSOR_HIGH 14
#define CRT_CURSOR_LOW 15
#define COLS 80
#define ROWS 25
#define BLANK (' ' | 0x0700)    // light grey on black
static ushort *screen = (ushort *)P2V(0xB8000);

static int
cursor(void)
{
  outb(CRT_INDEX, CRT_CURSOR_HIGH);
  int pos = inb(CRT_INDEX + 1) << 8;
  outb(CRT_INDEX, CRT_CURSOR_LOW);
  return pos | inb(CRT_INDEX + 1);
}

static void
set_cursor(int pos)
{
  outb(CRT_INDEX, CRT_CURSOR_HIGH);
  outb(CRT_INDEX + 1, pos >> 8);
  outb(CRT_INDEX, CRT_CURSOR_LOW);
  outb(CRT_INDEX + 1, pos);
  screen[pos] = BLANK;
}

void
cgaputc(int c)
{
  int pos = cursor();
  if (c == '\n') {
    pos += COLS - pos % COLS;
  } else if (c == '\b') {
    if (pos > 0) screen[--pos] = BLANK;
  } else {
    screen[pos++] = (c & 0xFF) | (BLANK & 0xFF00);
  }
  if (pos < 0 || pos > ROWS * COLS) pos = 0;
  if (pos >= (ROWS - 1) * COLS) {  // the last row is reached: everything moves up a row
    memmove(screen, screen + COLS, (ROWS - 2) * COLS * sizeof(screen[0]));
    pos -= COLS;
    memset(screen + pos, 0, (ROWS * COLS - pos) * sizeof(screen[0]));
  }
  set_cursor(pos);
}
