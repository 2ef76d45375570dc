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
// Every slot from procs_end on is UNUSED (slots are taken lowest first, so the few
// processes usually sit at the start): the loops over the processes stop there.
static struct proc *procs_end = ptable;
static struct proc *initproc;
static int nextpid = 1;
extern char initcode_start[], initcode_end[];
void enter_user(struct trapframe *tf) __attribute__((noreturn));  // trapentry.S

// Interrupts off, nestable: the first pushcli remembers whether they were on, the
// matching last popcli turns them back on if so.
static void
pushcli_plain(void)
{
  int on = readeflags() & FL_IF;
  cli();
  if (cpu0.ncli++ == 0) cpu0.intena = on;
}

// With idle=spin, every pushcli also starts as a multiprocessor kernel's lock acquire
// does, by asking the local APIC which CPU this is (one MMIO read).
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

// Chosen once, in pinit(), so the default kernel pays no test for idle=spin.
void (*pushcli)(void) = pushcli_plain;

void
pinit(void)
{
  if (opt_idle_spin) pushcli = pushcli_checkcpu;
}

// Nothing to run, with idle=spin: no hlt; look at the APIC as a lock acquire would, and
// go round again with interrupts open only until the scheduler's next cli.
static void
idle_spin(void)
{
  checkcpu();
  sti();
}

void
popcli(void)
{
  if (readeflags() & FL_IF) panic("popcli: interrupts are on");
  if (--cpu0.ncli < 0) panic("popcli: without pushcli");
  if (cpu0.ncli == 0 && cpu0.intena) sti();
}

// ---- Creating processes ----

// A new process's first run starts here, switched to by the scheduler (interrupts off,
// no pushcli of its own), and leaves for user mode through its trap frame.
static void
forkret(void)
{
  static int first = 1;
  cpu0.ncli = 0;
  cpu0.intena = 0;
  if (first) {  // these wait for the disk, so they need a process to sleep in
    first = 0;
    iinit(FSDEV);
    initlog(FSDEV);
  }
  enter_user(myproc()->tf);
}

// A free slot of the process table, now EMBRYO with a pid; 0 if there is none.
static struct proc *
claim_slot(void)
{
  struct proc *found = 0;
  pushcli();
  for (struct proc *p = ptable; p < &ptable[NPROC] && !found; p++) {
    if (p->state == UNUSED) {
      found = p;
      found->state = EMBRYO;
      found->pid = nextpid++;
    }
  }
  if (found && found >= procs_end) procs_end = found + 1;
  popcli();
  return found;
}

// Give slot p back (interrupts off).
static void
free_slot(struct proc *p)
{
  p->state = UNUSED;
  while (procs_end > ptable && procs_end[-1].state == UNUSED) procs_end--;
}

// A new process: a slot, and a kernel stack with room for its trap frame at the top
// and a context that starts it in forkret. 0 if the table or memory is full.
static struct proc *
allocproc(void)
{
  struct proc *p = claim_slot();
  if (!p) return 0;
  if ((p->kstack = kalloc()) == 0) {
    pushcli();
    free_slot(p);
    popcli();
    return 0;
  }
  p->tf = (struct trapframe *)(p->kstack + KSTACKSIZE) - 1;
  uint *frame = (uint *)p->tf - 1;  // forkret's return address: it never returns
  *frame = 0;
  memset(&p->context, 0, sizeof(p->context));
  p->context.esp = (uint)frame;
  p->context.eip = (uint)forkret;
  return p;
}

// The first process: initcode (initcode.S) at address 0, which execs /init.
void
userinit(void)
{
  struct proc *p = allocproc();
  if (!p || (p->pgdir = setupkvm()) == 0) panic("userinit: out of memory");
  initproc = p;
  inituvm(p->pgdir, initcode_start, initcode_end - initcode_start);
  p->sz = PGSIZE;
  memset(p->tf, 0, sizeof(*p->tf));
  p->tf->cs = (SEG_UCODE << 3) | DPL_USER;
  p->tf->ds = p->tf->es = p->tf->ss = (SEG_UDATA << 3) | DPL_USER;
  p->tf->eflags = FL_IF;
  p->tf->esp = PGSIZE;
  p->tf->eip = 0;
  safestrcpy(p->name, "initcode", sizeof(p->name));
  p->cwd = namei("/");
  p->mirrored = 0;
  p->spill = NOSPILL;
  p->state = RUNNABLE;
}

// A copy of the current process: its memory (shared copy-on-write, the twins of a
// mirrored process's pages too), open files, directory and registers; in the child,
// fork returns 0.
int
fork(void)
{
  struct proc *parent = myproc(), *child = allocproc();
  if (!child) return -1;
  // A machine check on a page with no healthy copy kills the parent (mce.c) and every
  // process sharing the page; a parent killed while forking makes no child.
  if ((child->pgdir = copyuvm(parent->pgdir, parent->sz)) == 0 || parent->killed) {
    if (child->pgdir) freevm(child->pgdir, parent->sz);
    child->pgdir = 0;
    kfree(child->kstack);
    child->kstack = 0;
    pushcli();
    free_slot(child);
    popcli();
    return -1;
  }
  child->sz = parent->sz;
  child->mirrored = parent->mirrored;
  child->spill = parent->spill;
  child->parent = parent;
  *child->tf = *parent->tf;
  child->tf->eax = 0;
  for (int fd = 0; fd < NOFILE; fd++)
    if (parent->ofile[fd]) child->ofile[fd] = filedup(parent->ofile[fd]);
  child->cwd = idup(parent->cwd);
  // The program-image pages the parent has not read yet, the child brings in itself (exec.c).
  child->image = parent->image ? idup(parent->image) : 0;
  child->nseg = parent->nseg;
  memmove(child->seg, parent->seg, sizeof(parent->seg));
  safestrcpy(child->name, parent->name, sizeof(child->name));
  int pid = child->pid;
  pushcli();
  child->state = RUNNABLE;
  popcli();
  return pid;
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
  switchuvm(p);  // reload CR3: the TLB may hold pages just freed
  return 0;
}

// ---- Ending processes ----

// Close everything p holds open: its files and its current directory.
static void
release_files(struct proc *p)
{
  for (int fd = 0; fd < NOFILE; fd++) {
    if (p->ofile[fd]) {
      fileclose(p->ofile[fd]);
      p->ofile[fd] = 0;
    }
  }
  struct inode *image = p->image;
  p->image = 0;  // its pages not yet read can no longer be (exec.c)
  p->nseg = 0;
  begin_op();  // the directory may have lost its last name, the program file too
  iput(p->cwd);
  if (image) iput(image);
  end_op();
  p->cwd = 0;
}

// The current process ends: it becomes a zombie until its parent's wait() collects it.
// Its children go to init, which collects them in turn. Never returns.
void
exit(void)
{
  struct proc *p = myproc();
  if (p == initproc) panic("init exiting");
  if (p->mirrored && opt_mirrorcheck != MIRRORCHECK_OFF && !p->stopped_anywhere) mirrorcheck(p, 0);
  release_files(p);
  pushcli();
  wakeup(p->parent);
  for (struct proc *child = ptable; child < procs_end; child++) {
    if (child->parent != p) continue;
    child->parent = initproc;
    if (child->state == ZOMBIE) wakeup(initproc);
  }
  p->state = ZOMBIE;
  sched();
  panic("a zombie ran");
}

// Free what is left of a zombie (its kernel stack and memory) and its slot; its pid.
static int
collect_zombie(struct proc *z)
{
  int pid = z->pid;
  kfree(z->kstack);
  z->kstack = 0;
  freevm(z->pgdir, z->sz);
  z->pgdir = 0;
  z->pid = 0;
  z->parent = 0;
  z->name[0] = 0;
  z->killed = 0;
  z->stopped_anywhere = 0;
  free_slot(z);
  return pid;
}

// Wait for a child to exit; its pid, or -1 if there are no children (or the caller is
// killed while it waits).
int
wait(void)
{
  struct proc *p = myproc();
  pushcli();
  for (;;) {
    int children = 0;
    for (struct proc *c = ptable; c < procs_end; c++) {
      if (c->parent != p) continue;
      if (c->state == ZOMBIE) {
        int pid = collect_zombie(c);
        popcli();
        return pid;
      }
      children++;
    }
    if (children == 0 || p->killed) {
      popcli();
      return -1;
    }
    sleep(p);  // exit() wakes the parent
  }
}

int
kill(int pid)
{
  int found = -1;
  pushcli();
  for (struct proc *p = ptable; p < procs_end; p++) {
    if (p->pid != pid || p->state == UNUSED) continue;
    p->killed = 1;  // it exits when it next heads for user mode
    if (p->state == SLEEPING) p->state = RUNNABLE;
    found = 0;
    break;
  }
  popcli();
  return found;
}

// Kill every process but `except` that maps frame pa: fork shares frames until they are
// written (vm.c), so data lost in one was theirs too. Returns how many.
int
killsharers(struct proc *except, uint pa)
{
  int n = 0;
  for (struct proc *p = ptable; p < procs_end; p++) {
    if (p == except || p->state == UNUSED || p->state == ZOMBIE || !p->pgdir || userpageof(p, pa) < 0) continue;
    kill(p->pid);
    n++;
  }
  return n;
}

// Every process that maps frame from in its mirror range maps frame to there instead: a
// twin shared since fork moved (vm.c, remappage).
void
retwin(uint from, uint to)
{
  for (struct proc *p = ptable; p < procs_end; p++)
    if (p->state != UNUSED && p->pgdir) replacetwin(p->pgdir, p->sz, from, to);
}

// ---- Scheduling ----

// Run process p until it gives the CPU back.
static void
run(struct proc *p)
{
  cpu0.proc = p;
  switchuvm(p);
  p->state = RUNNING;
  swtch(&cpu0.scheduler, &p->context);
  cpu0.ncli = 0;  // the process's pushcli depth was its own (sched keeps it)
  switchkvm();
  cpu0.proc = 0;
}

// Run processes forever, in table order. With nothing runnable, halt until an
// interrupt: the emulator skips idle time on hlt, so never spin.
void
scheduler(void)
{
  cpu0.proc = 0;
  for (;;) {
    cli();
    int ran = 0;
    for (struct proc *p = ptable; p < procs_end; p++) {
      if (p->state == RUNNABLE) {
        run(p);
        ran = 1;
      }
    }
    if (ran) sti();
    else if (opt_idle_spin) idle_spin();
    else sti_hlt();  // enable interrupts and wait for one, with no gap between
  }
}

// Give the CPU to the scheduler. The caller has interrupts off and has changed its
// state; the pushcli depth and saved interrupt flag are its own, kept across the switch.
void
sched(void)
{
  struct proc *p = myproc();
  if (readeflags() & FL_IF) panic("sched: interrupts are on");
  if (p->state == RUNNING) panic("sched: still running");
  int ncli = cpu0.ncli, intena = cpu0.intena;
  swtch(&p->context, &cpu0.scheduler);
  cpu0.ncli = ncli;
  cpu0.intena = intena;
}

void
yield(void)
{
  pushcli();
  myproc()->state = RUNNABLE;
  sched();
  popcli();
}

// The processes inside sleep (SLEEPING, or made RUNNABLE and not yet back): wakeup looks
// at these few, not at the whole table (it runs at every buffer release and disk request).
static struct proc *sleepers;

// Wait until wakeup(chan). Interrupts must be off (inside pushcli) from the caller's
// check of its condition on, so no wakeup can come between the check and the sleep.
void
sleep(void *chan)
{
  struct proc *p = myproc();
  if (!p) panic("sleep: no process");
  if (cpu0.ncli == 0) panic("sleep: interrupts may be on");
  p->chan = chan;
  p->state = SLEEPING;
  p->sleepnext = sleepers;
  p->sleepprev = &sleepers;
  if (sleepers) sleepers->sleepprev = &p->sleepnext;
  sleepers = p;
  sched();
  *p->sleepprev = p->sleepnext;
  if (p->sleepnext) p->sleepnext->sleepprev = p->sleepprev;
  p->chan = 0;
}

void
wakeup(void *chan)
{
  pushcli();
  for (struct proc *p = sleepers; p; p = p->sleepnext)
    if (p->state == SLEEPING && p->chan == chan) p->state = RUNNABLE;
  popcli();
}

// Ctrl-P: list the processes on the console.
void
procdump(void)
{
  static char *states[] = {
    [UNUSED] "unused", [EMBRYO] "embryo", [SLEEPING] "sleep ",
    [RUNNABLE] "runble", [RUNNING] "run   ", [ZOMBIE] "zombie",
  };
  for (struct proc *p = ptable; p < procs_end; p++) {
    if (p->state == UNUSED) continue;
    cprintf("%d %s %s %d KiB", p->pid, states[p->state], p->name, p->sz / 1024);
    if (p->mirrored && p->pgdir) cprintf(" mirrored (%d mirror pages)", mirrorpages(p->pgdir, p->sz));
    cprintf("\n");
  }
}
