// The x86 instructions the kernel needs that C has no words for.
static inline uchar inb(ushort port) { uchar v; asm volatile("inb %1, %0" : "=a"(v) : "d"(port)); return v; }
static inline void outb(ushort port, uchar v) { asm volatile("outb %0, %1" : : "a"(v), "d"(port)); }
static inline void outw(ushort port, ushort v) { asm volatile("outw %0, %1" : : "a"(v), "d"(port)); }

// A store to a memory-mapped device register. Device registers are not memory and have no
// twin, so each such store's address is listed in the (not loaded) section
// .memvisor.nomirror, where the binary translator finds it and leaves that one store
// without a mirror store (docs/system-mode.md §3). Every device-register store goes here.
static inline void mmio_write(volatile uint *reg, uint value) {
  asm volatile("1: movl %1, %0\n"
               ".pushsection .memvisor.nomirror, \"\", @progbits\n"
               ".long 1b\n"
               ".popsection" : "=m"(*reg) : "r"(value));
}

// Block transfers: cnt 32-bit words between an I/O port and memory, or cnt bytes of
// memory filled or copied (forwards: the direction flag is cleared first).
static inline void insl(int port, void *addr, int cnt) {
  asm volatile("cld; rep insl" : "+D"(addr), "+c"(cnt) : "d"(port) : "memory", "cc");
}
static inline void outsl(int port, const void *addr, int cnt) {
  asm volatile("cld; rep outsl" : "+S"(addr), "+c"(cnt) : "d"(port) : "cc");
}
static inline void stosb(void *addr, int data, int cnt) {
  asm volatile("cld; rep stosb" : "+D"(addr), "+c"(cnt) : "a"(data) : "memory", "cc");
}
static inline void movsb(void *dst, const void *src, int cnt) {
  asm volatile("cld; rep movsb" : "+D"(dst), "+S"(src), "+c"(cnt) : : "memory", "cc");
}

// lgdt and lidt take the table's size less one and its address, packed in six bytes.
struct tableptr {
  ushort limit;
  uint base;
} __attribute__((packed));
struct segdesc;
static inline void lgdt(struct segdesc *table, int size) {
  struct tableptr p = { size - 1, (uint)table };
  asm volatile("lgdt %0" : : "m"(p));
}
struct gatedesc;
static inline void lidt(struct gatedesc *table, int size) {
  struct tableptr p = { size - 1, (uint)table };
  asm volatile("lidt %0" : : "m"(p));
}
static inline void ltr(ushort sel) { asm volatile("ltr %0" : : "r"(sel)); }
static inline uint readeflags(void) { uint f; asm volatile("pushfl; popl %0" : "=r"(f)); return f; }
static inline void cli(void) { asm volatile("cli"); }
static inline void sti(void) { asm volatile("sti"); }
static inline void sti_hlt(void) { asm volatile("sti; hlt"); }  // sti takes effect after hlt starts: no wakeup is missed
static inline uint rcr2(void) { uint v; asm volatile("movl %%cr2, %0" : "=r"(v)); return v; }
static inline void lcr3(uint v) { asm volatile("movl %0, %%cr3" : : "r"(v)); }
static inline void invlpg(uint va) { asm volatile("invlpg (%0)" : : "r"(va) : "memory"); }
static inline uint rcr3(void) { uint v; asm volatile("movl %%cr3, %0" : "=r"(v)); return v; }

// The interrupted state, as trapentry.S leaves it on the kernel stack for trap(): lowest
// address first, what trap_entry pushed, what the vector's stub pushed, then what the
// processor pushed. A segment register is pushed as a 32-bit word; its upper half is
// not ours to read.
struct trapframe {
  uint edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;  // pushal (the esp it saves is not restored)
  ushort gs, gs_hi, fs, fs_hi, es, es_hi, ds, ds_hi;
  uint trapno;       // the vector
  uint err;          // the error code, or 0
  uint eip;
  ushort cs, cs_hi;
  uint eflags;
  uint esp;          // user mode's stack: pushed only when the trap changed privilege
  ushort ss, ss_hi;
};

static inline void
rdmsr(uint msr, uint *lo, uint *hi)
{
  asm volatile("rdmsr" : "=a"(*lo), "=d"(*hi) : "c"(msr));
}

static inline void
wrmsr(uint msr, uint lo, uint hi)
{
  asm volatile("wrmsr" : : "c"(msr), "a"(lo), "d"(hi));
}
