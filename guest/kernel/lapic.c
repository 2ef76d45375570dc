// The local APIC: its timer drives scheduling (vector T_IRQ0 + IRQ_TIMER), and it
// accepts end-of-interrupt for everything the IOAPIC routes. The legacy 8259 PICs
// are masked: MemV6 uses the APICs only.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "x86.h"
#include "defs.h"
#include "traps.h"

#define ID      (0x0020 / 4)
#define TPR     (0x0080 / 4)
#define EOI     (0x00B0 / 4)
#define SVR     (0x00F0 / 4)
#define ESR     (0x0280 / 4)
#define TIMER   (0x0320 / 4)
#define LINT0   (0x0350 / 4)
#define LINT1   (0x0360 / 4)
#define ERROR   (0x0370 / 4)
#define TICR    (0x0380 / 4)
#define TDCR    (0x03E0 / 4)
#define ENABLE    0x00000100
#define PERIODIC  0x00020000
#define MASKED    0x00010000
#define DIVIDE_1  0x0000000B

// Ticks per timer interrupt: QEMU's APIC clock is 1 GHz, so 10^7 gives 100 Hz.
// A fixed count (no calibration against wall time) keeps runs deterministic.
#define TIMER_COUNT 10000000

volatile uint *lapic;  // set by mpinit()

static void
lapicw(int index, int value)
{
  lapic[index] = value;
  (void)lapic[ID];  // wait for the write to finish
}

void
lapicinit(void)
{
  if (!lapic) panic("no local APIC (no MP table?)");
  lapicw(SVR, ENABLE | (T_IRQ0 + IRQ_SPURIOUS));
  lapicw(TDCR, DIVIDE_1);
  lapicw(TIMER, PERIODIC | (T_IRQ0 + IRQ_TIMER));
  lapicw(TICR, TIMER_COUNT);
  lapicw(LINT0, MASKED);
  lapicw(LINT1, MASKED);
  lapicw(ERROR, T_IRQ0 + IRQ_ERROR);
  lapicw(ESR, 0);
  lapicw(ESR, 0);
  lapicw(EOI, 0);
  lapicw(TPR, 0);
}

// This CPU's local APIC ID (0 before mpinit() found the APIC).
uint
lapicid(void)
{
  return lapic ? lapic[ID] >> 24 : 0;
}

void
lapiceoi(void)
{
  if (lapic) lapicw(EOI, 0);
}

// Mask both 8259s so that they never deliver anything.
void
picinit(void)
{
  outb(0x21, 0xFF);
  outb(0xA1, 0xFF);
}
