/* Arguments and the environment: argv, environ (sorted: qemu-i386 reverses its order), getenv, setenv/unsetenv. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static int by_text(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
  printf("argc %d\n", argc);
  for (int i = 1; i < argc; i++) printf("argv[%d] = \"%s\" (%zu)\n", i, argv[i], strlen(argv[i]));
  int n = 0;
  while (environ[n]) n++;
  char **sorted = malloc((n + 1) * sizeof *sorted);
  memcpy(sorted, environ, (n + 1) * sizeof *sorted);
  qsort(sorted, n, sizeof *sorted, by_text);
  for (int i = 0; i < n; i++) printf("env %s\n", sorted[i]);
  printf("HOME=%s LANG=%s missing=%s\n", getenv("HOME"), getenv("LANG"), getenv("NOPE") ? "set" : "(null)");
  setenv("ADDED", "yes", 1);
  setenv("HOME", "/elsewhere", 1);
  unsetenv("LANG");
  printf("after: ADDED=%s HOME=%s LANG=%s\n", getenv("ADDED"), getenv("HOME"), getenv("LANG") ? getenv("LANG") : "(null)");
  printf("pid positive %d, uid matches euid %d\n", getpid() > 0, getuid() == geteuid());
  return argc;
}
