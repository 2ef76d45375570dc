/*
 * Protected-mode test kernel: paging (not-present, read-only, WP, user/supervisor,
 * accessed/dirty, 4 MiB pages, invlpg, CR3 reload), privilege (ring 3 via IRET, system
 * call through a DPL-3 gate with a TSS stack switch, privileged instructions at CPL 3)
 * and exceptions (error codes, CR2, faulting EIP, double fault). Every line it prints
 * on COM1 must be the same under qemu-system-i386 and memvisor.
 */
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static void putc(char c) { while (!(inb(0x3fd) & 0x20)) {} outb(0x3f8, (u8)c); }
static void puts(const char *s) { while (*s) putc(*s++); }
static void puthex(u32 v) { for (int i = 28; i >= 0; i -= 4) putc("0123456789abcdef"[(v >> i) & 15]); }
static void field(const char *name, u32 v) { puts(" "); puts(name); puts("="); puthex(v); }

struct frame { u32 es, ds, edi, esi, ebp, oesp, ebx, edx, ecx, eax, vector, err, eip, cs, eflags, esp, ss; };
struct context { u32 ebx, esi, edi, ebp, esp, eip; };
int save_context(struct context *c);
void restore_context(struct context *c) __attribute__((noreturn));
extern u32 vectors[];
extern char user_start[], user_end[];

static u32 gdt[2 * 8] __attribute__((aligned(8)));
static u32 idt[2 * 256] __attribute__((aligned(8)));
static u32 tss[26];
static u32 pgdir[1024] __attribute__((aligned(4096)));
static u32 pt1[1024] __attribute__((aligned(4096)));
static u32 frame_a[1024] __attribute__((aligned(4096)));
static u32 frame_b[1024] __attribute__((aligned(4096)));
static u32 user_frame[1024] __attribute__((aligned(4096)));
static u32 user_ro_frame[1024] __attribute__((aligned(4096)));
static u32 ro_frame[1024] __attribute__((aligned(4096)));
static u32 user_stack_frame[1024] __attribute__((aligned(4096)));
static u8 kstack0[4096] __attribute__((aligned(16)));
u8 stack[16384] __attribute__((aligned(16)));
u8 *stack_top = stack + sizeof stack;
static struct context test_ctx;
static volatile int expect_trap;
static volatile int show_strings;

#define TEST_RO 0x400000u
#define TEST_NP 0x401000u
#define TEST_USER 0x402000u
#define TEST_USER_RO 0x403000u
#define TEST_REMAP 0x404000u
#define TEST_USTACK 0x405000u

static void set_desc(int i, u32 base, u32 limit, u32 access, u32 flags) {
  gdt[2 * i] = (limit & 0xffff) | (base << 16);
  gdt[2 * i + 1] = ((base >> 16) & 0xff) | (access << 8) | (limit & 0xf0000) | (flags << 20) | (base & 0xff000000);
}
static void set_gate(int v, u32 handler, int dpl, int trap_gate) {
  idt[2 * v] = (handler & 0xffff) | (0x08 << 16);
  idt[2 * v + 1] = (handler & 0xffff0000) | 0x8000 | (u32)(dpl << 13) | (trap_gate ? 0xf00 : 0xe00);
}
static void lgdt(void *base, u16 size) { struct { u16 l; u32 b; } __attribute__((packed)) d = { (u16)(size - 1), (u32)base }; __asm__ volatile("lgdt %0" : : "m"(d)); }
static void lidt(void *base, u16 size) { struct { u16 l; u32 b; } __attribute__((packed)) d = { (u16)(size - 1), (u32)base }; __asm__ volatile("lidt %0" : : "m"(d)); }
static u32 rcr0(void) { u32 v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static void lcr0(u32 v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v)); }
static u32 rcr2(void) { u32 v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static void lcr3(u32 v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static void invlpg(u32 a) { __asm__ volatile("invlpg (%0)" : : "r"(a) : "memory"); }
static u32 peek(u32 a) { return *(volatile u32 *)a; }
static void poke(u32 a, u32 v) { *(volatile u32 *)a = v; }

void trap(struct frame *f) {
  puts("trap"); field("vec", f->vector); field("err", f->err);
  if (f->vector == 14) field("cr2", rcr2());
  if (f->vector != 8) { field("eip", f->eip); field("cpl", f->cs & 3); }
  if ((f->cs & 3) == 3) { field("ss", f->ss); field("esp", f->esp); }
  if (show_strings) { field("ecx", f->ecx); field("esi", f->esi); field("edi", f->edi); }
  if (f->vector == 0x80) {
    field("eax", f->eax); field("ebx", f->ebx);
    u32 here; __asm__ volatile("mov %%esp, %0" : "=r"(here));
    field("on-tss-stack", here > (u32)kstack0 && here <= (u32)kstack0 + sizeof kstack0);
    puts("\n");
    f->eax = 42;
    return;
  }
  puts("\n");
  if (f->vector == 8) set_gate(14, vectors[14], 0, 0);
  if (!expect_trap) { puts("unexpected trap\n"); outb(0xf4, 1); for (;;) {} }
  restore_context(&test_ctx);
}

#define EXPECT(name, ...) do { puts(name); puts(":\n"); expect_trap = 1; if (!save_context(&test_ctx)) { __VA_ARGS__; puts("  no trap\n"); } expect_trap = 0; } while (0)

static void enter_user(u32 offset) {
  u32 eip = TEST_USER + offset, esp = TEST_USTACK + 4096;
  __asm__ volatile(
    "mov $0x23, %%ax\n mov %%ax, %%ds\n mov %%ax, %%es\n"
    "pushl $0x23\n pushl %1\n pushl $0x202\n pushl $0x1b\n pushl %0\n iret"
    : : "r"(eip), "r"(esp) : "eax", "memory");
}

static void paging_tests(void) {
  puts("-- paging\n");
  EXPECT("read not-present", peek(TEST_NP));
  EXPECT("write not-present", poke(TEST_NP + 8, 1));
  EXPECT("supervisor write read-only, WP=0", poke(TEST_RO, 5));
  field("value", peek(TEST_RO)); puts("\n");
  lcr0(rcr0() | 0x10000);
  EXPECT("supervisor write read-only, WP=1", poke(TEST_RO + 4, 6));
  lcr0(rcr0() & ~0x10000u);
  u32 *pte_remap = &pt1[(TEST_REMAP >> 12) & 1023];
  *pte_remap = (u32)frame_a | 0x7;
  lcr3((u32)pgdir);
  (void)peek(TEST_REMAP);
  puts("accessed after read"); field("pte-flags", *pte_remap & 0x60); puts("\n");
  poke(TEST_REMAP + 4, 9);
  puts("dirty after write"); field("pte-flags", *pte_remap & 0x60); field("pde-accessed", pgdir[1] & 0x20); puts("\n");
  frame_a[0] = 0xaaaa; frame_b[0] = 0xbbbb;
  *pte_remap = (u32)frame_b | 0x7;
  invlpg(TEST_REMAP);
  puts("after invlpg"); field("value", peek(TEST_REMAP)); puts("\n");
  *pte_remap = (u32)frame_a | 0x7;
  lcr3((u32)pgdir);
  puts("after cr3 reload"); field("value", peek(TEST_REMAP)); puts("\n");
  u32 marker_at = (u32)&frame_b[1];
  frame_b[1] = 0x4d4d4d4d;
  puts("4 MiB page alias"); field("value", peek(0x800000 + marker_at)); field("pde", pgdir[2] & 0xe1); puts("\n");
  /* A string instruction commits its registers element by element: a fault part-way
     leaves them where it stopped (the handler sees the elements already done). */
  static u8 source[64];
  show_strings = 1;
  EXPECT("rep movsb into a not-present page part-way", __asm__ volatile("cld\n rep movsb" : : "S"(source), "D"(TEST_NP - 16), "c"(64) : "memory"));
  EXPECT("rep stosl into a not-present page part-way", __asm__ volatile("cld\n rep stosl" : : "a"(0x5a5a5a5a), "D"(TEST_NP - 8), "c"(16) : "memory"));
  EXPECT("rep lodsb from a not-present page part-way", __asm__ volatile("cld\n rep lodsb" : : "S"(TEST_NP - 4), "D"(0), "c"(9) : "eax", "memory"));
  show_strings = 0;
}

static void user_tests(void) {
  puts("-- ring 3\n");
  static const char *names[] = { "system call, then cli at CPL 3", "user read of a supervisor page", "user write of a read-only page",
    "int to a DPL-0 gate", "in at CPL 3", "hlt at CPL 3", "load a DPL-0 data segment at CPL 3" };
  for (u32 i = 0; i < 7; i++) EXPECT(names[i], enter_user(16 * i));
}

static void exception_tests(void) {
  puts("-- exceptions\n");
  EXPECT("divide by zero", __asm__ volatile("xor %%ecx, %%ecx\n div %%ecx" : : : "eax", "ecx", "edx"));
  EXPECT("ud2", __asm__ volatile("ud2"));
  EXPECT("int3", __asm__ volatile("int3"));
  EXPECT("into with OF", __asm__ volatile("mov $0x7fffffff, %%eax\n add $1, %%eax\n into" : : : "eax"));
  EXPECT("bound out of range", { static int bounds[2] = { 0, 10 }; __asm__ volatile("mov $11, %%eax\n bound %%eax, %0" : : "m"(bounds) : "eax"); });
  EXPECT("selector beyond the GDT", __asm__ volatile("mov $0x78, %%ax\n mov %%ax, %%ds" : : : "eax"));
  EXPECT("not-present segment", __asm__ volatile("mov $0x30, %%ax\n mov %%ax, %%fs" : : : "eax"));
  EXPECT("null SS", __asm__ volatile("xor %%eax, %%eax\n mov %%ax, %%ss" : : : "eax"));
  EXPECT("code segment as data for writing, then SS", __asm__ volatile("mov $0x08, %%ax\n mov %%ax, %%ss" : : : "eax"));
  EXPECT("IDT limit", { lidt(idt, 8 * 0x40); __asm__ volatile("int $0x50"); });
  lidt(idt, sizeof idt);
  idt[2 * 14 + 1] &= ~0x8000u;
  EXPECT("double fault (#PF with a not-present #PF gate)", peek(TEST_NP));
  set_gate(14, vectors[14], 0, 0);
  EXPECT("int $0x80 from CPL 0 through the DPL-3 gate", __asm__ volatile("mov $3, %%eax\n int $0x80\n ud2" : : : "eax", "memory"));
}

void kmain(void) {
  /* Mask both 8259s: the firmware leaves QEMU's timer running, and its IRQ 0 (vector 8 in
     real-mode numbering) would reach the first user test, which runs with IF=1, whenever
     a tick fell while the earlier tests ran: a transcript that depended on host speed. */
  outb(0x21, 0xff);
  outb(0xa1, 0xff);
  puts("memvisor protected-mode tests\n");
  /* QEMU's firmware leaves the PIT ticking into the 8259 (vector 8 at its default base):
     masked, so ring-3 code, which runs with IF=1, sees only the traps under test. */
  outb(0x21, 0xff); outb(0xa1, 0xff);
  set_desc(1, 0, 0xfffff, 0x9a, 0xc);
  set_desc(2, 0, 0xfffff, 0x92, 0xc);
  set_desc(3, 0, 0xfffff, 0xfa, 0xc);
  set_desc(4, 0, 0xfffff, 0xf2, 0xc);
  set_desc(5, (u32)tss, sizeof tss - 1, 0x89, 0);
  set_desc(6, 0, 0xfffff, 0x12, 0xc); /* not present */
  lgdt(gdt, sizeof gdt);
  __asm__ volatile("ljmp $0x08, $1f\n1: mov $0x10, %%ax\n mov %%ax, %%ds\n mov %%ax, %%es\n mov %%ax, %%ss\n mov %%ax, %%fs\n mov %%ax, %%gs" : : : "eax");
  tss[1] = (u32)kstack0 + sizeof kstack0;
  tss[2] = 0x10;
  tss[25] = 0xffff0000u; /* no I/O bitmap */
  __asm__ volatile("mov $0x28, %%ax\n ltr %%ax" : : : "eax");
  for (int v = 0; v < 256; v++) set_gate(v, vectors[v], 0, v == 3 || v == 4);
  set_gate(0x80, vectors[0x80], 3, 1);
  lidt(idt, sizeof idt);
  pgdir[0] = 0x000000e3;            /* 4 MiB identity, supervisor, writable */
  pgdir[1] = (u32)pt1 | 0x7;        /* test pages, decided by the PTEs */
  pgdir[2] = 0x00000083;            /* alias of the first 4 MiB at 8 MiB */
  pt1[(TEST_RO >> 12) & 1023] = (u32)ro_frame | 0x1;
  pt1[(TEST_NP >> 12) & 1023] = 0;
  pt1[(TEST_USER >> 12) & 1023] = (u32)user_frame | 0x7;
  pt1[(TEST_USER_RO >> 12) & 1023] = (u32)user_ro_frame | 0x5;
  pt1[(TEST_USTACK >> 12) & 1023] = (u32)user_stack_frame | 0x7;
  for (char *s = user_start, *d = (char *)user_frame; s < user_end; s++, d++) *d = *s;
  __asm__ volatile("mov %%cr4, %%eax\n or $0x10, %%eax\n mov %%eax, %%cr4" : : : "eax");
  lcr3((u32)pgdir);
  lcr0(rcr0() | 0x80000000u);
  paging_tests();
  user_tests();
  exception_tests();
  puts("DONE\n");
  outb(0xf4, 0);
}
