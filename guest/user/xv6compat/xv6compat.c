// xv6compat: a program built only with xv6's conventions (its own declarations and
// system-call stubs, no MemV6 header or library, linked -N -e main -Ttext 0 without
// relocations), to check that MemV6 runs xv6 binaries unchanged.
// Prints "xv6compat ok", or "xv6compat FAILED: <step>".

// xv6's declarations, restated here.
struct stat {
  short type;
  int dev;
  unsigned int ino;
  short nlink;
  unsigned int size;
};
#define T_DIR 1
#define T_FILE 2
#define O_RDONLY 0x000
#define O_RDWR 0x002
#define O_CREATE 0x200

int fork(void);
int exit(void) __attribute__((noreturn));
int wait(void);
int pipe(int*);
int read(int, void*, int);
int write(int, const void*, int);
int close(int);
int open(const char*, int);
int fstat(int, struct stat*);
int unlink(const char*);
int mkdir(const char*);

static int
length(const char *s)
{
  int n = 0;
  while(s[n])
    n++;
  return n;
}

static void
say(const char *s)
{
  write(1, s, length(s));
}

static void
check(int ok, const char *step)
{
  if(ok)
    return;
  say("xv6compat FAILED: ");
  say(step);
  say("\n");
  exit();
}

static int
same(const char *a, const char *b, int n)
{
  int i;
  for(i = 0; i < n; i++)
    if(a[i] != b[i])
      return 0;
  return 1;
}

int
main(void)
{
  static const char text[] = "written by an xv6-style program\n";
  char buf[64];
  struct stat st;
  int fd, fds[2], pid, n = length(text);

  unlink("xv6compat.tmp");
  fd = open("xv6compat.tmp", O_CREATE | O_RDWR);
  check(fd >= 0, "open O_CREATE");
  check(write(fd, text, n) == n, "write");
  check(fstat(fd, &st) == 0, "fstat");
  check(st.type == T_FILE && st.size == (unsigned)n && st.nlink == 1, "fstat fields");
  close(fd);
  fd = open("xv6compat.tmp", O_RDONLY);
  check(fd >= 0, "open O_RDONLY");
  check(read(fd, buf, sizeof(buf)) == n && same(buf, text, n), "read back");
  close(fd);
  check(unlink("xv6compat.tmp") == 0, "unlink");

  unlink("xv6compat.dir");
  check(mkdir("xv6compat.dir") == 0, "mkdir");
  fd = open("xv6compat.dir", O_RDONLY);
  check(fd >= 0 && fstat(fd, &st) == 0 && st.type == T_DIR, "directory stat");
  close(fd);
  check(unlink("xv6compat.dir") == 0, "rmdir");

  check(pipe(fds) == 0, "pipe");
  pid = fork();
  check(pid >= 0, "fork");
  if(pid == 0){
    close(fds[0]);
    write(fds[1], "ping", 4);
    exit();
  }
  close(fds[1]);
  check(read(fds[0], buf, sizeof(buf)) == 4 && same(buf, "ping", 4), "pipe data");
  close(fds[0]);
  check(wait() == pid, "wait");
  check(wait() == -1, "wait with no children");

  say("xv6compat ok\n");
  exit();
}
