/*
 * Device test kernel: exercises every PC device memvisor emulates, and each interrupt
 * path (8259, IOAPIC edge and level, local APIC timer, self-IPI, TPR), and prints what
 * it sees on COM1. It prints only what a correct PC must show identically on
 * qemu-system-i386 and on memvisor; values that depend on timing are printed as checks.
 * Expects: hda = 64 KiB whose sector n is filled with byte (n * 7 + 1), hdb = 128 KiB
 * of zeros, 64 MiB of memory, and isa-debug-exit at 0xF4 to end the run.
 */
#include "../../support/kernel.h"

static inline void halt(void) { __asm__ volatile("sti; hlt; cli"); }

/* ---------------------------------------------------------------- interrupts */

static volatile u32 counts[256];
static volatile u32 last_vector;
static volatile u8 pic_isr_in_handler;
static volatile u8 rtc_c;
static volatile u8 uart_rx;

#define IOAPIC_VEC 0x50
#define LAPIC_TIMER_VEC 0x40

void interrupt(u32 vector) {
  if (vector < 32) {
    puts("exception "); putdec(vector); puts("\n");
    debug_exit(3);
  }
  counts[vector]++;
  last_vector = vector;
  if (vector >= PIC_BASE && vector < PIC_BASE + 16) {
    u32 irq = vector - PIC_BASE;
    if (irq == 0) { outb(0x20, 0x0b); pic_isr_in_handler = inb(0x20); outb(0x20, 0x0a); }
    if (irq == 8) { outb(0x70, 0x0c); rtc_c = inb(0x71); }
    if (irq == 1) (void)inb(0x60);
    pic_eoi(irq);
    return;
  }
  if (vector == IOAPIC_VEC + 4) uart_rx = inb(0x3f8);   /* level-triggered: clear the source first */
  if (vector == IOAPIC_VEC + 14) (void)inb(0x1f7);
  if (vector >= 0x40) lapic_write(LAPIC_EOI, 0);         /* every APIC-delivered vector */
}

/* Waits (halting) until counts[vector] reaches n or the spin budget runs out. */
static int wait_for(u32 vector, u32 n) {
  for (u32 spins = 0; counts[vector] < n && spins < 2000000; spins++) halt();
  return counts[vector] >= n;
}

/* ---------------------------------------------------------------- firmware tables */

static u8 sum(u8 *p, u32 n) { u8 s = 0; while (n--) s += *p++; return s; }
static int eq4(u8 *p, const char *s) { return p[0] == s[0] && p[1] == s[1] && p[2] == s[2] && p[3] == s[3]; }

static u8 *find_mp(u32 base, u32 len) {
  for (u8 *p = (u8 *)base; p < (u8 *)(base + len); p += 16)
    if (eq4(p, "_MP_") && sum(p, 16) == 0) return p;
  return 0;
}

static void test_firmware(void) {
  u16 basekb = *(u16 *)0x413, com1 = *(u16 *)0x400;
  u32 ebda = (u32)*(u16 *)0x40e << 4;
  puts("bda:"); decfield("base_kib", basekb); hexfield("com1", com1, 4); check("ebda", ebda >= 0x80000 && ebda < 0xa0000); puts("\n");
  u8 *mp = 0;
  if (ebda) mp = find_mp(ebda, 1024);
  if (!mp) mp = find_mp(basekb * 1024 - 1024, 1024);
  if (!mp) mp = find_mp(0xf0000, 0x10000);
  puts("mp:"); check("floating", mp != 0);
  if (!mp) { puts("\n"); return; }
  u8 *conf = (u8 *)*(u32 *)(mp + 4);
  u16 len = *(u16 *)(conf + 4);
  check("table", eq4(conf, "PCMP") && sum(conf, len) == 0);
  hexfield("lapic", *(u32 *)(conf + 36), 8);
  int cpus = 0, ioapics = 0, ioapic_id = -1; u32 ioapic_addr = 0;
  int pin_of[16], isa_bus = -1;
  for (int i = 0; i < 16; i++) pin_of[i] = -1;
  for (u8 *p = conf + 44; p < conf + len; p += p[0] == 0 ? 20 : 8)
    if (p[0] == 1 && eq4(p + 2, "ISA ")) isa_bus = p[1];
  for (u8 *p = conf + 44; p < conf + len;) {
    if (p[0] == 0) { cpus++; p += 20; continue; }
    if (p[0] == 2) { ioapics++; ioapic_id = p[1]; ioapic_addr = *(u32 *)(p + 4); }
    if (p[0] == 3 && p[1] == 0 && p[4] == isa_bus && p[5] < 16) pin_of[p[5]] = p[7];
    p += 8;
  }
  decfield("cpus", cpus); decfield("ioapics", ioapics); hexfield("ioapic", ioapic_addr, 8);
  check("ioapic_id", (u32)ioapic_id == (ioapic_read(0) >> 24));
  decfield("irq0", pin_of[0]); decfield("irq1", pin_of[1]); decfield("irq4", pin_of[4]); decfield("irq8", pin_of[8]); decfield("irq14", pin_of[14]);
  puts("\n");
}

static u8 cmos(u8 r) { outb(0x70, r); return inb(0x71); }

static void test_cmos(void) {
  puts("cmos:");
  decfield("base_kib", cmos(0x15) | cmos(0x16) << 8);
  decfield("ext_kib", cmos(0x17) | cmos(0x18) << 8);
  decfield("ext_kib2", cmos(0x30) | cmos(0x31) << 8);
  decfield("above16m_64k", cmos(0x34) | cmos(0x35) << 8);
  puts("\n");
}

/* ---------------------------------------------------------------- RTC */

static int bcd_ok(u8 v, int lo, int hi) { int d = (v >> 4) * 10 + (v & 15); return (v & 15) < 10 && d >= lo && d <= hi; }

static void test_rtc(void) {
  outb(0x70, 0x0b); outb(0x71, 0x02);    /* 24-hour BCD, no interrupts */
  while (cmos(0x0a) & 0x80) {}
  u8 s = cmos(0), m = cmos(2), h = cmos(4), d = cmos(7), mo = cmos(8), y = cmos(9);
  puts("rtc:"); hexfield("b", cmos(0x0b), 2); hexfield("d", cmos(0x0d), 2);
  check("date", bcd_ok(s, 0, 59) && bcd_ok(m, 0, 59) && bcd_ok(h, 0, 23) && bcd_ok(d, 1, 31) && bcd_ok(mo, 1, 12) && bcd_ok(y, 0, 99));
  /* Binary mode: the same registers without BCD. */
  outb(0x70, 0x0b); outb(0x71, 0x06);
  while (cmos(0x0a) & 0x80) {}
  u8 bm = cmos(8);
  check("binary", bm >= 1 && bm <= 12);
  outb(0x70, 0x0b); outb(0x71, 0x02);
  /* Periodic interrupt, 1024 Hz, on IRQ 8 through the slave 8259. */
  (void)cmos(0x0c);
  outb(0x70, 0x0a); outb(0x71, 0x26);
  outb(0x70, 0x0b); outb(0x71, 0x42);
  outb(0xa1, 0xfe); outb(0x21, 0xfb);
  int ok = wait_for(PIC_BASE + 8, 5);
  outb(0x70, 0x0b); outb(0x71, 0x02);
  outb(0x21, 0xff); outb(0xa1, 0xff);
  check("periodic_irq8", ok); hexfield("c", rtc_c & 0xc0, 2);
  puts("\n");
}

/* ---------------------------------------------------------------- PIT and 8259 */

static void test_pit_pic(void) {
  outb(0x21, 0x5a); u8 imr = inb(0x21); outb(0x21, 0xff);
  puts("pic:"); hexfield("imr", imr, 2);
  /* Channel 0, rate generator, about 100 Hz, via the master's IRQ 0. */
  outb(0x43, 0x34); outb(0x40, 11932 & 0xff); outb(0x40, 11932 >> 8);
  outb(0x21, 0xfe);
  int ok = wait_for(PIC_BASE, 5);
  outb(0x21, 0xff);
  check("irq0", ok); hexfield("isr_in_handler", pic_isr_in_handler, 2);
  outb(0x20, 0x0b); u8 isr = inb(0x20); outb(0x20, 0x0a);
  hexfield("isr_after_eoi", isr, 2);
  puts("\n");

  puts("pit:");
  outb(0x43, 0x00); u32 c = inb(0x40); c |= (u32)inb(0x40) << 8;   /* latch channel 0 */
  check("latch", c >= 1 && c <= 11932);
  outb(0x43, 0xe2); hexfield("status", inb(0x40) & 0x3f, 2);       /* read-back status of channel 0 */
  /* Channel 2 one-shot (mode 0) gated through port 0x61: bit 5 rises at terminal count. */
  outb(0x61, (inb(0x61) & ~0x03) | 0x01);
  outb(0x43, 0xb0); outb(0x42, 1000 & 0xff); outb(0x42, 1000 >> 8);
  int rose = 0;
  for (u32 i = 0; i < 10000000 && !rose; i++) rose = (inb(0x61) & 0x20) != 0;
  check("ch2_out", rose);
  u8 r0 = inb(0x61) & 0x10; int toggled = 0;
  for (u32 i = 0; i < 1000000 && !toggled; i++) toggled = (inb(0x61) & 0x10) != r0;
  check("refresh", toggled);
  outb(0x61, inb(0x61) & ~0x03);
  puts("\n");
}

/* ---------------------------------------------------------------- local APIC */

static void test_lapic(void) {
  u32 lo, hi;
  __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0x1b));
  puts("lapic:"); hexfield("msr", lo, 8);
  u32 ver = lapic_read(0x30);
  hexfield("version", ver & 0xff, 2); decfield("maxlvt", (ver >> 16) & 0xff);
  lapic_write(0xf0, 0x1ff);               /* enable, spurious vector 0xff */
  lapic_write(0x350, 0x700);              /* LINT0: ExtINT (the 8259s) */
  lapic_write(0x360, 0x400);              /* LINT1: NMI */
  lapic_write(0x80, 0);
  hexfield("svr", lapic_read(0xf0), 3);
  /* Periodic timer: divide by 1, 1,000,000 ticks (1 ms at QEMU's 1 GHz). */
  lapic_write(0x3e0, 0x0b);
  lapic_write(0x320, 0x20000 | LAPIC_TIMER_VEC);
  lapic_write(0x380, 1000000);
  u32 cur = lapic_read(0x390);
  check("count", cur > 0 && cur <= 1000000);
  check("periodic", wait_for(LAPIC_TIMER_VEC, 5));
  lapic_write(0x320, 0x10000);
  lapic_write(0x380, 0);
  /* One-shot with divide by 16. */
  lapic_write(0x3e0, 0x03);
  lapic_write(0x320, LAPIC_TIMER_VEC + 1);
  lapic_write(0x380, 50000);
  check("oneshot", wait_for(LAPIC_TIMER_VEC + 1, 1));
  decfield("count_after", lapic_read(0x390));
  lapic_write(0x320, 0x10000);
  puts("\n");

  /* Self-IPI, and the task priority holding back a lower class. */
  puts("lapic_ipi:");
  lapic_write(0x310, 0);
  lapic_write(0x300, 0x40000 | 0x46);     /* shorthand: self, fixed, vector 0x46 */
  check("self", wait_for(0x46, 1));
  lapic_write(0x80, 0x50);
  sti();
  lapic_write(0x300, 0x40000 | 0x45);     /* class 4 < TPR class 5: held */
  for (volatile int i = 0; i < 1000; i++) {}
  cli();
  u32 held = counts[0x45] == 0 && lapic_requested(0x45);
  check("tpr_holds", held);
  lapic_write(0x80, 0);
  check("tpr_released", wait_for(0x45, 1));
  hexfield("isr", lapic_read(0x100 + 0x10 * 2), 8);
  puts("\n");
}

/* ---------------------------------------------------------------- IOAPIC */

static void test_ioapic(void) {
  u32 ver = ioapic_read(1);
  puts("ioapic:"); decfield("pins", ((ver >> 16) & 0xff) + 1);
  for (int pin = 0; pin < 24; pin++) ioapic_route(pin, 0x10000 | (IOAPIC_VEC + pin));
  hexfield("entry2", ioapic_read(0x10 + 4), 8);
  /* The PIT (ISA IRQ 0) arrives on pin 2, edge-triggered. */
  outb(0x43, 0x34); outb(0x40, 11932 & 0xff); outb(0x40, 11932 >> 8);
  ioapic_route(2, IOAPIC_VEC + 2);
  check("pit_pin2", wait_for(IOAPIC_VEC + 2, 5));
  ioapic_route(2, 0x10000 | (IOAPIC_VEC + 2));
  outb(0x43, 0x30); outb(0x40, 0); outb(0x40, 0);   /* stop periodic interrupts: mode 0 */
  puts("\n");
}

/* ---------------------------------------------------------------- UART */

static void test_uart(void) {
  puts("uart:");
  outb(0x3ff, 0x5a); hexfield("scratch", inb(0x3ff), 2);
  outb(0x3fb, 0x80); outb(0x3f8, 0x01); outb(0x3f9, 0x00);
  u8 dll = inb(0x3f8); outb(0x3fb, 0x03);
  hexfield("dll", dll, 2); hexfield("lcr", inb(0x3fb), 2);
  outb(0x3fa, 0x07); hexfield("iir_fifo", inb(0x3fa) & 0xc0, 2);
  hexfield("lsr", inb(0x3fd), 2);
  /* THR-empty interrupt identification, cleared by reading IIR. */
  outb(0x3f9, 0x02); u8 iir1 = inb(0x3fa); u8 iir2 = inb(0x3fa); outb(0x3f9, 0x00);
  hexfield("iir_thre", iir1 & 0x0f, 2); hexfield("iir_after", iir2 & 0x0f, 2);
  /* Loopback: a byte sent comes back; a level-triggered IOAPIC interrupt on pin 4. */
  while (!(inb(0x3fd) & 0x40)) {}
  outb(0x3fc, 0x1b);                         /* loopback, OUT2, RTS, DTR */
  u8 msr = inb(0x3fe);
  (void)inb(0x3f8); (void)inb(0x3f8);
  ioapic_route(4, 0x8000 | (IOAPIC_VEC + 4));
  outb(0x3f9, 0x01);
  outb(0x3f8, 'Q');
  int ok = wait_for(IOAPIC_VEC + 4, 1);
  outb(0x3f9, 0x00);
  ioapic_route(4, 0x10000 | (IOAPIC_VEC + 4));
  outb(0x3fc, 0x03);
  outb(0x3fa, 0x00);
  hexfield("msr_loop", msr & 0xf0, 2);
  check("loopback_irq", ok); check("loopback_byte", uart_rx == 'Q');
  check("remote_irr_clear", !(ioapic_read(0x10 + 8) & 0x4000));
  puts("\n");
}

/* ---------------------------------------------------------------- 8042 */

static void kbd_wait_write(void) { for (int i = 0; i < 100000 && (inb(0x64) & 2); i++) {} }
static int kbd_read(void) {
  for (int i = 0; i < 1000000; i++) if (inb(0x64) & 1) return inb(0x60);
  return -1;
}
static void kbd_cmd(u8 c) { kbd_wait_write(); outb(0x64, c); }
static void kbd_data(u8 d) { kbd_wait_write(); outb(0x60, d); }

static void test_kbd(void) {
  while (inb(0x64) & 1) (void)inb(0x60);
  puts("i8042:");
  kbd_cmd(0x60); kbd_data(0x44);             /* interrupts off, translation on */
  kbd_cmd(0x20); hexfield("mode", kbd_read(), 2);
  kbd_cmd(0xaa); hexfield("selftest", kbd_read(), 2);
  kbd_cmd(0xab); hexfield("kbdtest", kbd_read(), 2);
  kbd_cmd(0x60); kbd_data(0x44);
  kbd_data(0xee); hexfield("echo", kbd_read(), 2);
  kbd_data(0xf2); int a = kbd_read(), b = kbd_read(), c = kbd_read();
  hexfield("id", (u32)(a << 16 | b << 8 | c), 6);
  kbd_cmd(0xd0); hexfield("outport_a20", kbd_read() & 0x02, 2);
  hexfield("port92_a20", inb(0x92) & 0x02, 2);
  /* IRQ 1 through the 8259 when the controller queues a byte. */
  kbd_cmd(0x60); kbd_data(0x45);
  outb(0x21, 0xfd);
  kbd_cmd(0xd2); kbd_data(0x1e);
  int ok = wait_for(PIC_BASE + 1, 1);
  outb(0x21, 0xff);
  check("irq1", ok);
  puts("\n");
}

/* ---------------------------------------------------------------- CGA */

static void test_cga(void) {
  volatile u16 *screen = (volatile u16 *)0xb8000;
  puts("cga:");
  outb(0x3d4, 0x0e); outb(0x3d5, 0x01);
  outb(0x3d4, 0x0f); outb(0x3d5, 0x23);
  outb(0x3d4, 0x0e); u32 hi = inb(0x3d5);
  outb(0x3d4, 0x0f); u32 lo = inb(0x3d5);
  hexfield("cursor", hi << 8 | lo, 4);
  screen[80] = 0x0741;
  hexfield("text", screen[80], 4);
  u8 s0 = inb(0x3da) & 0x08; int toggled = 0;
  for (int i = 0; i < 10000000 && !toggled; i++) toggled = (inb(0x3da) & 0x08) != s0;
  check("retrace", toggled);
  puts("\n");
}

/* ---------------------------------------------------------------- IDE */

static u16 ident[256];
static u8 sector[512 * 8];
static u8 wbuf[8192] __attribute__((aligned(4096)));

static int ide_wait(void) {
  u8 s;
  for (int i = 0; i < 10000000; i++) if (!((s = inb(0x1f7)) & 0x80)) return s;
  return 0xff;
}

static int pattern_ok(u8 *p, u32 first, u32 n) {
  for (u32 s = 0; s < n; s++)
    for (u32 i = 0; i < 512; i++) if (p[s * 512 + i] != (u8)((first + s) * 7 + 1)) return 0;
  return 1;
}

static void read_data(u8 *into, u32 bytes, int use32) {
  if (use32) for (u32 i = 0; i < bytes; i += 4) *(u32 *)(into + i) = inl(0x1f0);
  else for (u32 i = 0; i < bytes; i += 2) *(u16 *)(into + i) = inw(0x1f0);
}

static void ide_taskfile(void) {
  hexfield("error", inb(0x1f1), 2);
  hexfield("taskfile", inb(0x1f2) << 24 | inb(0x1f3) << 16 | inb(0x1f4) << 8 | inb(0x1f5), 8);
}

/*
 * Transfers that start inside the disk and run past its end (hda has 128 sectors): the
 * sectors that exist are transferred, then the command aborts (ERR, ABRT), with the task
 * file at the first missing sector. A write takes the data of the missing sector first.
 */
static void test_ide_past_end(void) {
  outb(0x3f6, 0x02);
  ide_select(0, 126, 4); outb(0x1f7, 0x20);
  puts("ide_read_past_end:");
  for (int s = 0; s < 4; s++) {
    u8 st = ide_wait();
    hexfield("status", st, 2);
    if (!(st & 0x08)) break;
    read_data(sector + s * 512, 512, 0);
  }
  check("data", pattern_ok(sector, 126, 2)); ide_taskfile();
  puts("\n");

  ide_select(0, 0, 4); outb(0x1f7, 0xc6); ide_wait();  /* blocks of 4 */
  ide_select(0, 124, 8); outb(0x1f7, 0xc4);
  puts("ide_multiple_past_end:");
  for (int b = 0; b < 2; b++) {
    u8 st = ide_wait();
    hexfield("status", st, 2);
    if (!(st & 0x08)) break;
    read_data(sector, 2048, 0);
  }
  check("data", pattern_ok(sector, 124, 4)); ide_taskfile();
  puts("\n");

  ide_select(0, 130, 1); outb(0x1f7, 0x20);
  puts("ide_read_beyond:"); hexfield("status", ide_wait(), 2); ide_taskfile();
  puts("\n");

  /* The slave has 256 sectors: write 255 and 256. */
  for (int i = 0; i < 1024; i++) sector[i] = (u8)(i * 5 + 1);
  ide_select(1, 255, 2); outb(0x1f7, 0x30);
  puts("ide_write_past_end:");
  for (int s = 0; s < 2; s++) {
    u8 st = ide_wait();
    hexfield("status", st, 2);
    if (!(st & 0x08)) break;
    for (int i = 0; i < 256; i++) outw(0x1f0, ((u16 *)sector)[s * 256 + i]);
  }
  hexfield("end", ide_wait(), 2); ide_taskfile();
  for (int i = 0; i < 512; i++) sector[i] = 0;
  ide_select(1, 255, 1); outb(0x1f7, 0x20); ide_wait(); read_data(sector, 512, 0);
  int same = 1;
  for (int i = 0; i < 512; i++) same &= sector[i] == (u8)(i * 5 + 1);
  check("written", same);
  puts("\n");
}

static void test_ide(void) {
  /* Software reset: BSY, then the ATA signature. */
  outb(0x3f6, 0x06); for (volatile int i = 0; i < 1000; i++) {} outb(0x3f6, 0x02);
  u8 st = ide_wait();
  puts("ide_reset:"); hexfield("status", st, 2); hexfield("error", inb(0x1f1), 2);
  hexfield("sig", inb(0x1f2) << 24 | inb(0x1f3) << 16 | inb(0x1f4) << 8 | inb(0x1f5), 8);
  puts("\n");

  for (int drive = 0; drive < 2; drive++) {
    outb(0x1f6, 0xa0 | drive << 4); ide_wait();
    outb(0x1f7, 0xec);
    st = ide_wait();
    for (int i = 0; i < 256; i++) ident[i] = inw(0x1f0);
    puts(drive ? "ide_identify_slave:" : "ide_identify_master:");
    hexfield("status", st, 2); hexfield("w0", ident[0], 4); hexfield("w47", ident[47] & 0xff, 2);
    hexfield("lba", ident[49] & 0x200, 4); decfield("sectors", ident[60] | (u32)ident[61] << 16);
    hexfield("after", inb(0x1f7), 2);
    puts("\n");
  }

  /* Interrupt-driven single-sector read on the master through IOAPIC pin 14. */
  outb(0x3f6, 0x00);
  ioapic_route(14, IOAPIC_VEC + 14);
  ide_select(0, 5, 1);
  outb(0x1f7, 0x20);
  int irq = wait_for(IOAPIC_VEC + 14, 1);
  st = inb(0x3f6);
  read_data(sector, 512, 0);
  puts("ide_read:"); check("irq", irq); hexfield("status_drq", st, 2); check("data", pattern_ok(sector, 5, 1));
  hexfield("status_done", inb(0x1f7), 2);
  hexfield("taskfile", inb(0x1f2) << 24 | inb(0x1f3) << 16 | inb(0x1f4) << 8 | inb(0x1f5), 8);
  puts("\n");

  /* Polled multi-sector read (nIEN), 32-bit data port. */
  outb(0x3f6, 0x02);
  ide_select(0, 9, 3);
  outb(0x1f7, 0x20);
  int ok = 1;
  for (int s = 0; s < 3; s++) { st = ide_wait(); ok &= (st & 0x08) != 0; read_data(sector + s * 512, 512, 1); }
  puts("ide_read3:"); check("drq", ok); check("data", pattern_ok(sector, 9, 3)); hexfield("status", ide_wait(), 2);
  puts("\n");

  /* READ MULTIPLE with 4-sector blocks: two blocks for 8 sectors, one interrupt each. */
  outb(0x3f6, 0x00);
  u32 before = counts[IOAPIC_VEC + 14];
  ide_select(0, 0, 4); outb(0x1f7, 0xc6);
  ok = wait_for(IOAPIC_VEC + 14, before + 1);
  before = counts[IOAPIC_VEC + 14];
  ide_select(0, 20, 8);
  outb(0x1f7, 0xc4);
  ok &= wait_for(IOAPIC_VEC + 14, before + 1); read_data(sector, 2048, 0);
  ok &= wait_for(IOAPIC_VEC + 14, before + 2); read_data(sector + 2048, 2048, 0);
  puts("ide_multiple:"); check("irqs", ok); check("data", pattern_ok(sector, 20, 8)); hexfield("status", ide_wait(), 2);
  puts("\n");

  /* CHS addressing: cylinder 0, head 0, sector 3 is LBA 2. */
  outb(0x3f6, 0x02);
  outb(0x1f6, 0xa0); outb(0x1f2, 1); outb(0x1f3, 3); outb(0x1f4, 0); outb(0x1f5, 0);
  outb(0x1f7, 0x20); ide_wait(); read_data(sector, 512, 0);
  puts("ide_chs:"); check("data", pattern_ok(sector, 2, 1)); puts("\n");

  /* Write two sectors on the slave, then read them back. */
  outb(0x3f6, 0x00);
  before = counts[IOAPIC_VEC + 14];
  for (int i = 0; i < 1024; i++) sector[i] = (u8)(i * 3);
  ide_select(1, 7, 2);
  outb(0x1f7, 0x30);
  st = ide_wait();
  int drq_first = (st & 0x08) != 0;
  for (int i = 0; i < 256; i++) outw(0x1f0, ((u16 *)sector)[i]);
  ok = wait_for(IOAPIC_VEC + 14, before + 1);
  for (int i = 0; i < 256; i++) outw(0x1f0, ((u16 *)sector)[256 + i]);
  ok &= wait_for(IOAPIC_VEC + 14, before + 2);
  st = inb(0x1f7);
  for (int i = 0; i < 1024; i++) sector[i] = 0;
  ide_select(1, 7, 2); outb(0x3f6, 0x02); outb(0x1f7, 0x20);
  ide_wait(); read_data(sector, 512, 0); ide_wait(); read_data(sector + 512, 512, 0);
  int same = 1;
  for (int i = 0; i < 1024; i++) same &= sector[i] == (u8)(i * 3);
  puts("ide_write:"); check("drq", drq_first); check("irqs", ok); hexfield("status", st, 2); check("readback", same);
  puts("\n");

  /*
   * The same with REP OUTSL / OUTSW (memvisor moves these in bulk): the first sector from a
   * buffer that straddles a page boundary, in two REPs of 100 and 28 dwords; the second in
   * one REP OUTSW. Each sector's last element raises the interrupt.
   */
  outb(0x3f6, 0x00);
  before = counts[IOAPIC_VEC + 14];
  u8 *src = wbuf + 4096 - 200;
  for (int i = 0; i < 1024; i++) src[i] = (u8)(i * 7 + 1);
  ide_select(1, 11, 2);
  outb(0x1f7, 0x30);
  st = ide_wait();
  drq_first = (st & 0x08) != 0;
  u32 left = 0;
  const void *p = src;
  u32 n = 100;
  __asm__ volatile("cld; rep outsl" : "+S"(p), "+c"(n) : "d"(0x1f0) : "memory");
  left |= n;
  n = 28;
  __asm__ volatile("cld; rep outsl" : "+S"(p), "+c"(n) : "d"(0x1f0) : "memory");
  left |= n;
  int advanced = p == src + 512;
  ok = wait_for(IOAPIC_VEC + 14, before + 1);
  n = 256;
  __asm__ volatile("cld; rep outsw" : "+S"(p), "+c"(n) : "d"(0x1f0) : "memory");
  left |= n;
  ok &= wait_for(IOAPIC_VEC + 14, before + 2);
  st = inb(0x1f7);
  for (int i = 0; i < 1024; i++) sector[i] = 0;
  ide_select(1, 11, 2); outb(0x3f6, 0x02); outb(0x1f7, 0x20);
  ide_wait(); read_data(sector, 512, 1); ide_wait(); read_data(sector + 512, 512, 0);
  same = 1;
  for (int i = 0; i < 1024; i++) same &= sector[i] == (u8)(i * 7 + 1);
  puts("ide_write_rep:"); check("drq", drq_first); check("irqs", ok); check("counts", left == 0 && advanced);
  hexfield("status", st, 2); check("readback", same);
  puts("\n");

  /*
   * The same two sectors read with REP INSL / INSW (memvisor moves these in bulk too): the
   * first into a buffer that straddles a page boundary, in two REPs of 100 and 28 dwords;
   * the second in one REP INSW.
   */
  u8 *dst = wbuf + 4096 - 200;
  for (int i = 0; i < 1024; i++) dst[i] = 0;
  ide_select(1, 11, 2); outb(0x3f6, 0x02); outb(0x1f7, 0x20);
  st = ide_wait();
  drq_first = (st & 0x08) != 0;
  left = 0;
  void *q = dst;
  n = 100;
  __asm__ volatile("cld; rep insl" : "+D"(q), "+c"(n) : "d"(0x1f0) : "memory");
  left |= n;
  n = 28;
  __asm__ volatile("cld; rep insl" : "+D"(q), "+c"(n) : "d"(0x1f0) : "memory");
  left |= n;
  advanced = q == dst + 512;
  ide_wait();
  n = 256;
  __asm__ volatile("cld; rep insw" : "+D"(q), "+c"(n) : "d"(0x1f0) : "memory");
  left |= n;
  advanced &= q == dst + 1024;
  st = ide_wait();
  same = 1;
  for (int i = 0; i < 1024; i++) same &= dst[i] == (u8)(i * 7 + 1);
  puts("ide_read_rep:"); check("drq", drq_first); check("counts", left == 0 && advanced);
  hexfield("status", st, 2); check("data", same);
  puts("\n");

  /* Errors: a sector past the end, and an unknown command. */
  ide_select(0, 200, 1); outb(0x1f7, 0x20); st = ide_wait();
  puts("ide_errors:"); hexfield("range_status", st, 2); hexfield("range_error", inb(0x1f1), 2);
  ide_select(0, 0, 1); outb(0x1f7, 0x07); st = ide_wait();
  hexfield("unknown_status", st, 2); hexfield("unknown_error", inb(0x1f1), 2);
  puts("\n");
  test_ide_past_end();
  ioapic_route(14, 0x10000 | (IOAPIC_VEC + 14));
}

void kmain(void) {
  uart_init();
  puts("memvisor device tests\n");
  idt_init();
  pic_init();
  for (int pin = 0; pin < 24; pin++) ioapic_route(pin, 0x10000 | (IOAPIC_VEC + pin));
  test_firmware();
  test_cmos();
  test_pit_pic();
  test_rtc();
  test_lapic();
  test_ioapic();
  test_uart();
  test_kbd();
  test_cga();
  test_ide();
  puts("DONE\n");
  debug_exit(0);
}
