// Find the local APIC and the I/O APIC through the MP floating pointer structure
// and configuration table that the firmware leaves in low memory.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "defs.h"

struct mpfloat {        // "_MP_"
  uchar signature[4];
  uint physaddr;        // the configuration table
  uchar length, specrev, checksum, type;
  uchar imcrp, reserved[3];
};
struct mpconf {         // "PCMP"
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
#define MPPROC    0x00
#define MPBUS     0x01
#define MPIOAPIC  0x02
#define MPIOINTR  0x03
#define MPLINTR   0x04
#define MPBOOT    0x02  // processor entry flag: the bootstrap processor

uchar bootapicid;       // the local APIC ID of the CPU MemV6 runs on

static uchar
sum(uchar *addr, int len)
{
  uchar s = 0;
  for (int i = 0; i < len; i++) s += addr[i];
  return s;
}

static struct mpfloat *
search(uint pa, int len)
{
  uchar *addr = P2V(pa);
  for (uchar *p = addr; p < addr + len; p += sizeof(struct mpfloat))
    if (memcmp(p, "_MP_", 4) == 0 && sum(p, sizeof(struct mpfloat)) == 0)
      return (struct mpfloat *)p;
  return 0;
}

// The MP spec's search order: the EBDA's first KiB, the last KiB of base memory,
// then the BIOS ROM.
static struct mpfloat *
findfloat(void)
{
  uchar *bda = P2V(0x400);
  struct mpfloat *mp;
  uint ebda = ((bda[0x0F] << 8) | bda[0x0E]) << 4;
  if (ebda && (mp = search(ebda, 1024))) return mp;
  uint basekb = (bda[0x14] << 8) | bda[0x13];
  if (basekb && (mp = search(basekb * 1024 - 1024, 1024))) return mp;
  return search(0xF0000, 0x10000);
}

void
mpinit(void)
{
  struct mpfloat *mp = findfloat();
  if (!mp || mp->physaddr == 0) panic("no MP floating pointer: not a PC?");
  struct mpconf *conf = P2V(mp->physaddr);
  if (memcmp(conf, "PCMP", 4) != 0 || sum((uchar *)conf, conf->length) != 0)
    panic("bad MP configuration table");
  lapic = (uint *)conf->lapicaddr;
  int ncpu = 0;
  uchar *p = (uchar *)(conf + 1), *e = (uchar *)conf + conf->length;
  while (p < e) {
    switch (*p) {
    case MPPROC:
      if (p[3] & MPBOOT) bootapicid = p[1];
      ncpu++;
      p += 20;
      break;
    case MPIOAPIC: ioapicid = p[1]; p += 8; break;
    case MPBUS: case MPIOINTR: case MPLINTR: p += 8; break;
    default: panic("unknown MP configuration entry");
    }
  }
  if (ncpu > 1) cprintf("MemV6 uses one of %d CPUs\n", ncpu);
  if (mp->imcrp) {  // leave PIC mode: route interrupts through the APICs

    asm volatile("outb %0, %1" : : "a"((uchar)0x70), "d"((ushort)0x22));
    uchar v;
    asm volatile("inb %1, %0" : "=a"(v) : "d"((ushort)0x23));
    asm volatile("outb %0, %1" : : "a"((uchar)(v | 1)), "d"((ushort)0x23));
  }
}
