// The I/O APIC routes the ISA interrupt lines (IRQs) to vectors on a CPU. It is reached
// through two memory-mapped registers: a register number is written to the index, then
// the register is read or written through the window.
#include "types.h"
#include "x86.h"
#include "defs.h"
#include "traps.h"

#define IOAPIC_BASE 0xFEC00000
#define IOAPIC_ID    0x00       // bits 24-27: the APIC id
#define IOAPIC_VER   0x01       // bits 16-23: the number of the last redirection entry
#define IOAPIC_REDIR 0x10       // entry i: registers 0x10 + 2i (vector, flags), 0x11 + 2i (CPU)
#define REDIR_MASKED 0x00010000

static volatile uint *const index = (uint *)IOAPIC_BASE;
static volatile uint *const window = (uint *)(IOAPIC_BASE + 0x10);
uchar ioapicid;  // as the MP table gives it (mp.c)

static uint
ioapic_read(uint reg)
{
  mmio_write(index, reg);
  return *window;
}

static void
ioapic_write(uint reg, uint value)
{
  mmio_write(index, reg);
  mmio_write(window, value);
}

// Route line irq to CPU cpu, as vector T_IRQ0 + irq (edge-triggered, active high).
static void
route(int irq, int cpu, uint flags)
{
  ioapic_write(IOAPIC_REDIR + 2 * irq, flags | (T_IRQ0 + irq));
  ioapic_write(IOAPIC_REDIR + 2 * irq + 1, cpu << 24);
}

// Every line starts masked; the drivers unmask theirs with ioapicenable.
void
ioapicinit(void)
{
  int last = (ioapic_read(IOAPIC_VER) >> 16) & 0xFF;
  int id = ioapic_read(IOAPIC_ID) >> 24;
  if (id != ioapicid) cprintf("ioapicinit: id %d is not the MP table's %d\n", id, ioapicid);
  for (int irq = 0; irq <= last; irq++) route(irq, 0, REDIR_MASKED);
}

void
ioapicenable(int irq, int cpu)
{
  route(irq, cpu, 0);
}
