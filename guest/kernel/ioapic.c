// The I/O APIC routes device interrupt lines (ISA IRQs) to vectors on a CPU.
#include "types.h"
#include "defs.h"
#include "traps.h"

#define IOAPIC 0xFEC00000
#define REG_ID    0x00
#define REG_VER   0x01
#define REG_TABLE 0x10  // redirection entry i: registers 0x10+2i (low) and 0x11+2i (high)
#define INT_DISABLED 0x00010000

struct ioapic {
  uint reg;
  uint pad[3];
  uint data;
};
static volatile struct ioapic *ioapic = (volatile struct ioapic *)IOAPIC;
uchar ioapicid;

static uint
ioapicread(int reg)
{
  ioapic->reg = reg;
  return ioapic->data;
}

static void
ioapicwrite(int reg, uint data)
{
  ioapic->reg = reg;
  ioapic->data = data;
}

void
ioapicinit(void)
{
  int maxintr = (ioapicread(REG_VER) >> 16) & 0xFF;
  int id = ioapicread(REG_ID) >> 24;
  if (id != ioapicid)
    cprintf("ioapicinit: id %d is not the MP table's %d\n", id, ioapicid);
  for (int i = 0; i <= maxintr; i++) {  // everything off, edge-triggered, active high
    ioapicwrite(REG_TABLE + 2 * i, INT_DISABLED | (T_IRQ0 + i));
    ioapicwrite(REG_TABLE + 2 * i + 1, 0);
  }
}

void
ioapicenable(int irq, int cpu)
{
  ioapicwrite(REG_TABLE + 2 * irq, T_IRQ0 + irq);
  ioapicwrite(REG_TABLE + 2 * irq + 1, cpu << 24);
}
