// The CGA text screen at physical 0xB8000 (80x25), with the hardware cursor.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "x86.h"
#include "defs.h"

#define CRTPORT 0x3D4
#define COLS 80
#define ROWS 25
static ushort *screen = (ushort *)P2V(0xB8000);

void
cgaputc(int c)
{
  outb(CRTPORT, 14);
  int pos = inb(CRTPORT + 1) << 8;
  outb(CRTPORT, 15);
  pos |= inb(CRTPORT + 1);

  if (c == '\n')
    pos += COLS - pos % COLS;
  else if (c == '\b') {
    if (pos > 0) screen[--pos] = ' ' | 0x0700;
  } else
    screen[pos++] = (c & 0xFF) | 0x0700;
  if (pos < 0 || pos > ROWS * COLS) pos = 0;
  if (pos / COLS >= ROWS - 1) {  // scroll up a line
    memmove(screen, screen + COLS, sizeof(screen[0]) * (ROWS - 2) * COLS);
    pos -= COLS;
    memset(screen + pos, 0, sizeof(screen[0]) * (ROWS * COLS - pos));
  }
  outb(CRTPORT, 14);
  outb(CRTPORT + 1, pos >> 8);
  outb(CRTPORT, 15);
  outb(CRTPORT + 1, pos);
  screen[pos] = ' ' | 0x0700;
}
