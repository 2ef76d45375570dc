/* Globals, structs, recursion, a dense switch (jump table), a function-pointer table, x87. */
#include "lib.h"
int g[64];
struct S { int a; char b; short c; long long d; } s;
static int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
typedef int (*fn)(int);
static int twice(int x) { return 2 * x; }
static int square(int x) { return x * x; }
fn table[] = { twice, square, fib };
int pick(int x) {
  switch (x) { case 0: return 11; case 1: return 22; case 2: return 33; case 3: return 44; case 4: return 55; case 5: return 66; case 6: return 77; default: return 0; }
}
int main(void) {
  print("mixed\n");
  for (int i = 0; i < 64; i++) g[i] = i * i;
  s.a = 1; s.b = 2; s.c = 3; s.d = 0x123456789LL; s.d += g[5];
  unsigned h = 0;
  for (int i = 0; i < 64; i++) h = h * 31 + g[i];
  print_hex(h); print_hex(fib(15)); print_hex((unsigned)(s.d >> 8));
  for (int i = 0; i < 3; i++) print_hex(table[i](7));
  for (int i = 0; i < 8; i++) print_hex(pick(i));
  double d = 1.5;
  for (int i = 0; i < 5; i++) d *= 1.1;
  print_hex((int)(d * 1000));
  return 3;
}
