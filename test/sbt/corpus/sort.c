/* Sorting through a comparison callback, 64-bit arithmetic, bit fields, a state machine. */
#include "lib.h"
typedef int (*compare)(const void *, const void *);
static int by_value(const void *x, const void *y) { int a = *(const int *)x, b = *(const int *)y; return (a > b) - (a < b); }
static int by_reverse(const void *x, const void *y) { return by_value(y, x); }
static void sort(int *v, int n, compare less) {
  for (int i = 1; i < n; i++) {
    int key = v[i], j = i - 1;
    while (j >= 0 && less(&v[j], &key) > 0) { v[j + 1] = v[j]; j--; }
    v[j + 1] = key;
  }
}
struct Flags { unsigned a : 3, b : 5, c : 11; } flags[16];
int data[100];
unsigned long long total;
int main(void) {
  unsigned seed = 12345;
  for (int i = 0; i < 100; i++) { seed = seed * 1103515245u + 12345u; data[i] = (int)(seed >> 8) % 1000; }
  compare fns[2] = { by_value, by_reverse };
  for (int round = 0; round < 2; round++) {
    sort(data, 100, fns[round]);
    unsigned h = 0;
    for (int i = 0; i < 100; i++) h = h * 7 + data[i];
    print_hex(h);
  }
  for (int i = 0; i < 16; i++) { flags[i].a = i; flags[i].b = i * 3; flags[i].c = i * 100; total += (unsigned long long)flags[i].c << 33; }
  total ^= total >> 7;
  print_hex((unsigned)total); print_hex((unsigned)(total >> 32));
  int state = 0, count = 0;
  for (int i = 0; i < 50; i++) {
    switch (state) { case 0: state = data[i] & 1 ? 1 : 2; break; case 1: state = 3; count++; break; case 2: state = 0; break; case 3: state = data[i] % 3; count += 2; break; }
  }
  print_hex(count);
  return count & 0x7f;
}
