/* File I/O in a directory given as argv[1]: create, write, seek, read back, rename, stat, list, remove. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: files DIR\n"); return 2; }
  if (chdir(argv[1]) != 0) { perror("chdir"); return 1; }
  mkdir("sub", 0755);
  for (int i = 0; i < 12; i++) {
    char name[64];
    snprintf(name, sizeof name, i % 3 ? "file-%02d.txt" : "sub/nested-%02d.dat", i);
    FILE *f = fopen(name, "w");
    for (int line = 0; line <= i * 40; line++) fprintf(f, "%s line %d of %d\n", name, line, i * 40);
    fclose(f);
  }
  int fd = open("file-01.txt", O_RDWR);
  lseek(fd, 10, SEEK_SET);
  write(fd, "PATCHED", 7);
  off_t end = lseek(fd, 0, SEEK_END);
  char buf[64] = {0};
  pread(fd, buf, 30, 0);
  printf("file-01.txt: %ld bytes, starts \"%.30s\"\n", (long)end, buf);
  close(fd);
  rename("file-02.txt", "renamed.txt");
  unlink("file-04.txt");
  struct stat st;
  printf("stat renamed.txt: %d, size %lld, regular %d\n", stat("renamed.txt", &st), (long long)st.st_size, S_ISREG(st.st_mode));
  printf("stat file-02.txt: %d\n", stat("file-02.txt", &st));
  printf("access sub: %d, missing: %d\n", access("sub", R_OK | X_OK), access("missing", F_OK));
  const char *dirs[] = { ".", "sub" };
  for (int d = 0; d < 2; d++) {
    DIR *dir = opendir(dirs[d]);
    char *names[64];
    int n = 0;
    for (struct dirent *e; (e = readdir(dir)) && n < 64;) names[n++] = strdup(e->d_name);
    closedir(dir);
    qsort(names, n, sizeof *names, by_name);
    printf("%s:", dirs[d]);
    for (int i = 0; i < n; i++) {
      char path[300];
      snprintf(path, sizeof path, "%s/%s", dirs[d], names[i]);
      lstat(path, &st);
      printf(" %s(%c%lld)", names[i], S_ISDIR(st.st_mode) ? 'd' : 'f', S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size);
    }
    printf("\n");
  }
  FILE *f = fopen("renamed.txt", "r");
  char line[128];
  int lines = 0;
  unsigned sum = 0;
  while (fgets(line, sizeof line, f)) { lines++; for (char *p = line; *p; p++) sum = sum * 33 + (unsigned char)*p; }
  fclose(f);
  printf("renamed.txt: %d lines, hash %08x\n", lines, sum);
  char cwd[4096];
  printf("cwd ends in the directory: %d\n", getcwd(cwd, sizeof cwd) && strstr(cwd, strrchr(argv[1], '/') ? strrchr(argv[1], '/') : argv[1]) != 0);
  return 0;
}
