// The local APIC: its timer drives scheduling (vector T_IRQ0 + IRQ_TIMER), and it takes
// the end-of-interrupt for everything the IOAPIC delivers. The legacy 8259 PICs are
// masked: MemV6 uses the APICs only.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "x86.h"
#include "defs.h"
#include "traps.h"

// Registers (Intel SDM vol. 3, "Local APIC Register Address Map"), as indices of
// 32-bit words from the base.
#define LAPIC_ID            (0x020 / 4)
#define LAPIC_TPR           (0x080 / 4)  // task priority
#define LAPIC_EOI           (0x0B0 / 4)
#define LAPIC_SVR           (0x0F0 / 4)  // spurious interrupt vector, and the enable bit
#define LAPIC_ESR           (0x280 / 4)  // error status
#define LAPIC_LVT_TIMER     (0x320 / 4)
#define LAPIC_LVT_LINT0     (0x350 / 4)
#define LAPIC_LVT_LINT1     (0x360 / 4)
#define LAPIC_LVT_ERROR     (0x370 / 4)
#define LAPIC_TIMER_INITIAL (0x380 / 4)
#define LAPIC_TIMER_DIVIDE  (0x3E0 / 4)
#define SVR_ENABLE    0x00000100
#define LVT_MASKED    0x00010000
#define LVT_PERIODIC  0x00020000
#define DIVIDE_BY_1   0x0000000B

// Ticks per timer interrupt: QEMU's APIC clock is 1 GHz, so 10^7 gives 100 Hz.
// A fixed count (no calibration against wall time) keeps runs deterministic.
#define TIMER_COUNT 10000000

volatile uint *lapic;  // its base address, from the MP table (mp.c)

static void
lapic_write(int reg, uint value)
{
  mmio_write(&lapic[reg], value);
  (void)lapic[LAPIC_ID];  // a read makes the write complete first
}

void
lapicinit(void)
{
  if (!lapic) panic("no local APIC (no MP table?)");
  lapic_write(LAPIC_SVR, SVR_ENABLE | (T_IRQ0 + IRQ_SPURIOUS));
  lapic_write(LAPIC_TIMER_DIVIDE, DIVIDE_BY_1);
  lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | (T_IRQ0 + IRQ_TIMER));
  lapic_write(LAPIC_TIMER_INITIAL, TIMER_COUNT);
  lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);  // devices come through the IOAPIC, not these pins
  lapic_write(LAPIC_LVT_LINT1, LVT_MASKED);
  lapic_write(LAPIC_LVT_ERROR, T_IRQ0 + IRQ_ERROR);
  lapic_write(LAPIC_ESR, 0);  // a write latches the errors, the next one clears them
  lapic_write(LAPIC_ESR, 0);
  lapic_write(LAPIC_EOI, 0);  // anything still outstanding
  lapic_write(LAPIC_TPR, 0);  // take interrupts of every priority
}

// This CPU's local APIC ID (0 before mpinit() found the APIC).
uint
lapicid(void)
{
  return lapic ? lapic[LAPIC_ID] >> 24 : 0;
}

void
lapiceoi(void)
{
  if (lapic) lapic_write(LAPIC_EOI, 0);
}

// Mask both 8259s (the master's and the slave's interrupt mask registers).
void
picinit(void)
{
  outb(0x21, 0xFF);
  outb(0xA1, 0xFF);
}
