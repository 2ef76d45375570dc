// The IDE disk driver: PIO, interrupt-driven (IRQ 14), on the primary channel.
// The file system lives on the slave disk (hdb). A 1024-byte block is two sectors,
// moved one sector per DRQ as the ATA protocol has it.
#include "types.h"
#include "param.h"
#include "fs.h"
#include "buf.h"
#include "x86.h"
#include "defs.h"
#include "traps.h"

#define SECTOR_SIZE 512
#define SECTORS_PER_BLOCK (BSIZE / SECTOR_SIZE)
#define IDE_BSY  0x80
#define IDE_DRDY 0x40
#define IDE_DF   0x20
#define IDE_DRQ  0x08
#define IDE_ERR  0x01
#define IDE_CMD_READ  0x20
#define IDE_CMD_WRITE 0x30

static struct buf *idequeue;  // idequeue is the request in progress
static int sectors_done;      // of the request in progress
static int havedisk1;

static int
idewait(int checkerr)
{
  int r;
  while (((r = inb(0x1F7)) & (IDE_BSY | IDE_DRDY)) != IDE_DRDY)
    ;
  if (checkerr && (r & (IDE_DF | IDE_ERR))) return -1;
  return 0;
}

void
ideinit(void)
{
  ioapicenable(IRQ_IDE, 0);
  idewait(0);
  outb(0x1F6, 0xE0 | (1 << 4));  // select the slave
  for (int i = 0; i < 1000; i++) {
    if (inb(0x1F7) != 0) {
      havedisk1 = 1;
      break;
    }
  }
  outb(0x1F6, 0xE0 | (0 << 4));
  if (!havedisk1) panic("no file-system disk (hdb)");
}

// Start request b: select the disk and sectors, then send the command.
static void
idestart(struct buf *b)
{
  int sector = b->blockno * SECTORS_PER_BLOCK;
  sectors_done = 0;
  idewait(0);
  outb(0x3F6, 0);  // interrupts on
  outb(0x1F2, SECTORS_PER_BLOCK);
  outb(0x1F3, sector & 0xFF);
  outb(0x1F4, (sector >> 8) & 0xFF);
  outb(0x1F5, (sector >> 16) & 0xFF);
  outb(0x1F6, 0xE0 | ((b->dev & 1) << 4) | ((sector >> 24) & 0x0F));
  if (b->flags & B_DIRTY) {
    outb(0x1F7, IDE_CMD_WRITE);
    while ((inb(0x1F7) & (IDE_BSY | IDE_DRQ)) != IDE_DRQ)
      ;
    outsl(0x1F0, b->data, SECTOR_SIZE / 4);
  } else {
    outb(0x1F7, IDE_CMD_READ);
  }
}

// One interrupt per sector: move the next sector, or finish the request.
void
ideintr(void)
{
  struct buf *b = idequeue;
  if (!b) {
    inb(0x1F7);  // acknowledge a stray interrupt
    return;
  }
  if (idewait(1) < 0) panic("ide: disk error");
  if (b->flags & B_DIRTY) {
    if (++sectors_done < SECTORS_PER_BLOCK) {
      outsl(0x1F0, b->data + sectors_done * SECTOR_SIZE, SECTOR_SIZE / 4);
      return;
    }
  } else {
    insl(0x1F0, b->data + sectors_done * SECTOR_SIZE, SECTOR_SIZE / 4);
    if (++sectors_done < SECTORS_PER_BLOCK) return;
  }
  idequeue = b->qnext;
  b->flags |= B_VALID;
  b->flags &= ~B_DIRTY;
  wakeup(b);
  if (idequeue) idestart(idequeue);
}

// Read b if it is not valid, or write it if it is dirty; return when done.
void
iderw(struct buf *b)
{
  if (!b->busy) panic("iderw: buffer not held");
  if ((b->flags & (B_VALID | B_DIRTY)) == B_VALID) panic("iderw: nothing to do");
  if (b->dev != FSDEV) panic("iderw: only hdb holds a file system");
  pushcli();
  b->qnext = 0;
  struct buf **pp;
  for (pp = &idequeue; *pp; pp = &(*pp)->qnext)
    ;
  *pp = b;
  if (idequeue == b) idestart(b);
  while ((b->flags & (B_VALID | B_DIRTY)) != B_VALID)
    sleep(b);
  popcli();
}
