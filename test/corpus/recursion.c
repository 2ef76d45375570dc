/* Recursion: Fibonacci, Ackermann, N-queens, permutations, Hanoi, mutual recursion, a deep stack. */
#include "corpus.h"
static u32 fib(u32 n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
static u32 ackermann(u32 m, u32 n) { return m == 0 ? n + 1 : n == 0 ? ackermann(m - 1, 1) : ackermann(m - 1, ackermann(m, n - 1)); }
static int queens(int n, int row, u32 cols, u32 d1, u32 d2) {
  if (row == n) return 1;
  int count = 0;
  for (int c = 0; c < n; c++) {
    if (cols & (1u << c) || d1 & (1u << (row + c)) || d2 & (1u << (row - c + n))) continue;
    count += queens(n, row + 1, cols | 1u << c, d1 | 1u << (row + c), d2 | 1u << (row - c + n));
  }
  return count;
}
static u32 perm_hash;
static void permute(char *s, int k, int n) {
  if (k == n) { for (int i = 0; i < n; i++) perm_hash = perm_hash * 31 + (u32)s[i]; return; }
  for (int i = k; i < n; i++) { char t = s[k]; s[k] = s[i]; s[i] = t; permute(s, k + 1, n); t = s[k]; s[k] = s[i]; s[i] = t; }
}
static u64 hanoi(int n, int from, int to, int via) { return n == 0 ? 0 : hanoi(n - 1, from, via, to) + 1 + hanoi(n - 1, via, to, from); }
static int is_odd(u32 n);
static int is_even(u32 n) { return n == 0 ? 1 : is_odd(n - 1); }
static int is_odd(u32 n) { return n == 0 ? 0 : is_even(n - 1); }
/* Uses about 1 MiB of stack: the runner must grow the stack on demand. */
static u32 deep(u32 n) { volatile char pad[200]; pad[0] = (char)n; pad[199] = (char)(n >> 8); return n == 0 ? 0 : deep(n - 1) + (u32)pad[0] + (u32)(unsigned char)pad[199]; }
int main(void) {
  line("fib(25)", fib(25));
  line("ackermann(2,300)", ackermann(2, 300));
  line("ackermann(3,5)", ackermann(3, 5));
  for (int n = 4; n <= 9; n++) { put("queens "); put_u64((u64)n); put(" "); put_u64((u64)queens(n, 0, 0, 0, 0)); put("\n"); }
  char s[] = "abcdefg"; permute(s, 0, 7); line_hex("permutations", perm_hash);
  line("hanoi(20)", hanoi(20, 0, 2, 1));
  line("even(10001)", (u64)is_even(10001));
  line("deep", deep(4000));
  return 0;
}
