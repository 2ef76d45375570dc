// stressfs: several processes write, read back and remove files at the same time,
// to exercise the file system's locking and its log under contention.
// Prints "stressfs ok" when every byte read back was the byte written.
#include "types.h"
#include "fcntl.h"
#include "user.h"

#define WORKERS 4
#define CHUNKS  40
#define CHUNK   1000   // deliberately not a multiple of the block size

static char data[CHUNK], check[CHUNK];

static void
fail(const char *name, const char *what)
{
  printf(1, "stressfs: %s: %s\n", name, what);
  exit();
}

static void
fill(int worker, int chunk)
{
  int i;
  for(i = 0; i < CHUNK; i++)
    data[i] = 'a' + (worker * 7 + chunk * 3 + i) % 26;
}

static void
work(int worker)
{
  char name[16];
  int fd, chunk;

  snprintf(name, sizeof(name), "stressfs%d", worker);
  unlink(name);
  if((fd = open(name, O_CREATE | O_RDWR)) < 0)
    fail(name, "cannot create");
  for(chunk = 0; chunk < CHUNKS; chunk++){
    fill(worker, chunk);
    if(write(fd, data, CHUNK) != CHUNK)
      fail(name, "short write");
  }
  close(fd);

  if((fd = open(name, O_RDONLY)) < 0)
    fail(name, "cannot reopen");
  for(chunk = 0; chunk < CHUNKS; chunk++){
    fill(worker, chunk);
    if(read(fd, check, CHUNK) != CHUNK)
      fail(name, "short read");
    if(memcmp(check, data, CHUNK) != 0)
      fail(name, "data read back differs from data written");
  }
  if(read(fd, check, 1) != 0)
    fail(name, "file longer than written");
  close(fd);
  if(unlink(name) < 0)
    fail(name, "cannot unlink");
}

int
main(void)
{
  int i, pid, ok[2];
  char c;
  int passed = 0;

  printf(1, "stressfs starting\n");
  if(pipe(ok) < 0)
    fail("pipe", "cannot create");
  for(i = 0; i < WORKERS; i++){
    pid = fork();
    if(pid < 0)
      fail("fork", "failed");
    if(pid == 0){
      close(ok[0]);
      work(i);
      write(ok[1], "y", 1);   // reached only if every check passed
      exit();
    }
  }
  close(ok[1]);
  while(read(ok[0], &c, 1) == 1)
    passed++;
  for(i = 0; i < WORKERS; i++)
    wait();
  if(passed != WORKERS)
    fail("workers", "some worker failed");
  printf(1, "stressfs ok\n");
  exit();
}
