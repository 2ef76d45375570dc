// The PS/2 keyboard (IRQ 1): scancode set 1 to characters, with shift and ctrl.
#include "types.h"
#include "x86.h"
#include "defs.h"

#define KBSTATP 0x64
#define KBDATAP 0x60
#define SHIFT 1
#define CTL 2

static const char normal[128] = {
  0, 0x1B, '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '-', '=', '\b', '\t',
  'q', 'w', 'e', 'r', 't', 'y', 'u', 'i', 'o', 'p', '[', ']', '\n', 0, 'a', 's',
  'd', 'f', 'g', 'h', 'j', 'k', 'l', ';', '\'', '`', 0, '\\', 'z', 'x', 'c', 'v',
  'b', 'n', 'm', ',', '.', '/', 0, '*', 0, ' ',
};
static const char shifted[128] = {
  0, 0x1B, '!', '@', '#', '$', '%', '^', '&', '*', '(', ')', '_', '+', '\b', '\t',
  'Q', 'W', 'E', 'R', 'T', 'Y', 'U', 'I', 'O', 'P', '{', '}', '\n', 0, 'A', 'S',
  'D', 'F', 'G', 'H', 'J', 'K', 'L', ':', '"', '~', 0, '|', 'Z', 'X', 'C', 'V',
  'B', 'N', 'M', '<', '>', '?', 0, '*', 0, ' ',
};
static int modifiers;

static int
kbdgetc(void)
{
  if (!(inb(KBSTATP) & 0x01)) return -1;
  uint code = inb(KBDATAP);
  int release = code & 0x80;
  code &= 0x7F;
  int bit = (code == 0x2A || code == 0x36) ? SHIFT : code == 0x1D ? CTL : 0;
  if (bit) {
    if (release) modifiers &= ~bit; else modifiers |= bit;
    return 0;
  }
  if (release) return 0;
  int c = (modifiers & SHIFT) ? shifted[code] : normal[code];
  if ((modifiers & CTL) && c >= 'a' && c <= 'z') c -= 'a' - 1;
  return c;
}

void
kbdintr(void)
{
  consoleintr(kbdgetc);
}
