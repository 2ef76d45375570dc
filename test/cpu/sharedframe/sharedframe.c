/*
 * One physical frame of code mapped at several linear addresses (what copy-on-write fork
 * and shared libraries do): the code reads its own EIP and pushes return addresses, so the
 * same bytes give a different result at each address. It is run many times at one address
 * (hot: compiled on the block tiers), then at the others, then alternately, in one address
 * space and in a second one (another CR3) that maps the frame elsewhere. Each result must
 * be the one of the address it ran at.
 */
#include "../../support/kernel.h"

void interrupt(u32 vector) {
  puts("unexpected trap "); putdec(vector); puts("\nDONE\n");
  debug_exit(1);
}

/*
 * The shared code, alone on its page: 100 times, a call inside the page whose callee reads
 * the return address (a linear address); the sum comes back in EAX. At linear base B it
 * returns 100 * (B + RET_OFFSET).
 */
__asm__(
  ".section .text\n"
  ".p2align 12\n"
  "shared_code:\n"
  "  xor %edx, %edx\n"            /* 0: 31 d2 */
  "  mov $100, %ecx\n"            /* 2: b9 64 00 00 00 */
  "1: call 2f\n"                  /* 7: e8 .. (returns to 12) */
  "  jmp 3f\n"                    /* 12 */
  "2: mov (%esp), %eax\n"
  "  ret\n"
  "3: add %eax, %edx\n"
  "  dec %ecx\n"
  "  jnz 1b\n"
  "  mov %edx, %eax\n"
  "  ret\n"
  ".p2align 12\n"
  ".text\n");
extern char shared_code[];
#define RET_OFFSET 12

static u32 pd1[1024] __attribute__((aligned(4096)));
static u32 pd2[1024] __attribute__((aligned(4096)));
static u32 low[2][1024] __attribute__((aligned(4096)));   /* identity map of 0-8 MiB */
static u32 high1[1024] __attribute__((aligned(4096)));    /* 0x40000000-0x403fffff in pd1 */
static u32 high2[1024] __attribute__((aligned(4096)));    /* 0x40400000-0x407fffff in pd1 */
static u32 other[1024] __attribute__((aligned(4096)));    /* 0x80000000-0x803fffff in pd2 */

#define A 0x40000000u
#define B 0x40405000u
#define C 0x80123000u

static void map(u32 *table, u32 linear, u32 frame) { table[(linear >> 12) & 1023] = frame | 3; }

static u32 run_at(u32 linear) { return ((u32 (*)(void))linear)(); }

static int check_at(const char *name, u32 linear, int times) {
  int bad = 0;
  u32 got = 0;
  for (int i = 0; i < times; i++) {
    got = run_at(linear);
    if (got != 100 * (linear + RET_OFFSET)) bad++;
  }
  puts(" "); puts(name); puts("="); puthex(got, 8);
  return bad;
}

void kmain(void) {
  uart_init();
  puts("memvisor shared-frame tests\n");
  for (int t = 0; t < 2; t++)
    for (int i = 0; i < 1024; i++) low[t][i] = ((u32)(t * 1024 + i) << 12) | 3;
  u32 frame = (u32)shared_code;
  map(high1, A, frame);
  map(high2, B, frame);
  map(other, C, frame);
  pd1[0] = (u32)low[0] | 3; pd1[1] = (u32)low[1] | 3;
  pd2[0] = (u32)low[0] | 3; pd2[1] = (u32)low[1] | 3;
  pd1[A >> 22] = (u32)high1 | 3;
  pd1[B >> 22] = (u32)high2 | 3;
  pd2[C >> 22] = (u32)other | 3;
  __asm__ volatile("mov %0, %%cr3; mov %%cr0, %%eax; or $0x80000000, %%eax; mov %%eax, %%cr0" : : "r"(pd1) : "eax", "memory");

  int bad = 0;
  puts("one address space:");
  bad += check_at("A", A, 200);
  bad += check_at("B", B, 200);
  bad += check_at("A", A, 1);
  puts("\n");
  int alternating = 0;
  for (int i = 0; i < 100; i++) {
    if (run_at(A) != 100 * (A + RET_OFFSET)) alternating++;
    if (run_at(B) != 100 * (B + RET_OFFSET)) alternating++;
  }
  puts("alternating:"); decfield("wrong", alternating); puts("\n");
  bad += alternating;
  puts("another address space:");
  __asm__ volatile("mov %0, %%cr3" : : "r"(pd2) : "memory");
  bad += check_at("C", C, 200);
  __asm__ volatile("mov %0, %%cr3" : : "r"(pd1) : "memory");
  bad += check_at("B", B, 50);
  puts("\n");
  puts("results:"); check("same-frame", bad == 0); puts("\n");
  puts("DONE\n");
  debug_exit(0);
}
