/*
 * What the multiboot test kernels (test/machine/devices, test/machine/irqwindow) share:
 * port I/O, printing on COM1, the local APIC and IOAPIC registers, the IDT over the
 * stubs of vectors.inc, the 8259 pair remapped and masked, and IDE PIO addressing.
 * Each kernel is one C file that includes this header once (its functions are inline so
 * that a kernel need not use all of them).
 */
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline u16 inw(u16 port) { u16 v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u32 inl(u16 port) { u32 v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void sti(void) { __asm__ volatile("sti"); }
static inline void cli(void) { __asm__ volatile("cli"); }
static inline u32 readeflags(void) { u32 f; __asm__ volatile("pushfl; popl %0" : "=r"(f)); return f; }
#define FL_IF 0x200

static inline void putc(char c) { while (!(inb(0x3fd) & 0x20)) {} outb(0x3f8, (u8)c); }
static inline void puts(const char *s) { while (*s) putc(*s++); }
static inline void puthex(u32 v, int digits) { for (int i = (digits - 1) * 4; i >= 0; i -= 4) putc("0123456789abcdef"[(v >> i) & 15]); }
static inline void putdec(u32 v) { char b[12]; int n = 0; do b[n++] = (char)('0' + v % 10); while (v /= 10); while (n) putc(b[--n]); }
static inline void hexfield(const char *name, u32 v, int digits) { puts(" "); puts(name); puts("="); puthex(v, digits); }
static inline void decfield(const char *name, u32 v) { puts(" "); puts(name); puts("="); putdec(v); }
static inline void check(const char *name, int ok) { puts(" "); puts(name); puts(ok ? "=ok" : "=FAIL"); }

/* COM1 at 38400 8N1 (what the firmware leaves), interrupts off. */
static inline void uart_init(void) { outb(0x3f9, 0x00); outb(0x3fb, 0x03); outb(0x3fc, 0x03); }

/* The end of a run: QEMU's isa-debug-exit (memvisor --debug-exit) at port 0xF4. */
static inline void debug_exit(u8 code) { outb(0xf4, code); for (;;) __asm__ volatile("cli; hlt"); }

#define LAPIC ((volatile u32 *)0xfee00000)
#define LAPIC_ID 0x20
#define LAPIC_EOI 0xb0
#define LAPIC_ICR 0x300
#define LAPIC_TIMER 0x320
#define LAPIC_TICR 0x380
#define LAPIC_TDCR 0x3e0
#define LAPIC_PERIODIC 0x20000
#define LAPIC_MASKED 0x10000
#define IOAPIC_SEL (*(volatile u32 *)0xfec00000)
#define IOAPIC_WIN (*(volatile u32 *)0xfec00010)
static inline u32 lapic_read(u32 reg) { return LAPIC[reg / 4]; }
static inline void lapic_write(u32 reg, u32 v) { LAPIC[reg / 4] = v; (void)LAPIC[LAPIC_ID / 4]; }
/* Whether `vector` is requested (IRR) at the local APIC. */
static inline int lapic_requested(u32 vector) { return (lapic_read(0x200 + 0x10 * (vector / 32)) >> (vector % 32)) & 1; }
static inline u32 ioapic_read(u32 reg) { IOAPIC_SEL = reg; return IOAPIC_WIN; }
static inline void ioapic_write(u32 reg, u32 v) { IOAPIC_SEL = reg; IOAPIC_WIN = v; }
static inline void ioapic_route(int pin, u32 low) { ioapic_write(0x10 + 2 * pin + 1, 0); ioapic_write(0x10 + 2 * pin, low); }

/* The stubs of vectors.inc (entry.S) call interrupt(vector) with the CPU's frame above. */
extern u32 vectors[256];
void interrupt(u32 vector);
static u32 idt[512] __attribute__((aligned(8)));

static inline void idt_init(void) {
  for (int v = 0; v < 256; v++) {
    idt[2 * v] = (vectors[v] & 0xffff) | (0x08 << 16);
    idt[2 * v + 1] = (vectors[v] & 0xffff0000) | 0x8e00;
  }
  struct { u16 limit; u32 base; } __attribute__((packed)) d = { sizeof(idt) - 1, (u32)idt };
  __asm__ volatile("lidt %0" : : "m"(d));
}

#define PIC_BASE 0x20

/* Both 8259s initialised (vectors PIC_BASE..PIC_BASE+15, cascade on IRQ 2) and masked. */
static inline void pic_init(void) {
  outb(0x20, 0x11); outb(0xa0, 0x11);
  outb(0x21, PIC_BASE); outb(0xa1, PIC_BASE + 8);
  outb(0x21, 0x04); outb(0xa1, 0x02);
  outb(0x21, 0x01); outb(0xa1, 0x01);
  outb(0x21, 0xff); outb(0xa1, 0xff);
}
static inline void pic_eoi(u32 irq) { if (irq >= 8) outb(0xa0, 0x20); outb(0x20, 0x20); }

/* IDE primary channel: drive 0/1, LBA28 address and sector count. */
static inline void ide_select(int drive, u32 lba, u8 count) {
  outb(0x1f6, 0xe0 | (drive << 4) | ((lba >> 24) & 0x0f));
  outb(0x1f2, count);
  outb(0x1f3, lba & 0xff); outb(0x1f4, (lba >> 8) & 0xff); outb(0x1f5, (lba >> 16) & 0xff);
}
