/* qsort and bsearch over numbers and strings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned seed = 12345;
static unsigned next(void) { seed = seed * 1103515245u + 12345u; return seed >> 8; }

static int by_int(const void *a, const void *b) { int x = *(const int *)a, y = *(const int *)b; return (x > y) - (x < y); }
static int by_string(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static int by_double(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

int main(void) {
  enum { N = 20000, S = 2000 };
  int *v = malloc(N * sizeof *v);
  for (int i = 0; i < N; i++) v[i] = (int)next() - (1 << 23);
  qsort(v, N, sizeof *v, by_int);
  unsigned long long check = 0;
  for (int i = 0; i < N; i++) check = check * 31 + (unsigned)v[i];
  printf("ints: min %d median %d max %d check %llx\n", v[0], v[N / 2], v[N - 1], check);
  int found = 0;
  for (int i = 0; i < 1000; i++) { int key = (int)next() - (1 << 23); found += bsearch(&key, v, N, sizeof *v, by_int) != 0; }
  printf("bsearch: %d of 1000 found\n", found);
  char **words = malloc(S * sizeof *words);
  for (int i = 0; i < S; i++) {
    int len = 1 + next() % 12;
    words[i] = malloc(len + 1);
    for (int j = 0; j < len; j++) words[i][j] = 'a' + next() % 26;
    words[i][len] = 0;
  }
  qsort(words, S, sizeof *words, by_string);
  printf("words: %s %s %s ... %s\n", words[0], words[1], words[2], words[S - 1]);
  double *d = malloc(S * sizeof *d);
  for (int i = 0; i < S; i++) d[i] = (double)next() / (1 + next() % 1000) - 5000.0;
  qsort(d, S, sizeof *d, by_double);
  printf("doubles: %.10g %.10g %.10g\n", d[0], d[S / 2], d[S - 1]);
  return 0;
}
