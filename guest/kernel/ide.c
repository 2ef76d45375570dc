// The IDE disk driver: PIO with interrupts (IRQ 14) on the primary channel. The file
// system lives on the slave disk (hdb). A 1024-byte block is two sectors; the disk
// raises one interrupt per sector, as the ATA protocol has it, and the driver moves that
// sector. Requests wait in a queue; the one at its head is on the disk.
#include "types.h"
#include "param.h"
#include "fs.h"
#include "buf.h"
#include "x86.h"
#include "defs.h"
#include "traps.h"

#define SECTOR_SIZE 512
#define SECTORS_PER_BLOCK (BSIZE / SECTOR_SIZE)

// Primary channel registers.
#define ATA_DATA     0x1F0
#define ATA_COUNT    0x1F2   // sectors to transfer
#define ATA_LBA0     0x1F3   // LBA bits 0-7, then 8-15 and 16-23 in the next two
#define ATA_DRIVE    0x1F6   // DRIVE_LBA | slave << 4 | LBA bits 24-27
#define ATA_STATUS   0x1F7   // read
#define ATA_COMMAND  0x1F7   // write
#define ATA_CONTROL  0x3F6   // 0: interrupts enabled
#define DRIVE_LBA    0xE0
#define STATUS_BUSY  0x80
#define STATUS_READY 0x40
#define STATUS_FAULT 0x20
#define STATUS_DRQ   0x08    // the drive wants data moved
#define STATUS_ERROR 0x01
#define CMD_READ     0x20    // READ SECTORS
#define CMD_WRITE    0x30    // WRITE SECTORS

static struct buf *queue;     // requests; the first is on the disk
static int sectors_moved;     // of the request on the disk
static int slave_present;

// Wait until the drive is ready (not busy); -1 if it reports a fault or an error and
// checkerr is set.
static int
ide_wait(int checkerr)
{
  int status;
  while (((status = inb(ATA_STATUS)) & (STATUS_BUSY | STATUS_READY)) != STATUS_READY)
    ;
  return checkerr && (status & (STATUS_FAULT | STATUS_ERROR)) ? -1 : 0;
}

void
ideinit(void)
{
  ioapicenable(IRQ_IDE, 0);
  ide_wait(0);
  outb(ATA_DRIVE, DRIVE_LBA | 1 << 4);  // is there a slave? its status is not 0
  for (int tries = 0; tries < 1000 && !slave_present; tries++)
    slave_present = inb(ATA_STATUS) != 0;
  outb(ATA_DRIVE, DRIVE_LBA | 0 << 4);
  if (!slave_present) panic("no file-system disk (hdb)");
}

// Put request b on the disk: the drive, the sectors, then the command. A write also
// gives its first sector now; the others follow, one per interrupt.
static void
ide_start(struct buf *b)
{
  uint sector = b->blockno * SECTORS_PER_BLOCK;
  sectors_moved = 0;
  ide_wait(0);
  outb(ATA_CONTROL, 0);
  outb(ATA_COUNT, SECTORS_PER_BLOCK);
  outb(ATA_LBA0, sector & 0xFF);
  outb(ATA_LBA0 + 1, (sector >> 8) & 0xFF);
  outb(ATA_LBA0 + 2, (sector >> 16) & 0xFF);
  outb(ATA_DRIVE, DRIVE_LBA | (b->dev & 1) << 4 | ((sector >> 24) & 0x0F));
  if (!(b->flags & B_DIRTY)) {
    outb(ATA_COMMAND, CMD_READ);
    return;
  }
  outb(ATA_COMMAND, CMD_WRITE);
  while ((inb(ATA_STATUS) & (STATUS_BUSY | STATUS_DRQ)) != STATUS_DRQ)
    ;
  outsl(ATA_DATA, b->data, SECTOR_SIZE / 4);
}

// A sector is done: move the next one, or finish the request and start the next.
void
ideintr(void)
{
  struct buf *b = queue;
  if (!b) {
    inb(ATA_STATUS);  // a stray interrupt: reading the status acknowledges it
    return;
  }
  if (ide_wait(1) < 0) panic("ide: disk error");
  int writing = b->flags & B_DIRTY;
  if (!writing) insl(ATA_DATA, b->data + sectors_moved * SECTOR_SIZE, SECTOR_SIZE / 4);
  if (++sectors_moved < SECTORS_PER_BLOCK) {
    if (writing) outsl(ATA_DATA, b->data + sectors_moved * SECTOR_SIZE, SECTOR_SIZE / 4);
    return;
  }
  queue = b->qnext;
  b->flags = (b->flags | B_VALID) & ~B_DIRTY;
  wakeup(b);
  if (queue) ide_start(queue);
}

// Make b's data and the disk agree: read it if it is not valid, write it if it is
// dirty. Returns when the disk is done.
void
iderw(struct buf *b)
{
  if (!b->busy) panic("iderw: buffer not held");
  if ((b->flags & (B_VALID | B_DIRTY)) == B_VALID) panic("iderw: nothing to do");
  if (b->dev != FSDEV) panic("iderw: only hdb holds a file system");
  pushcli();
  b->qnext = 0;
  struct buf **tail = &queue;
  while (*tail) tail = &(*tail)->qnext;
  *tail = b;
  if (queue == b) ide_start(b);
  while ((b->flags & (B_VALID | B_DIRTY)) != B_VALID)
    sleep(b);
  popcli();
}
