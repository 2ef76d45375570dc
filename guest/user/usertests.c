// usertests: MemV6's system test, run from the shell.
//
//   usertests          run every test
//   usertests NAME...  run only the named tests
//   usertests -k ...   keep going after a failure (and end with a count of failures)
//
// Each test runs in its own child process and prints `NAME ok` when it passes; the
// last line of a full run is `ALL TESTS PASSED`. On the first failure it prints
// `NAME FAILED: why` and stops. Tests clean up what they create (and remove leftovers
// of an interrupted run before they start), so usertests can run again on the same
// disk. Everything large is static: a user stack is a single page.
//
// How a failure is noticed: every process of a test inherits the write end of
// `verdicts`, a pipe. fail() (in the test process or any of its children) writes 'F'
// there; the test process writes 'K' when its test function returns. After the test
// process exits, the runner writes 'E' and reads up to it.
#include "types.h"
#include "stat.h"
#include "fcntl.h"
#include "fs.h"
#include "user.h"

#define PGSIZE    4096
#define NOFILE    16          // open files per process (as xv6)
#define MAXARG    32          // exec arguments, argv[0] included, NULL excluded (as xv6)
#define KERNBASE  0x80000000
#define PGROUNDUP(a)   (((uint)(a) + PGSIZE - 1) & ~(PGSIZE - 1))
#define PGROUNDDOWN(a) ((uint)(a) & ~(PGSIZE - 1))

static const char *current = "usertests";
static int verdicts[2];
static char why[160];
static char buf[16384];       // scratch for file and pipe data

// ---- reporting ------------------------------------------------------------

static void fail(const char *reason) __attribute__((noreturn));

static void
fail(const char *reason)
{
  printf(1, "%s FAILED: %s\n", current, reason);
  write(verdicts[1], "F", 1);
  exit();
}

#define CHECK(cond, reason) do { if(!(cond)) fail(reason); } while(0)

// Fails with a message built like printf's (up to three int arguments).
#define FAILF(...) do { snprintf(why, sizeof(why), __VA_ARGS__); fail(why); } while(0)

// ---- helpers --------------------------------------------------------------

static int
fork_checked(void)
{
  int pid = fork();
  CHECK(pid >= 0, "fork failed");
  return pid;
}

// Waits for one particular child (children of a test are reaped by that test).
static void
wait_for(int pid)
{
  int w;
  while((w = wait()) != pid)
    CHECK(w >= 0, "wait returned -1 before the child exited");
}

static void
write_file(const char *name, const char *data, int n)
{
  int fd = open(name, O_CREATE | O_RDWR);
  CHECK(fd >= 0, "cannot create a file");
  CHECK(write(fd, data, n) == n, "short write to a new file");
  close(fd);
}

// Reads a whole (small) file into buf, NUL-terminated; returns its length.
static int
read_file(const char *name)
{
  int fd, n, total = 0;

  fd = open(name, O_RDONLY);
  CHECK(fd >= 0, "cannot open a file just written");
  while((n = read(fd, buf + total, sizeof(buf) - 1 - total)) > 0)
    total += n;
  close(fd);
  buf[total] = 0;
  return total;
}

static int
file_size(const char *name)
{
  struct stat st;
  if(stat(name, &st) < 0)
    return -1;
  return st.size;
}

static void (*probe)(void);
static volatile uint probe_address;

// Runs probe() in a child. Returns 1 if the kernel killed the child, 0 if it
// survived. (The child reports survival through a pipe; end-of-file without a
// report means it died.)
static int
killed_by(void (*fn)(void))
{
  int fds[2], pid, n;
  char c;

  CHECK(pipe(fds) == 0, "pipe failed");
  probe = fn;
  pid = fork_checked();
  if(pid == 0){
    close(fds[0]);
    probe();
    write(fds[1], "s", 1);
    exit();
  }
  close(fds[1]);
  n = read(fds[0], &c, 1);
  close(fds[0]);
  wait_for(pid);
  return n == 0;
}

static void
read_probe(void)
{
  volatile char *p = (volatile char*)probe_address;
  probe_address = *p;
}

static void
write_probe(void)
{
  volatile char *p = (volatile char*)probe_address;
  *p = 42;
}

// ---- the C library --------------------------------------------------------

static void
test_printf(void)
{
  static char out[128];
  int fds[2], n;

  snprintf(out, sizeof(out), "%d %d %d %u", 0, -42, 0x80000000, 4000000000u);
  CHECK(strcmp(out, "0 -42 -2147483648 4000000000") == 0, "%d or %u formatted wrongly");
  snprintf(out, sizeof(out), "%x %x %p", 0xdeadbeef, 0, (void*)0x1234);
  CHECK(strcmp(out, "deadbeef 0 0x00001234") == 0, "%x or %p formatted wrongly");
  snprintf(out, sizeof(out), "[%s][%s][%c]%%", "abc", (char*)0, 'z');
  CHECK(strcmp(out, "[abc][(null)][z]%") == 0, "%s, %c or %% formatted wrongly");
  CHECK(snprintf(out, 5, "%s", "truncated") == 4 && strcmp(out, "trun") == 0,
        "snprintf does not truncate to the buffer");

  CHECK(pipe(fds) == 0, "pipe failed");
  printf(fds[1], "n=%d s=%s\n", 7, "x");
  n = read(fds[0], out, sizeof(out));
  CHECK(n == 8 && memcmp(out, "n=7 s=x\n", 8) == 0, "printf to a pipe wrote the wrong bytes");
  close(fds[0]);
  close(fds[1]);
}

static void
test_strings(void)
{
  static char s[64];

  strcpy(s, "0123456789");
  memmove(s + 2, s, 5);
  CHECK(strcmp(s, "0101234789") == 0, "memmove forward overlap");
  strcpy(s, "0123456789");
  memmove(s, s + 2, 5);
  CHECK(strcmp(s, "2345656789") == 0, "memmove backward overlap");
  memset(s, 'q', 3);
  CHECK(memcmp(s, "qqq5656789", 11) == 0, "memset");
  CHECK(memcmp("abc", "abd", 3) < 0 && memcmp("abd", "abc", 3) > 0, "memcmp sign");
  CHECK(strcmp("abc", "abc") == 0 && strcmp("ab", "abc") < 0 && strcmp("b", "a") > 0,
        "strcmp");
  CHECK(strlen("") == 0 && strlen("hello") == 5, "strlen");
  CHECK(strchr("hello", 'l') != 0 && *strchr("hello", 'l') == 'l' && strchr("hello", 'z') == 0,
        "strchr");
  CHECK(atoi("1234") == 1234 && atoi("-56") == -56 && atoi("7x") == 7, "atoi");
}

static void
test_malloc(void)
{
  static char *blocks[300];
  static uint sizes[300];
  char *top_before, *top_after, *big;
  int i, j, n = 0;
  uint total = 0;

  // Many blocks of assorted sizes, each filled with its own byte.
  for(i = 0; i < 300 && total < 1024 * 1024; i++){
    sizes[i] = 1 + (i * 1777) % 9000;
    blocks[i] = malloc(sizes[i]);
    CHECK(blocks[i] != 0, "malloc returned 0 with plenty of memory");
    CHECK(((uint)blocks[i] & 7) == 0, "malloc result not 8-byte aligned");
    memset(blocks[i], i & 0xff, sizes[i]);
    total += sizes[i];
    n++;
  }
  for(i = 0; i < n; i++)
    for(j = 0; j < (int)sizes[i]; j += 97)
      CHECK(blocks[i][j] == (char)(i & 0xff), "malloc blocks overlap");
  for(i = 0; i < n; i += 2)      // free in two passes, to exercise merging
    free(blocks[i]);
  for(i = 1; i < n; i += 2)
    free(blocks[i]);
  // Everything was freed and merged: a block of half the total fits without growing.
  top_before = sbrk(0);
  big = malloc(total / 2);
  top_after = sbrk(0);
  CHECK(big != 0, "malloc after free returned 0");
  CHECK(top_before == top_after, "free did not merge neighbouring blocks");
  free(big);
  CHECK(malloc(0x7ffffff0) == 0, "malloc of 2 GiB did not fail");
}

static char zeroes[10000];
static int initialised[4] = { 1, 2, 3, 4 };

static void
test_bss(void)
{
  int i;
  for(i = 0; i < (int)sizeof(zeroes); i++)
    CHECK(zeroes[i] == 0, "bss not zero");
  CHECK(initialised[0] == 1 && initialised[3] == 4, "initialised data wrong");
}

// ---- processes ------------------------------------------------------------

static void
test_getpid(void)
{
  int fds[2], pid, reported = 0, me = getpid();

  CHECK(me > 0, "getpid not positive");
  CHECK(pipe(fds) == 0, "pipe failed");
  pid = fork_checked();
  if(pid == 0){
    int mine = getpid();
    write(fds[1], &mine, sizeof(mine));
    exit();
  }
  CHECK(read(fds[0], &reported, sizeof(reported)) == sizeof(reported), "no pid from child");
  CHECK(reported == pid, "fork's return value is not the child's getpid");
  CHECK(reported != me, "child has its parent's pid");
  CHECK(getpid() == me, "parent's pid changed");
  wait_for(pid);
  close(fds[0]);
  close(fds[1]);
}

static void
test_forkwait(void)
{
  static int pids[40];
  int i, j, w, n = 40;

  for(i = 0; i < n; i++){
    pids[i] = fork_checked();
    if(pids[i] == 0)
      exit();
  }
  for(i = 0; i < n; i++){
    w = wait();
    CHECK(w > 0, "wait returned -1 with children left");
    for(j = 0; j < n && pids[j] != w; j++)
      ;
    CHECK(j < n, "wait returned a pid that is not a child");
    pids[j] = -1;
  }
  CHECK(wait() == -1, "wait found an extra child");
}

static void
test_waitnone(void)
{
  CHECK(wait() == -1, "wait with no children did not return -1");
  CHECK(wait() == -1, "second wait with no children did not return -1");
}

static void
test_exitorder(void)
{
  // The parent exits after its child: the child's exit is collected, then nothing.
  int pid = fork_checked();
  if(pid == 0){
    sleep(3);
    exit();
  }
  CHECK(wait() == pid, "wait did not return the sleeping child");
  CHECK(wait() == -1, "wait found an extra child");
}

static void
test_orphan(void)
{
  int fds[2], child, n;
  char c;

  CHECK(pipe(fds) == 0, "pipe failed");
  child = fork_checked();
  if(child == 0){
    if(fork_checked() == 0){
      // The grandchild outlives its parent and is adopted by init.
      sleep(5);
      write(fds[1], "g", 1);
      exit();
    }
    exit();
  }
  close(fds[1]);
  CHECK(wait() == child, "wait did not return the child");
  CHECK(wait() == -1, "a grandchild was returned by wait");
  n = read(fds[0], &c, 1);
  CHECK(n == 1 && c == 'g', "the orphaned grandchild did not run on");
  CHECK(read(fds[0], &c, 1) == 0, "pipe not at end-of-file after the orphan exited");
  close(fds[0]);
}

static void
test_forkmax(void)
{
  int fds[2], n, pid;
  char c;

  CHECK(pipe(fds) == 0, "pipe failed");
  for(n = 0; n < 1000; n++){
    pid = fork();
    if(pid < 0)
      break;
    if(pid == 0){
      close(fds[1]);
      read(fds[0], &c, 1);    // parked until the parent closes its end
      exit();
    }
  }
  CHECK(n < 1000, "fork never failed");
  if(n < 8)
    FAILF("only %d processes could be created", n);
  close(fds[1]);
  close(fds[0]);
  for(; n > 0; n--)
    CHECK(wait() > 0, "wait lost a child");
  CHECK(wait() == -1, "wait found an extra child");
  // The process table has room again.
  pid = fork_checked();
  if(pid == 0)
    exit();
  wait_for(pid);
}

static void
test_kill(void)
{
  int pid = fork_checked();
  if(pid == 0){
    volatile int spin = 0;
    for(;;)
      spin++;
  }
  sleep(2);
  CHECK(kill(pid) == 0, "kill of a running child failed");
  CHECK(wait() == pid, "killed child not returned by wait");
}

static void
test_killsleeping(void)
{
  int pid, start;

  pid = fork_checked();
  if(pid == 0){
    sleep(100000);
    exit();
  }
  sleep(2);
  start = uptime();
  CHECK(kill(pid) == 0, "kill of a sleeping child failed");
  CHECK(wait() == pid, "killed child not returned by wait");
  CHECK(uptime() - start < 100, "a sleeping child took too long to die");
}

static void
test_killpipe(void)
{
  int fds[2], pid;
  char c;

  CHECK(pipe(fds) == 0, "pipe failed");
  pid = fork_checked();
  if(pid == 0){
    read(fds[0], &c, 1);    // blocks: nobody ever writes
    exit();
  }
  sleep(2);
  CHECK(kill(pid) == 0, "kill of a child blocked in read failed");
  CHECK(wait() == pid, "child blocked in read was not killed");
  close(fds[0]);
  close(fds[1]);
}

static void
test_killbad(void)
{
  CHECK(kill(-1) == -1, "kill(-1) did not fail");
  CHECK(kill(0) == -1, "kill(0) did not fail");
  CHECK(kill(1000000) == -1, "kill of a missing pid did not fail");
}

// ---- exec -----------------------------------------------------------------

// usertests re-executes itself as `/usertests -args FD COUNT LENGTH ARG...` to check
// the arguments it was given (see check_args); ARG i is made by make_arg.
#define ARG_SPACE 1100
static char arg_store[48][ARG_SPACE];
static char *exec_argv[64];
static char fd_text[8], count_text[8], length_text[8];

static void
make_arg(char *out, int i, int length)
{
  int j;
  for(j = 0; j < length; j++)
    out[j] = 'a' + (i * 7 + j) % 26;
  out[length] = 0;
}

// Fills exec_argv for `count` arguments in all, the generated ones `length` long.
static void
build_args(int fd, int count, int length)
{
  int i;

  snprintf(fd_text, sizeof(fd_text), "%d", fd);
  snprintf(count_text, sizeof(count_text), "%d", count);
  snprintf(length_text, sizeof(length_text), "%d", length);
  exec_argv[0] = "/usertests";
  exec_argv[1] = "-args";
  exec_argv[2] = fd_text;
  exec_argv[3] = count_text;
  exec_argv[4] = length_text;
  for(i = 5; i < count; i++){
    make_arg(arg_store[i], i, length);
    exec_argv[i] = arg_store[i];
  }
  exec_argv[count] = 0;
}

// The re-executed side: report 'Y' on fd if every argument is as expected.
static void
check_args(int argc, char **argv)
{
  int fd = atoi(argv[2]), count = atoi(argv[3]), length = atoi(argv[4]), i;
  static char expected[ARG_SPACE];

  if(argc != count){
    printf(1, "exec FAILED: argc is %d, expected %d\n", argc, count);
    exit();
  }
  if(argv[argc] != 0){
    printf(1, "exec FAILED: argv[argc] is not NULL\n");
    exit();
  }
  for(i = 5; i < argc; i++){
    make_arg(expected, i, length);
    if(strcmp(argv[i], expected) != 0){
      printf(1, "exec FAILED: argument %d arrived damaged\n", i);
      exit();
    }
  }
  if(((uint)argv & 3) != 0 || ((uint)&fd & 3) != 0){
    printf(1, "exec FAILED: misaligned stack or argv\n");
    exit();
  }
  write(fd, "Y", 1);
  exit();
}

// Execs usertests with the given arguments in a child; returns 1 if the new image
// confirmed them, 0 if exec failed (the child then reports 'N').
static int
exec_with_args(int count, int length)
{
  int fds[2], pid, n;
  char c = 0;

  CHECK(pipe(fds) == 0, "pipe failed");
  pid = fork_checked();
  if(pid == 0){
    close(fds[0]);
    build_args(fds[1], count, length);
    exec(exec_argv[0], exec_argv);
    write(fds[1], "N", 1);
    exit();
  }
  close(fds[1]);
  n = read(fds[0], &c, 1);
  close(fds[0]);
  wait_for(pid);
  CHECK(n == 1, "the exec'd program died without reporting");
  return c == 'Y';
}

static void
test_execargs(void)
{
  CHECK(exec_with_args(6, 3), "exec with a few arguments failed");
  CHECK(exec_with_args(MAXARG - 1, 20), "exec with the most arguments allowed failed");
}

static void
test_execlong(void)
{
  // About 2.5 KiB of argument strings: fits on the one-page user stack.
  CHECK(exec_with_args(10, 250), "exec with long arguments failed");
  CHECK(exec_with_args(5, 1000), "exec with 1000-byte arguments failed");
}

static void
test_exectoomany(void)
{
  CHECK(!exec_with_args(MAXARG + 8, 4), "exec with too many arguments succeeded");
}

static void
test_exectoobig(void)
{
  // 28 KiB of arguments cannot fit on the one-page user stack: exec must fail cleanly.
  CHECK(!exec_with_args(MAXARG - 1, ARG_SPACE - 1), "exec with 28 KiB of arguments succeeded");
}

static void
test_execbad(void)
{
  static char *argv[] = { "x", 0 };
  static char elf_head[64];
  int fd, n;

  CHECK(exec("/no-such-program", argv) == -1, "exec of a missing file did not fail");
  CHECK(exec("/", argv) == -1, "exec of a directory did not fail");

  unlink("notelf");
  write_file("notelf", "#!/bin/sh\necho this is not an ELF file\n", 40);
  CHECK(exec("notelf", argv) == -1, "exec of a text file did not fail");
  CHECK(unlink("notelf") == 0, "unlink failed");

  // Only the first 64 bytes of a real program: the header is fine, the rest missing.
  fd = open("/echo", O_RDONLY);
  CHECK(fd >= 0, "cannot open /echo");
  n = read(fd, elf_head, sizeof(elf_head));
  close(fd);
  CHECK(n == sizeof(elf_head), "cannot read /echo");
  unlink("halfelf");
  write_file("halfelf", elf_head, n);
  CHECK(exec("halfelf", argv) == -1, "exec of a truncated ELF file did not fail");
  CHECK(unlink("halfelf") == 0, "unlink failed");
}

static void
test_execout(void)
{
  static char *argv[] = { "echo", "hello", "from", "exec", 0 };
  int pid;

  unlink("execout");
  pid = fork_checked();
  if(pid == 0){
    close(1);
    if(open("execout", O_CREATE | O_WRONLY) != 1)
      fail("open did not reuse the lowest free fd");
    exec("/echo", argv);
    fail("exec /echo failed");
  }
  wait_for(pid);
  CHECK(read_file("execout") == 16 && strcmp(buf, "hello from exec\n") == 0,
        "echo's output is wrong");
  CHECK(unlink("execout") == 0, "unlink failed");
}

static void
test_execpipe(void)
{
  // echo's output flows through `cat` into this process.
  static char *argv[] = { "cat", 0 };
  int in[2], out[2], pid, n, total = 0;

  CHECK(pipe(in) == 0 && pipe(out) == 0, "pipe failed");
  pid = fork_checked();
  if(pid == 0){
    close(0);
    dup(in[0]);
    close(1);
    dup(out[1]);
    close(in[0]); close(in[1]); close(out[0]); close(out[1]);
    exec("/cat", argv);
    fail("exec /cat failed");
  }
  close(in[0]);
  close(out[1]);
  CHECK(write(in[1], "through a pipe\n", 15) == 15, "write to cat's input failed");
  close(in[1]);
  while((n = read(out[0], buf + total, sizeof(buf) - total)) > 0)
    total += n;
  close(out[0]);
  wait_for(pid);
  CHECK(total == 15 && memcmp(buf, "through a pipe\n", 15) == 0, "cat did not copy its input");
}

// ---- memory ---------------------------------------------------------------

static void
test_sbrkgrow(void)
{
  char *start = sbrk(0), *p;
  int i;

  for(i = 0; i < 5000; i++){
    p = sbrk(1);
    CHECK(p == start + i, "sbrk(1) did not return the old break");
    *p = (char)i;
  }
  for(i = 0; i < 5000; i++)
    CHECK(start[i] == (char)i, "grown memory lost its contents");
  p = sbrk(1 << 20);
  CHECK(p == start + 5000, "sbrk(1 MiB) did not return the old break");
  p[0] = 1;
  p[(1 << 20) - 1] = 2;
  CHECK(sbrk(-(1 << 20) - 5000) == start + 5000 + (1 << 20), "sbrk(-n) returned the wrong value");
  CHECK(sbrk(0) == start, "sbrk did not shrink back");
}

static void
touch_freed(void)
{
  read_probe();
}

static void
test_sbrkshrink(void)
{
  char *p;

  sbrk(PGROUNDUP(sbrk(0)) - (uint)sbrk(0));   // page-align the break
  p = sbrk(4 * PGSIZE);
  CHECK(p != (char*)-1, "sbrk failed");
  memset(p, 'm', 4 * PGSIZE);
  CHECK(sbrk(-4 * PGSIZE) == p + 4 * PGSIZE, "sbrk(-n) returned the wrong value");
  CHECK(sbrk(0) == p, "break not lowered");
  probe_address = (uint)p;
  CHECK(killed_by(touch_freed), "reading memory given back with sbrk did not fault");
  probe_address = (uint)p + 4 * PGSIZE - 1;
  CHECK(killed_by(touch_freed), "reading the last freed byte did not fault");
  // Memory handed out again must be zero, not the old contents.
  CHECK(sbrk(4 * PGSIZE) == p, "sbrk regrow failed");
  CHECK(p[0] == 0 && p[PGSIZE] == 0 && p[4 * PGSIZE - 1] == 0, "regrown memory not zeroed");
  sbrk(-4 * PGSIZE);
}

static void
test_sbrkfork(void)
{
  int n = 64 * 1024, i, pid;
  char *p = sbrk(n);

  CHECK(p != (char*)-1, "sbrk failed");
  for(i = 0; i < n; i++)
    p[i] = i % 251;
  pid = fork_checked();
  if(pid == 0){
    for(i = 0; i < n; i++)
      if(p[i] != (char)(i % 251))
        fail("child's copy of the heap differs");
    memset(p, 0, n);
    exit();
  }
  wait_for(pid);
  for(i = 0; i < n; i++)
    CHECK(p[i] == (char)(i % 251), "child's writes reached the parent's heap");
  sbrk(-n);
}

static void
test_sbrkhuge(void)
{
  char *before = sbrk(0);

  CHECK(sbrk(0x40000000) == (char*)-1, "sbrk past 1 GiB did not fail");
  CHECK(sbrk(0x7fffffff) == (char*)-1, "sbrk of 2 GiB did not fail");
  CHECK(sbrk(0) == before, "a failed sbrk moved the break");
  before[-1] = 1;    // still alive and writable
}

static void
test_sbrkarg(void)
{
  // Freshly grown memory is usable as a system-call buffer.
  char *p = sbrk(PGSIZE);
  int fd;

  CHECK(p != (char*)-1, "sbrk failed");
  memset(p, 's', PGSIZE);
  unlink("sbrkarg");
  fd = open("sbrkarg", O_CREATE | O_RDWR);
  CHECK(fd >= 0, "cannot create sbrkarg");
  CHECK(write(fd, p, PGSIZE) == PGSIZE, "write from new memory failed");
  close(fd);
  CHECK(unlink("sbrkarg") == 0, "unlink failed");
  CHECK(pipe((int*)p) == 0, "pipe into new memory failed");
  close(((int*)p)[0]);
  close(((int*)p)[1]);
  sbrk(-PGSIZE);
}

static void
test_memexhaust(void)
{
  // Grow 1 MiB at a time until sbrk fails or 64 MiB is reached (bounded, so the
  // test stays quick on slow emulators); touch every page; then give it all back.
  char *start = sbrk(0), *p;
  int mib, i;

  for(mib = 0; mib < 64; mib++){
    p = sbrk(1 << 20);
    if(p == (char*)-1)
      break;
    for(i = 0; i < (1 << 20); i += PGSIZE)
      p[i] = mib;
  }
  CHECK(mib >= 16, "could not allocate even 16 MiB");
  for(i = 0; i < mib; i++)
    CHECK(start[(i << 20) + PGSIZE] == (char)i, "allocated memory lost its contents");
  CHECK(sbrk(-(mib << 20)) != (char*)-1, "freeing the memory failed");
  CHECK(sbrk(0) == start, "break did not return to the start");
  // And it really was given back: a child can allocate it again. All but 1 MiB: the
  // parent stopped when less than 1 MiB was left (a few pages, perhaps), and the fork
  // itself takes some (the child's kernel stack, page tables, pages each copies on write).
  probe_address = mib;
  if(fork_checked() == 0){
    p = sbrk((mib - 1) << 20);
    if(p == (char*)-1)
      fail("memory freed by the parent could not be allocated again");
    exit();
  }
  CHECK(wait() > 0, "wait failed");
}

static void
test_memleak(void)
{
  // 100 children each take 2 MiB and exit: if exit or wait leaked memory, 200 MiB
  // would run out on a 256 MiB machine.
  int i, pid;

  for(i = 0; i < 100; i++){
    pid = fork_checked();
    if(pid == 0){
      char *p = sbrk(2 << 20);
      int j;
      if(p == (char*)-1)
        fail("sbrk(2 MiB) failed: memory leaked by earlier children?");
      for(j = 0; j < (2 << 20); j += PGSIZE)
        p[j] = 1;
      exit();
    }
    wait_for(pid);
  }
}

// ---- protection -----------------------------------------------------------

static void
test_kernelread(void)
{
  static const uint addresses[] = { KERNBASE, KERNBASE + 0x100000, 0xC0000000, 0xFFFFF000 };
  int i;
  for(i = 0; i < 4; i++){
    probe_address = addresses[i];
    if(!killed_by(read_probe))
      FAILF("reading kernel address %p did not kill the process", (void*)addresses[i]);
  }
}

static void
test_kernelwrite(void)
{
  static const uint addresses[] = { KERNBASE, KERNBASE + 0x100000, 0xC0000000, 0xFFFFF000 };
  int i;
  for(i = 0; i < 4; i++){
    probe_address = addresses[i];
    if(!killed_by(write_probe))
      FAILF("writing kernel address %p did not kill the process", (void*)addresses[i]);
  }
}

static void
test_unmapped(void)
{
  // Between the top of the heap and KERNBASE nothing is mapped.
  probe_address = PGROUNDUP(sbrk(0)) + 16 * PGSIZE;
  CHECK(killed_by(read_probe), "reading above the heap did not fault");
  probe_address = 0x3ff00000;
  CHECK(killed_by(write_probe), "writing just below 1 GiB did not fault");
}

static void
below_stack(void)
{
  int here;
  // The page below the stack page is the guard page.
  probe_address = PGROUNDDOWN(&here) - 8;
  read_probe();
}

static volatile int recursion_limit = 0x7fffffff;  // volatile: the compiler may not
                                                  // prove the recursion endless

static int
recurse(int n)
{
  volatile char frame[200];
  frame[0] = n;
  if(n >= recursion_limit)
    return 0;
  return recurse(n + 1) + frame[0];
}

static void
overflow_stack(void)
{
  recurse(0);
}

static void
test_stackguard(void)
{
  CHECK(killed_by(below_stack), "reading the guard page below the stack did not fault");
  CHECK(killed_by(overflow_stack), "unbounded recursion was not stopped");
}

// ---- bad pointers ---------------------------------------------------------

// Every system call that takes a pointer must reject a bad one with -1.
static void
test_badptr(void)
{
  uint top = PGROUNDUP(sbrk(0));
  uint bad[] = { top + PGSIZE, KERNBASE, KERNBASE + 0x100000, 0xFFFFFFF0 };
  static char *good_argv[] = { "echo", 0 };
  char *bad_argv[2];
  int i, fd, rfd;

  unlink("badptr");
  write_file("badptr", "0123456789abcdef", 16);
  rfd = open("badptr", O_RDWR);
  CHECK(rfd >= 0, "cannot open badptr");
  for(i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++){
    char *p = (char*)bad[i];
    #define BAD(call) do { if((call) != -1) \
      FAILF("%s accepted the bad pointer %p", #call, p); } while(0)
    BAD(read(rfd, p, 10));
    BAD(write(rfd, p, 10));
    BAD(pipe((int*)p));
    BAD(fstat(rfd, (struct stat*)p));
    BAD(open(p, O_RDONLY));
    BAD(open(p, O_CREATE | O_RDWR));
    BAD(mknod(p, 1, 1));
    BAD(unlink(p));
    BAD(link(p, "badptr.link"));
    BAD(link("badptr", p));
    BAD(mkdir(p));
    BAD(chdir(p));
    BAD(exec(p, good_argv));
    BAD(exec("/echo", (char**)p));
    bad_argv[0] = p;
    bad_argv[1] = 0;
    BAD(exec("/echo", bad_argv));
    #undef BAD
  }
  // A buffer that starts inside the process and runs off its end.
  sbrk(top - (uint)sbrk(0));
  CHECK(read(rfd, (char*)top - 5, 10) == -1, "read into a buffer crossing the top of memory");
  CHECK(write(rfd, (char*)top - 5, 10) == -1, "write from a buffer crossing the top of memory");
  // A path whose terminating NUL would lie past the end of memory.
  memset((char*)top - 8, 'a', 8);
  CHECK(open((char*)top - 8, O_RDONLY) == -1, "open of an unterminated path");
  CHECK(mkdir((char*)top - 8) == -1, "mkdir of an unterminated path");
  close(rfd);
  fd = open("badptr.link", O_RDONLY);
  CHECK(fd < 0, "a link was made through a bad pointer");
  CHECK(unlink("badptr") == 0, "unlink failed");
}

static void
test_argptest(void)
{
  // A negative length, and a buffer at the very top of memory.
  int fd = open("/echo", O_RDONLY);
  CHECK(fd >= 0, "cannot open /echo");
  CHECK(read(fd, sbrk(0) - 1, -1) == -1, "read with a negative length did not fail");
  CHECK(write(1, "", -5) == -1, "write with a negative length did not fail");
  CHECK(read(fd, sbrk(0) - 1, 1) == 1, "a one-byte read into the last byte failed");
  close(fd);
}

// ---- pipes ----------------------------------------------------------------

static void
test_pipedata(void)
{
  int fds[2], pid, i, n, expected = 0, total = 0, want = 5;
  static char out[1031];

  CHECK(pipe(fds) == 0, "pipe failed");
  pid = fork_checked();
  if(pid == 0){
    close(fds[0]);
    for(n = 0; n < 5; n++){
      for(i = 0; i < (int)sizeof(out); i++)
        out[i] = (char)(n * sizeof(out) + i);
      if(write(fds[1], out, sizeof(out)) != sizeof(out))
        fail("short pipe write");
    }
    exit();
  }
  close(fds[1]);
  while((n = read(fds[0], buf, want)) > 0){
    for(i = 0; i < n; i++)
      CHECK(buf[i] == (char)expected++, "pipe data out of order");
    total += n;
    want = want * 2 > (int)sizeof(buf) ? 7 : want * 2;
  }
  CHECK(total == 5 * (int)sizeof(out), "pipe lost data");
  close(fds[0]);
  wait_for(pid);
}

static void
write_to_readerless_pipe(void)
{
  int fds[2];
  if(pipe(fds) != 0)
    fail("pipe failed");
  close(fds[0]);
  if(write(fds[1], "x", 1) != -1)
    fail("write to a pipe without readers did not fail");
}

static void
test_pipeclose(void)
{
  int fds[2];
  char c;

  CHECK(pipe(fds) == 0, "pipe failed");
  CHECK(write(fds[1], "ab", 2) == 2, "write failed");
  close(fds[1]);
  CHECK(read(fds[0], &c, 1) == 1 && c == 'a', "first byte lost");
  CHECK(read(fds[0], &c, 1) == 1 && c == 'b', "second byte lost");
  CHECK(read(fds[0], &c, 1) == 0, "no end-of-file once the writer closed");
  close(fds[0]);
  // Writing with no reader fails (a child does it, in case the kernel kills instead).
  CHECK(!killed_by(write_to_readerless_pipe), "writing to a pipe without readers killed the writer");
}

static void
test_pipewriters(void)
{
  int fds[2], i, n, pid, counts[8];

  CHECK(pipe(fds) == 0, "pipe failed");
  for(i = 0; i < 8; i++){
    pid = fork_checked();
    if(pid == 0){
      static char out[300];
      close(fds[0]);
      memset(out, 'A' + i, sizeof(out));
      for(n = 0; n < 3; n++)
        if(write(fds[1], out, sizeof(out)) != sizeof(out))
          fail("short write");
      exit();
    }
  }
  close(fds[1]);
  memset(counts, 0, sizeof(counts));
  while((n = read(fds[0], buf, sizeof(buf))) > 0){
    for(i = 0; i < n; i++){
      CHECK(buf[i] >= 'A' && buf[i] < 'A' + 8, "garbage in the pipe");
      counts[buf[i] - 'A']++;
    }
  }
  for(i = 0; i < 8; i++)
    CHECK(counts[i] == 900, "a writer's bytes went missing");
  for(i = 0; i < 8; i++)
    CHECK(wait() > 0, "wait failed");
  close(fds[0]);
}

static void
test_pipebig(void)
{
  // One write much bigger than the pipe's buffer: the writer must block and resume.
  static char big[40000];
  int fds[2], pid, n, total = 0, i;

  CHECK(pipe(fds) == 0, "pipe failed");
  pid = fork_checked();
  if(pid == 0){
    close(fds[0]);
    for(i = 0; i < (int)sizeof(big); i++)
      big[i] = i % 253;
    if(write(fds[1], big, sizeof(big)) != sizeof(big))
      fail("big pipe write was short");
    exit();
  }
  close(fds[1]);
  while((n = read(fds[0], big + total, sizeof(big) - total)) > 0)
    total += n;
  CHECK(total == sizeof(big), "big pipe transfer lost bytes");
  for(i = 0; i < total; i++)
    CHECK(big[i] == (char)(i % 253), "big pipe transfer corrupted");
  close(fds[0]);
  wait_for(pid);
}

// ---- files ----------------------------------------------------------------

static void
test_smallfile(void)
{
  int fd, i;
  struct stat st;

  unlink("small");
  fd = open("small", O_CREATE | O_RDWR);
  CHECK(fd >= 0, "create failed");
  for(i = 0; i < 100; i++){
    snprintf(buf, 11, "line %d.........", i);
    buf[9] = '\n';
    CHECK(write(fd, buf, 10) == 10, "write failed");
  }
  CHECK(fstat(fd, &st) == 0 && st.size == 1000, "size not 1000 after writing 1000 bytes");
  close(fd);
  fd = open("small", O_RDONLY);
  CHECK(fd >= 0, "reopen failed");
  for(i = 0; i < 100; i++){
    static char expected[16];
    snprintf(expected, 11, "line %d.........", i);
    expected[9] = '\n';
    CHECK(read(fd, buf, 10) == 10, "short read");
    CHECK(memcmp(buf, expected, 10) == 0, "read back different data");
  }
  CHECK(read(fd, buf, 10) == 0, "data past the end of the file");
  close(fd);
  CHECK(unlink("small") == 0, "unlink failed");
  CHECK(open("small", O_RDONLY) < 0, "file still there after unlink");
}

// 3 MiB = 3072 blocks: past the 11 direct and 256 indirect blocks, into the
// doubly-indirect ones.
#define BIG_BLOCKS 3072

static void
fill_block(char *b, uint n)
{
  uint i;
  for(i = 0; i < BSIZE; i += 4)
    *(uint*)(b + i) = n * 1000003 + i;   // unsigned: wraps, no overflow
}

static void
test_bigfile(void)
{
  static char expected[BSIZE];
  int fd, n, chunk = 8;
  struct stat st;

  unlink("bigfile");
  fd = open("bigfile", O_CREATE | O_RDWR);
  CHECK(fd >= 0, "create failed");
  for(n = 0; n < BIG_BLOCKS; n += chunk){
    int k;
    for(k = 0; k < chunk; k++)
      fill_block(buf + k * BSIZE, n + k);
    if(write(fd, buf, chunk * BSIZE) != chunk * BSIZE)
      FAILF("write failed at block %d", n);
  }
  CHECK(fstat(fd, &st) == 0 && st.size == BIG_BLOCKS * BSIZE, "wrong size after writing");
  close(fd);

  fd = open("bigfile", O_RDONLY);
  CHECK(fd >= 0, "reopen failed");
  for(n = 0; n < BIG_BLOCKS; n++){
    // Odd-sized reads, so requests straddle block boundaries.
    int got = 0, r;
    while(got < BSIZE){
      r = read(fd, buf + got, BSIZE - got < 700 ? BSIZE - got : 700);
      if(r <= 0)
        FAILF("read failed at block %d", n);
      got += r;
    }
    fill_block(expected, n);
    if(memcmp(buf, expected, BSIZE) != 0)
      FAILF("block %d read back wrong", n);
  }
  CHECK(read(fd, buf, 1) == 0, "data past the end");
  close(fd);
  CHECK(unlink("bigfile") == 0, "unlink failed");
}

static void
test_createagain(void)
{
  // O_CREATE on an existing file opens it (xv6 has no O_TRUNC): the old bytes stay
  // and writing starts at offset 0.
  struct stat st;
  int fd;

  unlink("again");
  write_file("again", "hello world", 11);
  fd = open("again", O_CREATE | O_WRONLY);
  CHECK(fd >= 0, "O_CREATE of an existing file failed");
  CHECK(fstat(fd, &st) == 0 && st.size == 11 && st.nlink == 1, "existing file changed by O_CREATE");
  CHECK(write(fd, "HE", 2) == 2, "write failed");
  close(fd);
  CHECK(read_file("again") == 11 && strcmp(buf, "HEllo world") == 0, "O_CREATE rewrote the wrong bytes");
  mkdir("again.dir");
  CHECK(open("again.dir", O_CREATE | O_RDWR) < 0, "O_CREATE opened a directory for writing");
  CHECK(unlink("again.dir") == 0 && unlink("again") == 0, "unlink failed");
}

static void
test_offsets(void)
{
  int a, b, c, pid;
  char x;

  unlink("offsets");
  write_file("offsets", "abcdefghij", 10);
  a = open("offsets", O_RDONLY);
  b = open("offsets", O_RDONLY);
  CHECK(a >= 0 && b >= 0, "open failed");
  CHECK(read(a, buf, 3) == 3 && memcmp(buf, "abc", 3) == 0, "read a");
  CHECK(read(b, buf, 2) == 2 && memcmp(buf, "ab", 2) == 0, "two opens share an offset");
  c = dup(a);
  CHECK(read(c, &x, 1) == 1 && x == 'd', "dup did not share the offset");
  CHECK(read(a, &x, 1) == 1 && x == 'e', "dup did not share the offset back");
  pid = fork_checked();
  if(pid == 0){
    if(read(a, &x, 1) != 1 || x != 'f')
      fail("child did not inherit the offset");
    exit();
  }
  wait_for(pid);
  CHECK(read(a, &x, 1) == 1 && x == 'g', "child's read did not move the shared offset");
  CHECK(read(a, buf, 100) == 3, "read at the end returned the wrong count");
  CHECK(read(a, buf, 100) == 0, "read past the end did not return 0");
  close(a); close(b); close(c);
  CHECK(unlink("offsets") == 0, "unlink failed");
}

static void
test_sharedfd(void)
{
  int fd, pid, i, n, counts[2] = { 0, 0 };

  unlink("sharedfd");
  fd = open("sharedfd", O_CREATE | O_RDWR);
  CHECK(fd >= 0, "create failed");
  pid = fork_checked();
  memset(buf, pid == 0 ? 'c' : 'p', 10);
  for(i = 0; i < 300; i++)
    if(write(fd, buf, 10) != 10)
      fail("write failed");
  if(pid == 0)
    exit();
  wait_for(pid);
  close(fd);
  fd = open("sharedfd", O_RDONLY);
  CHECK(fd >= 0, "reopen failed");
  while((n = read(fd, buf, sizeof(buf))) > 0)
    for(i = 0; i < n; i++){
      CHECK(buf[i] == 'c' || buf[i] == 'p', "interleaved writes corrupted the file");
      counts[buf[i] == 'p']++;
    }
  close(fd);
  CHECK(counts[0] == 3000 && counts[1] == 3000, "writes through a shared fd were lost");
  CHECK(unlink("sharedfd") == 0, "unlink failed");
}

static void
test_unlinkopen(void)
{
  struct stat st;
  int fd, fd2;

  unlink("unlinked");
  write_file("unlinked", "original", 8);
  fd = open("unlinked", O_RDWR);
  CHECK(fd >= 0, "open failed");
  CHECK(unlink("unlinked") == 0, "unlink failed");
  CHECK(open("unlinked", O_RDONLY) < 0, "name still there after unlink");
  CHECK(fstat(fd, &st) == 0 && st.nlink == 0, "unlinked file's nlink is not 0");
  // A new file of the same name is a different file.
  write_file("unlinked", "replacement", 11);
  fd2 = open("unlinked", O_RDONLY);
  CHECK(read(fd, buf, 100) == 8 && memcmp(buf, "original", 8) == 0, "open fd lost the unlinked data");
  CHECK(write(fd, "+more", 5) == 5, "cannot write to an unlinked open file");
  CHECK(read(fd2, buf, 100) == 11 && memcmp(buf, "replacement", 11) == 0, "new file got old data");
  close(fd);
  close(fd2);
  CHECK(unlink("unlinked") == 0, "unlink of the new file failed");
}

static void
test_writeread(void)
{
  // Writes of many sizes up to 1.3 KiB, back to back, read back in one go.
  int fd, i, n, total = 0, pos;

  unlink("sizes");
  fd = open("sizes", O_CREATE | O_RDWR);
  CHECK(fd >= 0, "create failed");
  for(n = 1; n < 1300; n += 71){
    for(i = 0; i < n; i++)
      buf[i] = (char)(n + i);
    CHECK(write(fd, buf, n) == n, "short write");
    total += n;
  }
  close(fd);
  CHECK(file_size("sizes") == total, "file size wrong");
  CHECK(read_file("sizes") == total, "read back a different length");
  pos = 0;
  for(n = 1; n < 1300; n += 71)
    for(i = 0; i < n; i++)
      CHECK(buf[pos++] == (char)(n + i), "data read back wrong");
  CHECK(unlink("sizes") == 0, "unlink failed");
}

static void
test_readonly(void)
{
  int fd;

  unlink("ro");
  write_file("ro", "data", 4);
  fd = open("ro", O_RDONLY);
  CHECK(fd >= 0, "open failed");
  CHECK(write(fd, "x", 1) == -1, "write to a read-only fd succeeded");
  close(fd);
  fd = open("ro", O_WRONLY);
  CHECK(fd >= 0, "open O_WRONLY failed");
  CHECK(read(fd, buf, 1) == -1, "read from a write-only fd succeeded");
  close(fd);
  CHECK(read_file("ro") == 4 && strcmp(buf, "data") == 0, "read-only fd changed the file");
  CHECK(unlink("ro") == 0, "unlink failed");
}

static void
test_openmissing(void)
{
  CHECK(open("no-such-file", O_RDONLY) == -1, "open of a missing file succeeded");
  CHECK(open("no-such-dir/file", O_RDONLY) == -1, "open in a missing directory succeeded");
  CHECK(open("no-such-dir/file", O_CREATE | O_RDWR) == -1, "create in a missing directory succeeded");
  CHECK(open("/no-such-dir/", O_RDONLY) == -1, "open of a missing directory path succeeded");
}

// ---- directories ----------------------------------------------------------

static void
test_mkdir(void)
{
  struct stat st;

  unlink("md/a/b/file");
  unlink("md/a/b");
  unlink("md/a");
  unlink("md");
  CHECK(mkdir("md") == 0, "mkdir failed");
  CHECK(mkdir("md") == -1, "mkdir of an existing name succeeded");
  CHECK(mkdir("md/a") == 0 && mkdir("md/a/b") == 0, "nested mkdir failed");
  CHECK(mkdir("md/x/y") == -1, "mkdir under a missing directory succeeded");
  write_file("md/a/b/file", "deep", 4);
  CHECK(stat("md/a/b/file", &st) == 0 && st.type == T_FILE && st.size == 4, "deep file wrong");
  CHECK(stat("md/a/b", &st) == 0 && st.type == T_DIR, "nested directory is not a directory");
  CHECK(stat("md/a/b/..", &st) == 0 && stat("md/a", &st) == 0, "..");
  CHECK(stat("/md/a/./b/../b/file", &st) == 0 && st.size == 4, "path with . and .. not resolved");
  CHECK(unlink("md/a/b/file") == 0 && unlink("md/a/b") == 0 && unlink("md/a") == 0
        && unlink("md") == 0, "cleanup failed");
}

static void
test_chdir(void)
{
  struct stat st, root;

  unlink("cd.dir/sub/f");
  unlink("cd.dir/sub");
  unlink("cd.dir");
  CHECK(mkdir("cd.dir") == 0 && mkdir("cd.dir/sub") == 0, "mkdir failed");
  CHECK(chdir("cd.dir") == 0, "chdir failed");
  write_file("sub/f", "x", 1);
  CHECK(chdir("sub/../..") == 0, "chdir with .. failed");
  CHECK(stat("cd.dir/sub/f", &st) == 0, "file made after chdir is in the wrong place");
  CHECK(chdir("cd.dir/sub/f") == -1, "chdir into a file succeeded");
  CHECK(chdir("no-such-dir") == -1, "chdir into a missing directory succeeded");
  CHECK(chdir("/..") == 0 && stat(".", &st) == 0 && stat("/", &root) == 0, "chdir /..");
  CHECK(st.ino == ROOTINO && root.ino == ROOTINO, "the root's .. is not the root");
  CHECK(unlink("cd.dir/sub/f") == 0 && unlink("cd.dir/sub") == 0 && unlink("cd.dir") == 0,
        "cleanup failed");
}

static void
test_rmdir(void)
{
  unlink("rd/f");
  unlink("rd/d");
  unlink("rd");
  CHECK(mkdir("rd") == 0, "mkdir failed");
  write_file("rd/f", "x", 1);
  CHECK(unlink("rd") == -1, "unlink of a directory holding a file succeeded");
  CHECK(unlink("rd/f") == 0, "unlink failed");
  CHECK(mkdir("rd/d") == 0, "mkdir failed");
  CHECK(unlink("rd") == -1, "unlink of a directory holding a directory succeeded");
  CHECK(unlink("rd/d") == 0, "unlink of an empty directory failed");
  CHECK(unlink("rd") == 0, "unlink of a now-empty directory failed");
  CHECK(open("rd", O_RDONLY) < 0, "directory still there");
}

static void
test_unlinkdot(void)
{
  unlink("ud");
  CHECK(mkdir("ud") == 0, "mkdir failed");
  CHECK(unlink("ud/.") == -1, "unlink of . succeeded");
  CHECK(unlink("ud/..") == -1, "unlink of .. succeeded");
  CHECK(chdir("ud") == 0, "chdir failed");
  CHECK(unlink(".") == -1, "unlink(\".\") succeeded");
  CHECK(unlink("..") == -1, "unlink(\"..\") succeeded");
  CHECK(chdir("/") == 0, "chdir / failed");
  CHECK(unlink("ud") == 0, "unlink of the directory failed");
}

static void
test_dirfile(void)
{
  int fd;

  unlink("dirfile");
  write_file("dirfile", "", 0);
  CHECK(open("dirfile/x", O_CREATE | O_RDWR) == -1, "created a file inside a file");
  CHECK(open("dirfile/x", O_RDONLY) == -1, "opened a file inside a file");
  CHECK(mkdir("dirfile/x") == -1, "made a directory inside a file");
  CHECK(link("dirfile", "dirfile/x") == -1, "linked into a file");
  CHECK(unlink("dirfile/x") == -1, "unlinked inside a file");
  CHECK(chdir("dirfile") == -1, "chdir into a file");
  CHECK(unlink("dirfile") == 0, "unlink failed");

  fd = open(".", O_RDWR);
  CHECK(fd < 0, "opened a directory for reading and writing");
  fd = open(".", O_WRONLY);
  CHECK(fd < 0, "opened a directory for writing");
  fd = open(".", O_RDONLY);
  CHECK(fd >= 0, "cannot open a directory for reading");
  CHECK(write(fd, "x", 1) == -1, "wrote to a directory");
  close(fd);
}

static void
test_dirread(void)
{
  // A directory reads as 16-byte entries, "." and ".." first.
  struct dirent de;
  int fd, found = 0;

  unlink("dr/entry");
  unlink("dr");
  CHECK(mkdir("dr") == 0, "mkdir failed");
  write_file("dr/entry", "", 0);
  fd = open("dr", O_RDONLY);
  CHECK(fd >= 0, "open failed");
  CHECK(read(fd, &de, sizeof(de)) == sizeof(de) && strcmp(de.name, ".") == 0, "first entry not .");
  CHECK(read(fd, &de, sizeof(de)) == sizeof(de) && strcmp(de.name, "..") == 0 && de.inum == ROOTINO,
        "second entry not .. (the root)");
  while(read(fd, &de, sizeof(de)) == sizeof(de))
    if(de.inum != 0 && strncmp(de.name, "entry", DIRSIZ) == 0)
      found++;
  close(fd);
  CHECK(found == 1, "entry not found exactly once");
  CHECK(unlink("dr/entry") == 0 && unlink("dr") == 0, "cleanup failed");
}

static void
test_links(void)
{
  struct stat st, st2;
  int fd;

  unlink("lk.a");
  unlink("lk.b");
  write_file("lk.a", "shared", 6);
  CHECK(link("lk.a", "lk.b") == 0, "link failed");
  CHECK(stat("lk.a", &st) == 0 && stat("lk.b", &st2) == 0, "stat failed");
  CHECK(st.ino == st2.ino && st.nlink == 2 && st2.nlink == 2, "link count not 2");
  CHECK(link("lk.a", "lk.b") == -1, "link onto an existing name succeeded");
  CHECK(link("lk.missing", "lk.c") == -1, "link from a missing file succeeded");
  fd = open("lk.b", O_RDWR);
  CHECK(fd >= 0 && write(fd, "SH", 2) == 2, "write through the second name failed");
  close(fd);
  CHECK(read_file("lk.a") == 6 && strcmp(buf, "SHared") == 0, "names do not share data");
  CHECK(unlink("lk.a") == 0, "unlink failed");
  CHECK(stat("lk.b", &st) == 0 && st.nlink == 1, "link count not 1 after unlink");
  CHECK(read_file("lk.b") == 6, "data lost with the first name");
  CHECK(unlink("lk.b") == 0, "unlink failed");
  CHECK(stat("lk.b", &st) == -1, "file still there");
}

static void
test_linkdir(void)
{
  unlink("ld.dir");
  CHECK(mkdir("ld.dir") == 0, "mkdir failed");
  CHECK(link("ld.dir", "ld.link") == -1, "link to a directory succeeded");
  CHECK(link(".", "ld.link") == -1, "link to . succeeded");
  CHECK(link("/", "ld.link") == -1, "link to / succeeded");
  unlink("ld.link");
  CHECK(unlink("ld.dir") == 0, "unlink failed");
}

static void
test_manyfiles(void)
{
  // 200 entries: the directory grows to several blocks.
  static char name[16];
  int i, fd, count = 0;
  struct dirent de;

  unlink("mf");
  for(i = 0; i < 200; i++){
    snprintf(name, sizeof(name), "mf/f%d", i);
    unlink(name);
  }
  unlink("mf");
  CHECK(mkdir("mf") == 0, "mkdir failed");
  for(i = 0; i < 200; i++){
    snprintf(name, sizeof(name), "mf/f%d", i);
    fd = open(name, O_CREATE | O_RDWR);
    if(fd < 0)
      FAILF("cannot create file %d", i);
    write(fd, name, strlen(name));
    close(fd);
  }
  fd = open("mf", O_RDONLY);
  while(read(fd, &de, sizeof(de)) == sizeof(de))
    if(de.inum != 0)
      count++;
  close(fd);
  CHECK(count == 202, "directory does not hold 200 entries plus . and ..");
  for(i = 0; i < 200; i++){
    snprintf(name, sizeof(name), "mf/f%d", i);
    if(read_file(name) != (int)strlen(name) || strcmp(buf, name) != 0)
      FAILF("file %d has the wrong contents", i);
    if(unlink(name) != 0)
      FAILF("cannot unlink file %d", i);
  }
  CHECK(unlink("mf") == 0, "the emptied directory could not be removed");
}

static void
test_concreate(void)
{
  // Two processes create and remove the same names at once; whatever the
  // interleaving, every name ends up absent and the directory removable.
  static char name[16];
  int pid, i, round, fd;

  unlink("cc");
  for(i = 0; i < 30; i++){
    snprintf(name, sizeof(name), "cc/n%d", i);
    unlink(name);
  }
  unlink("cc");
  CHECK(mkdir("cc") == 0, "mkdir failed");
  pid = fork_checked();
  for(round = 0; round < 3; round++){
    for(i = 0; i < 30; i++){
      snprintf(name, sizeof(name), "cc/n%d", i);
      if(((i + round) & 1) == (pid == 0)){
        fd = open(name, O_CREATE | O_RDWR);
        if(fd < 0)
          fail("create failed");
        close(fd);
      } else {
        unlink(name);
      }
    }
  }
  if(pid == 0)
    exit();
  wait_for(pid);
  for(i = 0; i < 30; i++){
    snprintf(name, sizeof(name), "cc/n%d", i);
    unlink(name);
  }
  CHECK(unlink("cc") == 0, "directory not empty after concurrent create/unlink");
}

static void
test_longname(void)
{
  // Names are at most DIRSIZ (14) bytes; longer names compare by their first 14.
  struct stat a, b;

  unlink("abcdefghijklmn");
  write_file("abcdefghijklmn", "14", 2);
  CHECK(stat("abcdefghijklmn", &a) == 0, "14-byte name not found");
  CHECK(stat("abcdefghijklmnopq", &b) == 0 && a.ino == b.ino, "long name not cut to 14 bytes");
  CHECK(stat("abcdefghijklm", &b) == -1, "13-byte prefix found a 14-byte name");
  CHECK(unlink("abcdefghijklmn") == 0, "unlink failed");

  // Directories with 14-byte names, nested.
  unlink("12345678901234/12345678901234/f");
  unlink("12345678901234/12345678901234");
  unlink("12345678901234");
  CHECK(mkdir("12345678901234") == 0, "mkdir with a 14-byte name failed");
  CHECK(mkdir("12345678901234/12345678901234") == 0, "nested 14-byte mkdir failed");
  write_file("12345678901234/12345678901234/f", "f", 1);
  CHECK(stat("12345678901234/12345678901234/f", &a) == 0, "file in 14-byte directories");
  CHECK(unlink("12345678901234/12345678901234/f") == 0 &&
        unlink("12345678901234/12345678901234") == 0 && unlink("12345678901234") == 0,
        "cleanup failed");
}

static void
test_inodechurn(void)
{
  // More creates than there are inodes (1024): unlink must free each inode.
  int i, fd;

  unlink("churn");
  for(i = 0; i < 1100; i++){
    if(i & 1){
      if(mkdir("churn") != 0)
        FAILF("mkdir failed on round %d (inodes leaked?)", i);
    } else {
      fd = open("churn", O_CREATE | O_RDWR);
      if(fd < 0)
        FAILF("create failed on round %d (inodes leaked?)", i);
      write(fd, "z", 1);    // and a data block, to churn the free map too
      close(fd);
    }
    if(unlink("churn") != 0)
      FAILF("unlink failed on round %d", i);
  }
}

// ---- file descriptors -----------------------------------------------------

static void
test_dup(void)
{
  int fd, copy;

  unlink("dupfile");
  fd = open("dupfile", O_CREATE | O_RDWR);
  CHECK(fd >= 0, "create failed");
  copy = dup(fd);
  CHECK(copy > fd, "dup did not return a new descriptor");
  CHECK(write(fd, "one ", 4) == 4 && write(copy, "two", 3) == 3, "write failed");
  close(fd);
  CHECK(write(copy, "!", 1) == 1, "dup'ed fd died with the original");
  CHECK(dup(copy) == fd, "dup did not reuse the lowest free descriptor");
  close(fd);
  close(copy);
  CHECK(read_file("dupfile") == 8 && strcmp(buf, "one two!") == 0, "writes through dup'ed fds");
  CHECK(dup(-1) == -1 && dup(NOFILE) == -1 && dup(1000) == -1 && dup(fd) == -1,
        "dup of a bad descriptor succeeded");
  CHECK(unlink("dupfile") == 0, "unlink failed");
}

static void
test_fdexhaust(void)
{
  // Open until the table is full. The test process holds 0, 1, 2 and the
  // runner's pipe, so NOFILE - 5 more fit.
  static int fds[NOFILE + 4];
  int n, i;

  for(n = 0; n < NOFILE + 4; n++){
    fds[n] = open("/echo", O_RDONLY);
    if(fds[n] < 0)
      break;
  }
  if(n != NOFILE - 5)
    FAILF("opened %d files, expected %d", n, NOFILE - 5);
  CHECK(dup(0) == -1, "dup with a full table succeeded");
  CHECK(pipe(fds + n) == -1, "pipe with a full table succeeded");
  close(fds[0]);
  CHECK(pipe(fds + n) == -1, "pipe with one free slot succeeded");
  CHECK(open("/echo", O_RDONLY) == fds[0], "a freed descriptor was not reused");
  for(i = 0; i < n; i++)
    close(fds[i]);
  CHECK(close(-1) == -1 && close(NOFILE) == -1 && close(fds[0]) == -1,
        "close of a bad descriptor succeeded");
  CHECK(read(NOFILE + 3, buf, 1) == -1 && write(99, buf, 1) == -1, "I/O on a bad descriptor");
}

static void
test_fstat(void)
{
  struct stat st, by_name;
  int fd;

  unlink("fs.f");
  write_file("fs.f", "12345", 5);
  fd = open("fs.f", O_RDONLY);
  CHECK(fd >= 0 && fstat(fd, &st) == 0, "fstat failed");
  CHECK(stat("fs.f", &by_name) == 0, "stat failed");
  CHECK(st.type == T_FILE && st.size == 5 && st.nlink == 1, "file fields wrong");
  CHECK(st.ino == by_name.ino && st.ino > ROOTINO, "inode number wrong");
  close(fd);
  CHECK(fstat(fd, &st) == -1, "fstat of a closed fd succeeded");
  CHECK(unlink("fs.f") == 0, "unlink failed");
  CHECK(stat("/", &st) == 0 && st.type == T_DIR && st.ino == ROOTINO, "root fields wrong");
  CHECK(st.size % sizeof(struct dirent) == 0 && st.size >= 2 * sizeof(struct dirent),
        "root directory size wrong");
  CHECK(stat("/console", &st) == 0 && st.type == T_DEV, "console is not a device");
}

// ---- time -----------------------------------------------------------------

static void
test_uptime(void)
{
  int start, after;

  start = uptime();
  CHECK(start >= 0, "uptime negative");
  CHECK(sleep(10) == 0, "sleep failed");
  after = uptime();
  if(after - start < 10 || after - start > 200)
    FAILF("sleep(10) took %d ticks", after - start);
  start = uptime();
  sleep(0);
  CHECK(uptime() - start < 5, "sleep(0) slept");
}

// ---- the list -------------------------------------------------------------

struct test {
  const char *name;
  void (*run)(void);
};

static struct test tests[] = {
  { "printf", test_printf },
  { "strings", test_strings },
  { "malloc", test_malloc },
  { "bss", test_bss },
  { "getpid", test_getpid },
  { "forkwait", test_forkwait },
  { "waitnone", test_waitnone },
  { "exitorder", test_exitorder },
  { "orphan", test_orphan },
  { "forkmax", test_forkmax },
  { "kill", test_kill },
  { "killsleeping", test_killsleeping },
  { "killpipe", test_killpipe },
  { "killbad", test_killbad },
  { "execargs", test_execargs },
  { "execlong", test_execlong },
  { "exectoomany", test_exectoomany },
  { "exectoobig", test_exectoobig },
  { "execbad", test_execbad },
  { "execout", test_execout },
  { "execpipe", test_execpipe },
  { "sbrkgrow", test_sbrkgrow },
  { "sbrkshrink", test_sbrkshrink },
  { "sbrkfork", test_sbrkfork },
  { "sbrkhuge", test_sbrkhuge },
  { "sbrkarg", test_sbrkarg },
  { "memexhaust", test_memexhaust },
  { "memleak", test_memleak },
  { "kernelread", test_kernelread },
  { "kernelwrite", test_kernelwrite },
  { "unmapped", test_unmapped },
  { "stackguard", test_stackguard },
  { "badptr", test_badptr },
  { "argptest", test_argptest },
  { "pipedata", test_pipedata },
  { "pipeclose", test_pipeclose },
  { "pipewriters", test_pipewriters },
  { "pipebig", test_pipebig },
  { "smallfile", test_smallfile },
  { "bigfile", test_bigfile },
  { "createagain", test_createagain },
  { "offsets", test_offsets },
  { "sharedfd", test_sharedfd },
  { "unlinkopen", test_unlinkopen },
  { "writeread", test_writeread },
  { "readonly", test_readonly },
  { "openmissing", test_openmissing },
  { "mkdir", test_mkdir },
  { "chdir", test_chdir },
  { "rmdir", test_rmdir },
  { "unlinkdot", test_unlinkdot },
  { "dirfile", test_dirfile },
  { "dirread", test_dirread },
  { "links", test_links },
  { "linkdir", test_linkdir },
  { "manyfiles", test_manyfiles },
  { "concreate", test_concreate },
  { "longname", test_longname },
  { "inodechurn", test_inodechurn },
  { "dup", test_dup },
  { "fdexhaust", test_fdexhaust },
  { "fstat", test_fstat },
  { "uptime", test_uptime },
};

#define NTESTS ((int)(sizeof(tests) / sizeof(tests[0])))

// Runs one test in a child process; returns 1 if it passed.
static int
run_test(struct test *t)
{
  int pid, w, finished = 0, failed = 0;
  char c;

  current = t->name;
  pid = fork();
  if(pid < 0){
    printf(1, "%s FAILED: cannot fork the test process\n", t->name);
    return 0;
  }
  if(pid == 0){
    t->run();
    write(verdicts[1], "K", 1);
    exit();
  }
  while((w = wait()) != pid && w >= 0)
    ;
  write(verdicts[1], "E", 1);
  while(read(verdicts[0], &c, 1) == 1 && c != 'E'){
    if(c == 'K')
      finished = 1;
    if(c == 'F')
      failed = 1;
  }
  if(failed)
    return 0;        // fail() has said why
  if(!finished){
    printf(1, "%s FAILED: the test process died (killed by the kernel?)\n", t->name);
    return 0;
  }
  printf(1, "%s ok\n", t->name);
  return 1;
}

int
main(int argc, char *argv[])
{
  int i, j, ran = 0, failures = 0, keep_going = 0;

  if(argc >= 5 && strcmp(argv[1], "-args") == 0)
    check_args(argc, argv);
  if(argc > 1 && strcmp(argv[1], "-k") == 0){
    keep_going = 1;
    argv[1] = argv[0];
    argc--;
    argv++;
  }
  if(pipe(verdicts) != 0){
    printf(1, "usertests: cannot create a pipe\n");
    exit();
  }
  printf(1, "usertests starting\n");
  for(i = 0; i < NTESTS; i++){
    if(argc > 1){
      for(j = 1; j < argc && strcmp(argv[j], tests[i].name) != 0; j++)
        ;
      if(j == argc)
        continue;
    }
    ran++;
    if(!run_test(&tests[i])){
      failures++;
      if(!keep_going)
        exit();
    }
  }
  if(ran == 0){
    printf(1, "usertests: no test named");
    for(j = 1; j < argc; j++)
      printf(1, " %s", argv[j]);
    printf(1, "\n");
    exit();
  }
  if(failures > 0)
    printf(1, "%d TESTS FAILED\n", failures);
  else
    printf(1, "ALL TESTS PASSED\n");
  exit();
}
