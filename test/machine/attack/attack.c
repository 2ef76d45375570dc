/*
 * Attack kernel: a ring-0 guest that tries to reach outside its box through every
 * device and memory path memvisor emulates, and prints what it observes on COM1. Each
 * line is one rule of the boundary (README, "What a guest can and cannot affect"):
 * what it prints must be the same on qemu-system-i386, where QEMU's behaviour is
 * defined; what QEMU leaves to the machine is printed as checks that must say ok.
 * Expects: hda = 64 KiB whose sector n is filled with byte (n * 7 + 1), hdb = 128 KiB
 * of zeros, 64 MiB of memory, and isa-debug-exit at 0xF4 to end the run.
 */
#include "../../support/kernel.h"

void interrupt(u32 vector) {
  puts("exception "); putdec(vector); puts("\n");
  debug_exit(3);
}

#define RAM_END 0x4000000u   /* 64 MiB */
static inline u32 inl_port(u16 port) { return inl(port); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static int ide_wait(void) {
  u8 s;
  for (int i = 0; i < 10000000; i++) if (!((s = inb(0x1f7)) & 0x80)) return s;
  return 0xff;
}
static u8 buf[512 * 4];

/* IDE: every sector number and count the task file can hold stays inside the disk. */
static void attack_ide(void) {
  outb(0x3f6, 0x02);   /* no interrupts: polled */
  puts("ide:");
  /* The largest LBA28 sector, far past the 128-sector disk: an error, nothing moved. */
  ide_select(0, 0x0fffffff, 1); outb(0x1f7, 0x20);
  u8 st = ide_wait(); hexfield("lba_max_status", st, 2); hexfield("lba_max_error", inb(0x1f1), 2);
  /* Count 0 means 256 sectors: from sector 127, one exists, then the command aborts. */
  ide_select(0, 127, 0); outb(0x1f7, 0x20);
  st = ide_wait(); hexfield("count0_status", st, 2);
  for (int i = 0; i < 256; i++) ((u16 *)buf)[i] = inw(0x1f0);
  int pattern = 1;
  for (int i = 0; i < 512; i++) pattern &= buf[i] == (u8)(127 * 7 + 1);
  check("count0_first_sector", pattern);
  st = ide_wait(); hexfield("count0_then_status", st, 2); hexfield("count0_error", inb(0x1f1), 2);
  /* A write far past the end: refused; the disk does not grow. */
  ide_select(1, 0x0ffffff0, 1); outb(0x1f7, 0x30);
  st = ide_wait(); hexfield("write_far_status", st, 2); hexfield("write_far_error", inb(0x1f1), 2);
  /* Reading the data port with no transfer under way: the host is not asked for data. */
  u32 extra = 0;
  for (int i = 0; i < 100000; i++) extra |= inl_port(0x1f0) ^ inl_port(0x1f0);
  check("idle_data_reads", 1); hexfield("status_after", inb(0x1f7), 2);
  puts("\n");
  (void)extra;
}

/* APIC and IOAPIC: register indexes and offsets beyond the registers that exist. */
static void attack_apic(void) {
  puts("ioapic:");
  u32 ver = ioapic_read(1);
  hexfield("version", ver, 8);
  ioapic_write(1, 0xffffffff);                       /* read-only */
  hexfield("version_after_write", ioapic_read(1), 8);
  u32 pins = ((ver >> 16) & 0xff) + 1;
  decfield("pins", pins);
  /* Redirection entries past the last pin, and the highest index. */
  ioapic_write(0x10 + 2 * pins, 0x12345678);
  hexfield("past_last_pin", ioapic_read(0x10 + 2 * pins), 8);
  ioapic_write(0xff, 0xdeadbeef);
  hexfield("index_ff", ioapic_read(0xff), 8);
  /* The select register keeps 8 bits. */
  IOAPIC_SEL = 0xffffff01;
  hexfield("select_wide", IOAPIC_SEL, 8);
  puts("\n");

  puts("lapic:");
  u32 v = lapic_read(0x30);
  LAPIC[0x30 / 4] = 0xffffffff;                      /* version: read-only */
  check("version_read_only", lapic_read(0x30) == v);
  /* Offsets with no register, inside the APIC page. */
  LAPIC[0x3f0 / 4] = 0xffffffff;
  LAPIC[0xff0 / 4] = 0xffffffff;
  check("holes_ignored", lapic_read(0x30) == v);
  /* The ICR with reserved destination modes and vectors 0..15: nothing leaves the machine. */
  lapic_write(0x310, 0xff000000);
  lapic_write(0x300, 0x000c0000 | 0x0700 | 0x05);   /* all-excluding-self, an undefined mode */
  check("icr_survived", lapic_read(0x30) == v);
  puts("\n");
}

/* MMIO: accesses of every size at every alignment up to the end of each window. */
static void attack_mmio(void) {
  puts("mmio:");
  u32 bases[3] = { 0xfee00000, 0xfec00000, 0xb8000 };
  for (int b = 0; b < 3; b++) {
    for (u32 off = 0xff8; off < 0x1000; off++) {
      *(volatile u8 *)(bases[b] + off) = 0;
      (void)*(volatile u8 *)(bases[b] + off);
      (void)*(volatile u16 *)(bases[b] + off);
    }
  }
  check("window_ends", 1);
  puts("\n");
}

/* Port I/O: ports with no device, and wide accesses to byte-wide ports. */
static void attack_ports(void) {
  puts("ports:");
  hexfield("none_b", inb(0x2e0), 2); hexfield("none_w", inw(0x2e0), 4); hexfield("none_l", inl_port(0x2e0), 8);
  hexfield("none_top", inb(0xffff), 2);
  u32 sum = 0;
  for (u32 p = 0x100; p < 0x170; p++) sum += inb((u16)p);   /* a range with no device */
  hexfield("empty_range_sum", sum, 8);
  puts("\n");
}

/*
 * Memory: copies and stores that run past the end of RAM land nowhere, and the addresses
 * past RAM read as unassigned memory reads everywhere (QEMU reads 0, memvisor 0xFF as a
 * PC's open bus: the value is the machine's, so it is compared with another unassigned
 * address, not printed).
 */
#define UNASSIGNED (*(volatile u32 *)0xd0000000)
static void attack_memory(void) {
  puts("memory:");
  volatile u8 *low = (volatile u8 *)0x300000;   /* above the kernel (1 MiB) */
  for (int i = 0; i < 64; i++) low[i] = (u8)i;
  /* Stores past RAM: not into RAM (no wrap to low memory), and they do not stay. */
  u32 edi = RAM_END - 16, ecx = 64;
  __asm__ volatile("cld; rep stosb" : "+D"(edi), "+c"(ecx) : "a"(0x5a) : "memory");
  check("stosb_edge_inside", *(volatile u8 *)(RAM_END - 1) == 0x5a);
  check("beyond_reads_unassigned", *(volatile u32 *)(RAM_END + 16) == UNASSIGNED);
  int untouched = 1;
  for (int i = 0; i < 64; i++) untouched &= low[i] == (u8)i;
  check("low_memory_untouched", untouched);
  /* A copy whose source runs past RAM. */
  u32 esi = RAM_END - 8, dst = 0x380000; ecx = 16; edi = dst;
  __asm__ volatile("cld; rep movsb" : "+S"(esi), "+D"(edi), "+c"(ecx) : : "memory");
  hexfield("copied_inside", *(volatile u32 *)dst, 8); check("copied_beyond_unassigned", *(volatile u32 *)(dst + 8) == UNASSIGNED);
  /* A long store far above RAM (a million dwords): it ends, and low memory is untouched. */
  edi = 0x80000000; ecx = 0x100000;
  __asm__ volatile("cld; rep stosl" : "+D"(edi), "+c"(ecx) : "a"(0xa5a5a5a5) : "memory");
  hexfield("long_store_edi", edi, 8);
  untouched = 1;
  for (int i = 0; i < 64; i++) untouched &= low[i] == (u8)i;
  check("low_memory_untouched_after_long_store", untouched);
  /* IDE data read into memory past RAM (rep insw): the sector goes nowhere. */
  outb(0x3f6, 0x02);
  ide_select(0, 3, 1); outb(0x1f7, 0x20); ide_wait();
  edi = RAM_END + 0x1000; ecx = 256;
  __asm__ volatile("cld; rep insw" : "+D"(edi), "+c"(ecx) : "d"(0x1f0) : "memory");
  check("insw_beyond_unassigned", *(volatile u32 *)(RAM_END + 0x1000) == UNASSIGNED);
  puts("\n");
}

void kmain(void) {
  uart_init();
  puts("memvisor attack tests\n");
  idt_init();
  pic_init();
  for (int pin = 0; pin < 24; pin++) ioapic_route(pin, 0x10000 | 0x50);
  attack_ide();
  attack_apic();
  attack_mmio();
  attack_ports();
  attack_memory();
  puts("DONE\n");
  debug_exit(0);
}
