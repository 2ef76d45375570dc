// Traps: the interrupt descriptor table and the one C entry point for every
// exception, interrupt and system call.
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
extern uint vectors[];
uint ticks;

void
tvinit(void)
{
  for (int i = 0; i < 256; i++)
    SETGATE(idt[i], 0, SEG_KCODE << 3, vectors[i], 0);
  // System calls: a trap gate user code may invoke, leaving interrupts on.
  SETGATE(idt[T_SYSCALL], 1, SEG_KCODE << 3, vectors[T_SYSCALL], DPL_USER);
}

void
idtinit(void)
{
  lidt(idt, sizeof(idt));
}

static void
kill_faulting_process(struct trapframe *tf)
{
  struct proc *p = myproc();
  cprintf("pid %d %s: trap %d err %d eip 0x%x addr 0x%x--kill proc\n",
          p->pid, p->name, tf->trapno, tf->err, tf->eip, rcr2());
  p->killed = 1;
}

void
trap(struct trapframe *tf)
{
  struct proc *p = myproc();
  if (tf->trapno == T_SYSCALL) {
    if (p->killed) exit();
    p->tf = tf;
    syscall();
    if (p->killed) exit();
    return;
  }

  switch (tf->trapno) {
  case T_IRQ0 + IRQ_TIMER:
    ticks++;
    wakeup(&ticks);
    lapiceoi();
    break;
  case T_IRQ0 + IRQ_IDE:
    ideintr();
    lapiceoi();
    break;
  case T_IRQ0 + IRQ_KBD:
    kbdintr();
    lapiceoi();
    break;
  case T_IRQ0 + IRQ_COM1:
    uartintr();
    lapiceoi();
    break;
  case T_MCHK:
    machinecheck(tf);
    break;
  case T_IRQ0 + 7:
  case T_IRQ0 + IRQ_SPURIOUS:
    lapiceoi();
    break;
  default:
    if (!p || (tf->cs & 3) == 0) {
      cprintf("unexpected trap %d from eip 0x%x (cr2 0x%x, err %d)\n", tf->trapno, tf->eip, rcr2(), tf->err);
      panic("trap in kernel");
    }
    kill_faulting_process(tf);
  }

  // A killed process leaves when it next reaches user space.
  if (p && p->killed && (tf->cs & 3) == DPL_USER) exit();
  // Timer: give up the CPU.
  if (p && p->state == RUNNING && tf->trapno == T_IRQ0 + IRQ_TIMER) yield();
  if (p && p->killed && (tf->cs & 3) == DPL_USER) exit();
}
