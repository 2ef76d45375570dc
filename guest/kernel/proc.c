// Processes: creation (userinit, fork), the scheduler, sleep and wakeup, exit and wait.
// MemV6 runs on one CPU; a critical section is a stretch with interrupts off
// (pushcli/popcli), and sleep() is always called with interrupts off.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "proc.h"
#include "defs.h"

struct cpu cpu0;
static struct proc ptable[NPROC];
static struct proc *initproc;
static int nextpid = 1;
extern void trapret(void);
extern char initcode_start[], initcode_end[];

// A stretch with interrupts off, nested. With idle=spin it starts as a multiprocessor
// kernel's lock acquire does, by asking the local APIC which CPU this is (one MMIO read).
// The variant is chosen once, in pinit(), so the default kernel pays no test for it.
static void
pushcli_plain(void)
{
  int eflags = readeflags();
  cli();
  if (cpu0.ncli++ == 0)
    cpu0.intena = eflags & FL_IF;
}

static void
checkcpu(void)
{
  if (lapicid() != bootapicid) panic("not the boot CPU");
}

static void
pushcli_checkcpu(void)
{
  pushcli_plain();
  checkcpu();
}

void (*pushcli)(void) = pushcli_plain;

// Nothing to run, with idle=spin: no hlt; look at the APIC as xv6's scheduler does when it
// takes its lock, and go round again with interrupts open only until the next cli, as
// many teaching kernels do.
static void
idle_spin(void)
{
  checkcpu();
  sti();
}

void
pinit(void)
{
  if (opt_idle_spin) pushcli = pushcli_checkcpu;
}

void
popcli(void)
{
  if (readeflags() & FL_IF) panic("popcli: interruptible");
  if (--cpu0.ncli < 0) panic("popcli: unbalanced");
  if (cpu0.ncli == 0 && cpu0.intena)
    sti();
}

static void forkret(void);

// An UNUSED slot made EMBRYO, with a kernel stack arranged so that its first
// swtch() lands in forkret() and then returns to user space through trapret.
static struct proc *
allocproc(void)
{
  struct proc *p;
  pushcli();
  for (p = ptable; p < &ptable[NPROC]; p++)
    if (p->state == UNUSED) break;
  if (p == &ptable[NPROC]) {
    popcli();
    return 0;
  }
  p->state = EMBRYO;
  p->pid = nextpid++;
  popcli();

  if ((p->kstack = kalloc()) == 0) {
    p->state = UNUSED;
    return 0;
  }
  char *sp = p->kstack + KSTACKSIZE;
  sp -= sizeof *p->tf;
  p->tf = (struct trapframe *)sp;
  sp -= 4;
  *(uint *)sp = (uint)trapret;
  sp -= sizeof *p->context;
  p->context = (struct context *)sp;
  memset(p->context, 0, sizeof *p->context);
  p->context->eip = (uint)forkret;
  return p;
}

static void
set_user_segments(struct trapframe *tf)
{
  tf->cs = (SEG_UCODE << 3) | DPL_USER;
  tf->ds = (SEG_UDATA << 3) | DPL_USER;
  tf->es = tf->ds;
  tf->ss = tf->ds;
  tf->eflags = FL_IF;
}

void
userinit(void)
{
  struct proc *p = allocproc();
  initproc = p;
  if ((p->pgdir = setupkvm()) == 0) panic("userinit: out of memory");
  inituvm(p->pgdir, initcode_start, initcode_end - initcode_start);
  p->sz = PGSIZE;
  memset(p->tf, 0, sizeof *p->tf);
  set_user_segments(p->tf);
  p->tf->esp = PGSIZE;
  p->tf->eip = 0;
  safestrcpy(p->name, "initcode", sizeof p->name);
  p->cwd = namei("/");
  p->mirrored = 0;
  p->spill = NOSPILL;
  p->state = RUNNABLE;
}

// Grow (n > 0) or shrink (n < 0) the current process's memory by n bytes.
int
growproc(int n)
{
  struct proc *p = myproc();
  uint sz = p->sz;
  if (n > 0) {
    if ((uint)n >= USERTOP || sz + n > USERTOP) return -1;
    if ((sz = allocuvm(p->pgdir, sz, sz + n, p->mirrored)) == 0) return -1;
  } else if (n < 0) {
    if ((uint)-n > sz) return -1;
    sz = deallocuvm(p->pgdir, sz, sz + n);
  }
  p->sz = sz;
  switchuvm(p);
  return 0;
}

int
fork(void)
{
  struct proc *cur = myproc();
  struct proc *np = allocproc();
  if (!np) return -1;
  if ((np->pgdir = copyuvm(cur->pgdir, cur->sz)) == 0) {
    kfree(np->kstack);
    np->kstack = 0;
    np->state = UNUSED;
    return -1;
  }
  np->sz = cur->sz;
  np->mirrored = cur->mirrored;
  np->spill = cur->spill;
  np->parent = cur;
  *np->tf = *cur->tf;
  np->tf->eax = 0;  // fork returns 0 in the child
  for (int i = 0; i < NOFILE; i++)
    if (cur->ofile[i]) np->ofile[i] = filedup(cur->ofile[i]);
  np->cwd = idup(cur->cwd);
  safestrcpy(np->name, cur->name, sizeof cur->name);
  int pid = np->pid;
  pushcli();
  np->state = RUNNABLE;
  popcli();
  return pid;
}

void
exit(void)
{
  struct proc *cur = myproc();
  if (cur == initproc) panic("init exiting");
  if (cur->mirrored && opt_mirrorcheck != MIRRORCHECK_OFF) mirrorcheck(cur, 0);
  for (int fd = 0; fd < NOFILE; fd++) {
    if (cur->ofile[fd]) {
      fileclose(cur->ofile[fd]);
      cur->ofile[fd] = 0;
    }
  }
  begin_op();
  iput(cur->cwd);
  end_op();
  cur->cwd = 0;

  pushcli();
  wakeup(cur->parent);
  for (struct proc *p = ptable; p < &ptable[NPROC]; p++) {
    if (p->parent == cur) {
      p->parent = initproc;  // orphans go to init, which reaps them
      if (p->state == ZOMBIE) wakeup(initproc);
    }
  }
  cur->state = ZOMBIE;
  sched();
  panic("zombie exit");
}

// Wait for a child to exit; its pid, or -1 if there are no children.
int
wait(void)
{
  struct proc *cur = myproc();
  pushcli();
  for (;;) {
    int havekids = 0;
    for (struct proc *p = ptable; p < &ptable[NPROC]; p++) {
      if (p->parent != cur) continue;
      havekids = 1;
      if (p->state == ZOMBIE) {
        int pid = p->pid;
        kfree(p->kstack);
        p->kstack = 0;
        freevm(p->pgdir);
        p->pgdir = 0;
        p->pid = 0;
        p->parent = 0;
        p->name[0] = 0;
        p->killed = 0;
        p->state = UNUSED;
        popcli();
        return pid;
      }
    }
    if (!havekids || cur->killed) {
      popcli();
      return -1;
    }
    sleep(cur);
  }
}

// Run processes forever. With nothing runnable, halt until an interrupt: the
// emulator skips idle time on hlt, so never spin.
void
scheduler(void)
{
  struct cpu *c = &cpu0;
  c->proc = 0;
  for (;;) {
    cli();
    int ran = 0;
    for (struct proc *p = ptable; p < &ptable[NPROC]; p++) {
      if (p->state != RUNNABLE) continue;
      ran = 1;
      c->proc = p;
      switchuvm(p);
      p->state = RUNNING;
      c->ncli = 0;
      swtch(&c->scheduler, p->context);
      switchkvm();
      c->proc = 0;
    }
    if (ran)
      sti();
    else if (opt_idle_spin)
      idle_spin();
    else
      sti_hlt();  // atomically enable interrupts and wait for one
  }
}

// Switch to the scheduler. Interrupts must be off; the process's state already changed.
void
sched(void)
{
  struct proc *p = myproc();
  if (readeflags() & FL_IF) panic("sched: interruptible");
  if (p->state == RUNNING) panic("sched: running");
  int intena = cpu0.intena;
  int ncli = cpu0.ncli;
  swtch(&p->context, cpu0.scheduler);
  cpu0.intena = intena;
  cpu0.ncli = ncli;
}

void
yield(void)
{
  pushcli();
  myproc()->state = RUNNABLE;
  sched();
  popcli();
}

// A new process's first scheduling lands here, then "returns" to trapret.
static void
forkret(void)
{
  static int first = 1;
  // The scheduler switched here with interrupts off and ncli = 0.
  cpu0.ncli = 0;
  cpu0.intena = 0;
  if (first) {
    first = 0;
    iinit(FSDEV);   // these sleep on disk I/O, so they need a process context
    initlog(FSDEV);
  }
}

// Sleep on chan. Called with interrupts off (inside pushcli), so that a wakeup
// cannot slip in between the caller's check and the sleep.
void
sleep(void *chan)
{
  struct proc *p = myproc();
  if (!p) panic("sleep: no process");
  if (cpu0.ncli == 0) panic("sleep: interruptible");
  p->chan = chan;
  p->state = SLEEPING;
  sched();
  p->chan = 0;
}

void
wakeup(void *chan)
{
  pushcli();
  for (struct proc *p = ptable; p < &ptable[NPROC]; p++)
    if (p->state == SLEEPING && p->chan == chan)
      p->state = RUNNABLE;
  popcli();
}

int
kill(int pid)
{
  pushcli();
  for (struct proc *p = ptable; p < &ptable[NPROC]; p++) {
    if (p->pid == pid && p->state != UNUSED) {
      p->killed = 1;
      if (p->state == SLEEPING) p->state = RUNNABLE;
      popcli();
      return 0;
    }
  }
  popcli();
  return -1;
}

// Ctrl-P: list the processes on the console.
void
procdump(void)
{
  static char *states[] = {
    [UNUSED] "unused", [EMBRYO] "embryo", [SLEEPING] "sleep ",
    [RUNNABLE] "runble", [RUNNING] "run   ", [ZOMBIE] "zombie",
  };
  for (struct proc *p = ptable; p < &ptable[NPROC]; p++) {
    if (p->state == UNUSED) continue;
    cprintf("%d %s %s %d KiB", p->pid, states[p->state], p->name, p->sz / 1024);
    if (p->mirrored && p->pgdir) cprintf(" mirrored (%d mirror pages)", mirrorpages(p->pgdir, p->sz));
    cprintf("\n");
  }
}
