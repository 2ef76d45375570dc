// Traps: the interrupt descriptor table, and trap(), where every exception, device
// interrupt and system call arrives (through trapentry.S) with the interrupted state in
// a trapframe.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "proc.h"
#include "defs.h"
#include "traps.h"
#include "syscall.h"

static struct gatedesc idt[256];
extern uint trap_vectors[];  // trapentry.S: the entry stub of each vector
uint ticks;                  // timer interrupts since boot

// Point IDT entry v at its stub, as a gate of the given type that code running at
// privilege dpl (or more) may invoke with int.
static void
set_gate(int v, int type, int dpl)
{
  uint handler = trap_vectors[v];
  idt[v].lo = (SEG_KCODE << 3) << 16 | (handler & 0xFFFF);
  idt[v].hi = (handler & 0xFFFF0000) | GATE_PRESENT | dpl << 13 | type << 8;
}

void
tvinit(void)
{
  // Interrupt gates: every handler starts with interrupts off, and only the kernel may
  // raise these vectors with int.
  for (int v = 0; v < 256; v++)
    set_gate(v, STS_IG32, 0);
  // System calls come from user mode, and may be interrupted.
  set_gate(T_SYSCALL, STS_TG32, DPL_USER);
}

void
idtinit(void)
{
  lidt(idt, sizeof(idt));
}

// Handle a device interrupt and acknowledge it. 0 if trapno is not one.
static int
device_interrupt(uint trapno)
{
  switch (trapno) {
  case T_IRQ0 + IRQ_TIMER:
    ticks++;
    wakeup(&ticks);
    break;
  case T_IRQ0 + IRQ_IDE:
    ideintr();
    break;
  case T_IRQ0 + IRQ_KBD:
    kbdintr();
    break;
  case T_IRQ0 + IRQ_COM1:
    uartintr();
    break;
  case T_IRQ0 + 7:             // the 8259's spurious line
  case T_IRQ0 + IRQ_SPURIOUS:  // the local APIC's
    break;
  default:
    return 0;
  }
  lapiceoi();
  return 1;
}

// An exception (or an unexpected vector): a process whose own code caused it is
// killed; in the kernel it is a bug.
static void
exception(struct proc *p, struct trapframe *tf)
{
  if (!p || (tf->cs & 3) != DPL_USER) {
    cprintf("unexpected trap %d from eip 0x%x (cr2 0x%x, err %d)\n", tf->trapno, tf->eip, rcr2(), tf->err);
    panic("trap in kernel");
  }
  cprintf("pid %d %s: trap %d err %d eip 0x%x addr 0x%x: killed\n",
          p->pid, p->name, tf->trapno, tf->err, tf->eip, rcr2());
  p->killed = 1;
}

// A killed process leaves on its way back to user mode. Unless a system call brought it
// here, its user code stopped at whatever instruction an interrupt or exception found,
// perhaps between a translated store and its mirror store: its memory, about to be freed,
// may differ from its mirror by that one store, and exit() does not compare them.
static void
exit_killed(struct proc *p, struct trapframe *tf)
{
  p->stopped_anywhere = tf->trapno != T_SYSCALL;
  exit();
}

void
trap(struct trapframe *tf)
{
  struct proc *p = myproc();
  if (tf->trapno == T_SYSCALL) {
    if (p->killed) exit();
    p->tf = tf;
    syscall();
  } else if (tf->trapno == T_MCHK) {
    machinecheck(tf);
  } else if (tf->trapno == T_PGFLT && p && (tf->cs & 3) == DPL_USER &&
             (cowfault(p, rcr2()) == 0 || imagepage(p, rcr2()) == 0)) {
    // a write to a page shared since fork, now the process's own, or the first touch of a
    // program page, now read from the file (exec.c): the instruction runs again
  } else if (!device_interrupt(tf->trapno)) {
    exception(p, tf);
  }
  if (!p) return;  // an interrupt while the scheduler ran

  // A killed process leaves on its way back to user mode, where it holds nothing in the
  // kernel; the timer makes a running process give up the CPU (it may be killed while
  // it waits for it again).
  int to_user = (tf->cs & 3) == DPL_USER;
  if (p->killed && to_user) exit_killed(p, tf);
  if (tf->trapno == T_IRQ0 + IRQ_TIMER && p->state == RUNNING) {
    yield();
    if (p->killed && to_user) exit_killed(p, tf);
  }
}
