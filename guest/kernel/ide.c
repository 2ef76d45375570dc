// The IDE disk driver: PIO with interrupts (IRQ 14) on the primary channel. The file
// system lives on the slave disk (hdb). A 1024-byte block is two sectors. A request is a
// run of buffers holding consecutive blocks (usually one; bgetblocks makes longer ones),
// moved by one command. With READ/WRITE MULTIPLE (set up at boot: MULTIPLE sectors per
// data block) the disk raises one interrupt per MULTIPLE sectors, else one per sector, as
// the ATA protocol has it, and the driver moves them. Requests wait in a queue; the one at
// its head is on the disk.
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
#define CMD_READ_MULTIPLE  0xC4
#define CMD_WRITE_MULTIPLE 0xC5
#define CMD_SET_MULTIPLE   0xC6
#define MULTIPLE     8       // sectors per interrupt with READ/WRITE MULTIPLE: a page

static struct buf *queue;     // requests (the first buffer of each run); the first is on the disk
static int sectors_moved;     // of the request on the disk
static int sectors_total;     // of the request on the disk
static int multiple;          // sectors per interrupt: MULTIPLE, or 1 if the disk refused
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
  ide_wait(0);
  outb(ATA_DRIVE, DRIVE_LBA | 1 << 4);  // is there a slave? its status is not 0
  for (int tries = 0; tries < 1000 && !slave_present; tries++)
    slave_present = inb(ATA_STATUS) != 0;
  outb(ATA_DRIVE, DRIVE_LBA | 0 << 4);
  if (!slave_present) panic("no file-system disk (hdb)");
  // MULTIPLE sectors per interrupt on hdb; its interrupt (not enabled yet) is acknowledged
  // by reading the status.
  outb(ATA_DRIVE, DRIVE_LBA | 1 << 4);
  outb(ATA_COUNT, MULTIPLE);
  outb(ATA_COMMAND, CMD_SET_MULTIPLE);
  multiple = ide_wait(1) < 0 ? 1 : MULTIPLE;
  outb(ATA_DRIVE, DRIVE_LBA | 0 << 4);
  ioapicenable(IRQ_IDE, 0);
}

// The buffer holding sector k of the run starting at b, and where in its data.
static uchar *
run_sector(struct buf *b, int k)
{
  for (int i = k / SECTORS_PER_BLOCK; i > 0; i--) b = b->runnext;
  return b->data + (k % SECTORS_PER_BLOCK) * SECTOR_SIZE;
}

// The sectors the next interrupt of the request on the disk moves.
static int
next_sectors(void)
{
  int left = sectors_total - sectors_moved;
  return left < multiple ? left : multiple;
}

// Put request b (a run) on the disk: the drive, the sectors, then the command. A write
// also gives its first sectors now; the others follow, at each interrupt.
static void
ide_start(struct buf *b)
{
  uint sector = b->blockno * SECTORS_PER_BLOCK;
  int blocks = 1;
  for (struct buf *x = b->runnext; x; x = x->runnext) blocks++;
  sectors_moved = 0;
  sectors_total = blocks * SECTORS_PER_BLOCK;
  ide_wait(0);
  outb(ATA_CONTROL, 0);
  outb(ATA_COUNT, sectors_total);
  outb(ATA_LBA0, sector & 0xFF);
  outb(ATA_LBA0 + 1, (sector >> 8) & 0xFF);
  outb(ATA_LBA0 + 2, (sector >> 16) & 0xFF);
  outb(ATA_DRIVE, DRIVE_LBA | (b->dev & 1) << 4 | ((sector >> 24) & 0x0F));
  if (!(b->flags & B_DIRTY)) {
    outb(ATA_COMMAND, multiple > 1 ? CMD_READ_MULTIPLE : CMD_READ);
    return;
  }
  outb(ATA_COMMAND, multiple > 1 ? CMD_WRITE_MULTIPLE : CMD_WRITE);
  while ((inb(ATA_STATUS) & (STATUS_BUSY | STATUS_DRQ)) != STATUS_DRQ)
    ;
  for (int k = 0, n = next_sectors(); k < n; k++) outsl(ATA_DATA, run_sector(b, k), SECTOR_SIZE / 4);
}

// Sectors are done (read: ready to be moved; write: on the disk): move them or the next
// ones, or finish the request and start the next.
void
ideintr(void)
{
  struct buf *b = queue;
  if (!b) {
    inb(ATA_STATUS);  // a stray interrupt: reading the status acknowledges it
    return;
  }
  if (ide_wait(1) < 0) panic("ide: disk error");
  int writing = b->flags & B_DIRTY, n = next_sectors();
  for (int k = 0; !writing && k < n; k++) insl(ATA_DATA, run_sector(b, sectors_moved + k), SECTOR_SIZE / 4);
  if ((sectors_moved += n) < sectors_total) {
    for (int k = 0, m = next_sectors(); writing && k < m; k++)
      outsl(ATA_DATA, run_sector(b, sectors_moved + k), SECTOR_SIZE / 4);
    return;
  }
  queue = b->qnext;
  for (struct buf *x = b; x; x = x->runnext) x->flags = (x->flags | B_VALID) & ~B_DIRTY;
  wakeup(b);  // iderw sleeps on the run's first buffer (the others are held: nobody else waits on them here)
  if (queue) ide_start(queue);
}

// Make b's data and the disk agree: read it if it is not valid, write it if it is
// dirty; the same for the buffers of its run (b->runnext..., consecutive blocks, all
// read or all written, as b). Returns when the disk is done.
void
iderw(struct buf *b)
{
  for (struct buf *x = b; x; x = x->runnext) {
    if (!x->busy) panic("iderw: buffer not held");
    if ((x->flags & (B_VALID | B_DIRTY)) == B_VALID) panic("iderw: nothing to do");
    if (x->dev != FSDEV) panic("iderw: only hdb holds a file system");
    if (x != b && ((x->flags ^ b->flags) & B_DIRTY)) panic("iderw: a run both reads and writes");
    if (x->runnext && x->runnext->blockno != x->blockno + 1) panic("iderw: a run's blocks are not consecutive");
  }
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
