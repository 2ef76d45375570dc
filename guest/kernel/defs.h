// Every kernel function other files call, grouped by the file that defines it.
struct buf; struct context; struct file; struct inode; struct pipe; struct proc;
struct stat; struct superblock; struct trapframe;

// One end of a data transfer: bytes in kernel memory, or in the user memory of an
// address space. The file system, pipes and the console read into and write from
// memrefs, with deliver() and collect() (vm.c), so that user memory is reached only
// through copyout() and copyin().
struct memref {
  pde_t *pgdir;   // the address space whose user memory addr is in; 0: kernel memory
  uint addr;      // the next byte; deliver() and collect() advance it
};
static inline struct memref kmem(void *p) { return (struct memref){ 0, (uint)p }; }
static inline struct memref umem(pde_t *pgdir, uint va) { return (struct memref){ pgdir, va }; }

// bio.c
void binit(void);
struct buf *bread(uint dev, uint blockno);
void brelse(struct buf *b);
void bwrite(struct buf *b);
#define READAROUND (128 * 1024)  // imagepage reads the pages of an aligned 128 KiB window at once
#define READ_MAX 32  // blocks bgetblocks (a program's pages read together) takes at most
int bgetblocks(uint dev, uint *blocks, int n, struct buf **held);

// console.c
void consoleinit(void);
void cprintf(char *fmt, ...);
void consoleintr(int (*getc)(void));
void panic(char *msg) __attribute__((noreturn));

// exec.c
int exec(char *path, uint uargv);
int imagepage(struct proc *p, uint va);
int loadimage(struct proc *p, uint va, uint n);
void dropimage(struct proc *p);

// file.c
struct file *filealloc(void);
void fileclose(struct file *f);
struct file *filedup(struct file *f);
void fileinit(void);
int fileread(struct file *f, struct memref dst, int n);
int filestat(struct file *f, struct stat *st);
int filewrite(struct file *f, struct memref src, int n);

// fs.c
void readsb(int dev, struct superblock *sb);
int dirempty(struct inode *dp);
int dirlink(struct inode *dp, char *name, uint inum);
struct inode *dirlookup(struct inode *dp, char *name, uint *poff);
void dirremove(struct inode *dp, uint off);
struct inode *ialloc(uint dev, short type);
struct inode *idup(struct inode *ip);
void iinit(int dev);
int isdir(struct inode *ip);
void ilock(struct inode *ip);
void iput(struct inode *ip);
void iunlock(struct inode *ip);
void iunlockput(struct inode *ip);
void iupdate(struct inode *ip);
int namecmp(const char *s, const char *t);
struct inode *namei(char *path);
struct inode *nameiparent(char *path, char *name);
int readi(struct inode *ip, struct memref dst, uint off, uint n);
int ireadpages(struct inode *ip, uint off, uint n, char **dst);
void stati(struct inode *ip, struct stat *st);
int writei(struct inode *ip, struct memref src, uint off, uint n);

// ide.c
void ideinit(void);
void ideintr(void);
void iderw(struct buf *b);

// ioapic.c
void ioapicenable(int irq, int cpu);
extern uchar ioapicid;
void ioapicinit(void);

// kalloc.c
char *kalloc(void);
int kalloc2(char **first, char **second);
void kfree(char *v);
void kinit(void *vstart, void *vend);
void kframes(uint phystop);
uint kfreepages(void);
uint krefs(char *page);

// kbd.c
void kbdintr(void);

// lapic.c
extern volatile uint *lapic;
void lapiceoi(void);
void lapicinit(void);
uint lapicid(void);
void picinit(void);

// log.c
void initlog(int dev);
void log_write(struct buf *b);
void begin_op(void);
void end_op(void);

// mp.c
void mpinit(void);
extern uchar bootapicid;

// pipe.c
int pipealloc(struct file **f0, struct file **f1);
void pipeclose(struct pipe *p, int writable);
int piperead(struct pipe *p, struct memref dst, int n);
int pipewrite(struct pipe *p, struct memref src, int n);

// proc.c
void exit(void) __attribute__((noreturn));
int fork(void);
int growproc(int n);
int kill(int pid);
int killsharers(struct proc *except, uint pa);
void retwin(uint from, uint to);
void pinit(void);
void procdump(void);
void scheduler(void) __attribute__((noreturn));
void sched(void);
void sleep(void *chan);
void userinit(void);
int wait(void);
void wakeup(void *chan);
void yield(void);
extern void (*pushcli)(void);  // chosen at boot (idle=spin also reads the APIC ID)
void popcli(void);

// swtch.S
void swtch(struct context *save, struct context *resume);

// string.c
int memcmp(const void *v1, const void *v2, uint n);
void *memmove(void *dst, const void *src, uint n);
void *memset(void *dst, int c, uint n);
char *safestrcpy(char *s, const char *t, int n);
int strlen(const char *s);
int strncmp(const char *p, const char *q, uint n);
char *strncpy(char *s, const char *t, int n);

// syscall.c
int argaddr(int n, uint *va, int size);
int argint(int n, int *ip);
int argstr(int n, char *buf, uint max);
int fetchstr(uint va, char *buf, uint max);
int fetchword(uint va, uint *w);
void syscall(void);

// trap.c
void idtinit(void);
extern uint ticks;
void tvinit(void);

// uart.c
void uartinit(void);
void uartintr(void);
void uartputc(int c);

// cga.c
void cgaputc(int c);

// vm.c
void seginit(void);
void kvmalloc(uint phystop);
pde_t *setupkvm(void);
void switchuvm(struct proc *p);
void switchkvm(void);
void inituvm(pde_t *pgdir, char *init, uint sz);
int allocuvm(pde_t *pgdir, uint oldsz, uint newsz, int mirrored);
int deallocuvm(pde_t *pgdir, uint oldsz, uint newsz);
int dropmirror(pde_t *pgdir, uint va);
void freevm(pde_t *pgdir, uint sz);
void clearpteu(pde_t *pgdir, uint va);
pde_t *copyuvm(pde_t *pgdir, uint sz);
int cowfault(struct proc *p, uint va);
int knownzero(pde_t *pgdir, uint va);
int markimage(pde_t *pgdir, uint from, uint to);
int imagemarked(pde_t *pgdir, uint va);
int mapimage(pde_t *pgdir, uint va, char *mem, int mirrored);
int shareimage(pde_t *src, pde_t *dst, uint va);
#define LAZY_TWIN 2  // allocuvm: mirrored, each page known zero until its first write
int mirrorcheck(struct proc *p, int dirtyonly);
uint mirrorpages(pde_t *pgdir, uint sz);
int userpageof(struct proc *p, uint pa);
uint userframe(pde_t *pgdir, uint va);
char *frame_kva(uint pa);
extern uint mirror_half;        // the mirror reserve's start (--mirror system), or 0
int remappage(pde_t *pgdir, uint va, char *mem);
void replacetwin(pde_t *pgdir, uint sz, uint from, uint to);
int copyout(pde_t *pgdir, uint va, const void *src, uint n);
int copyin(pde_t *pgdir, void *dst, uint va, uint n);
int copyinstr(pde_t *pgdir, char *dst, uint va, uint max);
int deliver(struct memref *to, const void *src, uint n);
int collect(void *dst, struct memref *from, uint n);

// mce.c
void machinecheck(struct trapframe *tf);

// main.c: kernel options from the multiboot command line.
#define MIRRORCHECK_OFF     0
#define MIRRORCHECK_EXIT    1   // full divergence check when a mirrored process exits
#define MIRRORCHECK_SYSCALL 2   // and of the pages written since, at every system call
extern int opt_mirrorcheck;
extern int opt_readaround;      // imagepage reads around a page (readaround=off: the page alone)
extern int opt_idle_spin;       // idle by spinning (no hlt); pushcli reads the APIC ID

#define NELEM(x) (sizeof(x) / sizeof((x)[0]))
