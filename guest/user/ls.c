// ls [PATH...]: lists a directory's entries (or describes a file), one per line:
// NAME TYPE INODE SIZE, with TYPE 1 directory, 2 file, 3 device.
#include "types.h"
#include "stat.h"
#include "fs.h"
#include "fcntl.h"
#include "user.h"

static void
show(const char *name, struct stat *st)
{
  char padded[DIRSIZ + 1];
  int n = strlen(name);

  if(n > DIRSIZ)
    n = DIRSIZ;
  memmove(padded, name, n);
  memset(padded + n, ' ', DIRSIZ - n);
  padded[DIRSIZ] = 0;
  printf(1, "%s %d %d %d\n", padded, st->type, st->ino, st->size);
}

static const char*
last_component(const char *path)
{
  const char *base = path, *p;
  for(p = path; *p; p++)
    if(*p == '/' && p[1] != 0)
      base = p + 1;
  return base;
}

static void
list(const char *path)
{
  static char child[512];
  struct dirent entry;
  struct stat st;
  int fd, len;

  if((fd = open(path, O_RDONLY)) < 0){
    printf(2, "ls: cannot open %s\n", path);
    return;
  }
  if(fstat(fd, &st) < 0){
    printf(2, "ls: cannot stat %s\n", path);
    close(fd);
    return;
  }
  if(st.type != T_DIR){
    show(last_component(path), &st);
    close(fd);
    return;
  }
  len = strlen(path);
  if(len + 1 + DIRSIZ + 1 > (int)sizeof(child)){
    printf(2, "ls: path too long\n");
    close(fd);
    return;
  }
  strcpy(child, path);
  child[len++] = '/';
  while(read(fd, &entry, sizeof(entry)) == sizeof(entry)){
    if(entry.inum == 0)
      continue;
    memmove(child + len, entry.name, DIRSIZ);
    child[len + DIRSIZ] = 0;
    if(stat(child, &st) < 0){
      printf(2, "ls: cannot stat %s\n", child);
      continue;
    }
    show(child + len, &st);
  }
  close(fd);
}

int
main(int argc, char *argv[])
{
  int i;

  if(argc < 2)
    list(".");
  for(i = 1; i < argc; i++)
    list(argv[i]);
  exit();
}
