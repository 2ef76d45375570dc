// Processes and the one CPU.

// A kernel thread that gave up the CPU, as swtch() saved it: the registers a C function
// must preserve, the stack pointer, and where it continues.
struct context {
  uint ebx, esi, edi, ebp;
  uint esp;
  uint eip;
};

// The part of a program segment the file fills: its pages [va, end) are read from the
// program file at their first touch (exec.c), filesz bytes from off, the rest zeros.
struct imageseg {
  uint va, end, off, filesz;
};
#define NIMAGESEG 4

enum procstate { UNUSED, EMBRYO, SLEEPING, RUNNABLE, RUNNING, ZOMBIE };

struct proc {
  uint sz;                  // bytes of user memory
  pde_t *pgdir;
  char *kstack;             // bottom of the kernel stack
  enum procstate state;
  int pid;
  struct proc *parent;
  struct trapframe *tf;     // trap frame of the current system call or interrupt
  struct context context;   // its kernel thread, while another runs
  void *chan;               // sleeping on this, if non-zero
  int killed;
  struct file *ofile[NOFILE];
  struct inode *cwd;
  char name[16];
  int mirrored;             // its program was translated: user pages have mirrors
  uint spill;               // the translator's spill page (never mirrored), or NOSPILL
  struct inode *image;      // the program file, while pages of it are not yet read (or 0)
  struct imageseg seg[NIMAGESEG];  // and where they come from
  int nseg;
  int stopped_anywhere;     // killed at an interrupt or exception from user mode (trap.c)
  struct proc *sleepnext, **sleepprev;  // on the sleepers list while in sleep
};
#define NOSPILL 0xFFFFFFFF

struct cpu {
  struct context scheduler; // the scheduler's thread, while a process runs
  struct taskstate ts;
  struct segdesc gdt[NSEGS];
  int ncli;                 // depth of pushcli nesting
  int intena;               // were interrupts enabled before the first pushcli?
  struct proc *proc;        // the running process, or 0
};

extern struct cpu cpu0;
static inline struct proc *myproc(void) { return cpu0.proc; }
