// Find the local APIC and the I/O APIC through the tables the firmware leaves in low
// memory for multiprocessor systems (Intel MP Specification 1.4): a floating pointer
// ("_MP_") that leads to the configuration table ("PCMP") and its entries.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "x86.h"
#include "defs.h"

struct mpfloat {        // "_MP_", 16 bytes on a 16-byte boundary
  uchar signature[4];
  uint physaddr;        // the configuration table
  uchar length, specrev, checksum, type;
  uchar imcrp, reserved[3];
};
struct mpconf {         // "PCMP", followed by its entries
  uchar signature[4];
  ushort length;
  uchar version, checksum;
  uchar product[20];
  uint oemtable;
  ushort oemlength, entry;
  uint lapicaddr;
  ushort xlength;
  uchar xchecksum, reserved;
};
// Configuration table entries: a type byte, then a processor entry is 20 bytes long
// and every other kind 8.
#define MP_PROCESSOR 0x00
#define MP_BUS       0x01
#define MP_IOAPIC    0x02   // byte 1: its APIC id
#define MP_IOINTR    0x03
#define MP_LINTR     0x04
#define MP_BOOT_PROCESSOR 0x02  // processor entry, byte 3: this is the bootstrap processor

uchar bootapicid;  // the local APIC ID of the CPU MemV6 runs on
// The IMCR chip, present when the floating pointer's imcrp says so, connects the
// interrupt lines either to the 8259s (PIC mode) or to the APICs.
#define IMCR_ADDRESS 0x22
#define IMCR_DATA    0x23
#define IMCR_SELECT  0x70
#define IMCR_APIC    0x01

// Do the len bytes at p add up to 0, as every MP structure's bytes must?
static int
checksum_ok(void *p, int len)
{
  uchar sum = 0;
  for (uchar *b = p; b < (uchar *)p + len; b++) sum += *b;
  return sum == 0;
}

// A floating pointer in physical [pa, pa + len), or 0.
static struct mpfloat *
scan(uint pa, uint len)
{
  for (uchar *p = P2V(pa); p < (uchar *)P2V(pa + len); p += sizeof(struct mpfloat))
    if (memcmp(p, "_MP_", 4) == 0 && checksum_ok(p, sizeof(struct mpfloat))) return (struct mpfloat *)p;
  return 0;
}

// Look where the specification says, in its order: the first KiB of the extended BIOS
// data area, the last KiB of base memory (both found in the BIOS data area), the ROM.
static struct mpfloat *
find_floating_pointer(void)
{
  uchar *bda = P2V(0x400);
  uint ebda = (bda[0x0F] << 8 | bda[0x0E]) << 4;
  uint base_kib = bda[0x14] << 8 | bda[0x13];
  struct mpfloat *mp = 0;
  if (ebda) mp = scan(ebda, 1024);
  if (!mp && base_kib) mp = scan((base_kib - 1) * 1024, 1024);
  return mp ? mp : scan(0xF0000, 0x10000);
}

void
mpinit(void)
{
  struct mpfloat *mp = find_floating_pointer();
  if (!mp || mp->physaddr == 0) panic("no MP floating pointer: not a PC?");
  struct mpconf *conf = P2V(mp->physaddr);
  if (memcmp(conf, "PCMP", 4) != 0 || !checksum_ok(conf, conf->length)) panic("bad MP configuration table");
  lapic = (uint *)conf->lapicaddr;
  int ncpu = 0;
  for (uchar *e = (uchar *)(conf + 1); e < (uchar *)conf + conf->length; e += *e == MP_PROCESSOR ? 20 : 8) {
    if (*e == MP_PROCESSOR) {
      ncpu++;
      if (e[3] & MP_BOOT_PROCESSOR) bootapicid = e[1];  // byte 1: its APIC id
    }
    else if (*e == MP_IOAPIC) ioapicid = e[1];
    else if (*e != MP_BUS && *e != MP_IOINTR && *e != MP_LINTR) panic("unknown MP configuration entry");
  }
  if (ncpu > 1) cprintf("MemV6 uses one of %d CPUs\n", ncpu);
  if (mp->imcrp) {  // leave PIC mode
    outb(IMCR_ADDRESS, IMCR_SELECT);
    outb(IMCR_DATA, inb(IMCR_DATA) | IMCR_APIC);
  }
}
