/* Integer arithmetic: 64-bit multiply and divide (libgcc), signed corners, bit tricks, primes, gcd. */
#include "corpus.h"
static u32 popcount(u32 x) { u32 n = 0; while (x) { x &= x - 1; n++; } return n; }
static u32 gcd(u32 a, u32 b) { while (b) { u32 t = a % b; a = b; b = t; } return a; }
static u64 gcd64(u64 a, u64 b) { while (b) { u64 t = a % b; a = b; b = t; } return a; }
static u64 isqrt(u64 n) { u64 x = n, y = (x + 1) / 2; while (y < x) { x = y; y = (x + n / x) / 2; } return x; }
static u64 powmod(u64 b, u64 e, u64 m) { u64 r = 1; b %= m; while (e) { if (e & 1) r = r * b % m; b = b * b % m; e >>= 1; } return r; }
static unsigned char sieve[100000];
int main(void) {
  u64 acc = 0; long long sacc = 0;
  for (int i = 1; i < 2000; i++) {
    u64 a = (u64)lcg() << 20 ^ lcg(), b = (lcg() | 1);
    long long sa = (long long)a - (1LL << 40), sb = (long long)(int)lcg();
    if (sb == 0) sb = 7;
    acc += a / b + a % b + a * b;
    sacc += sa / sb - sa % sb + (sa >> (i & 31)) + (long long)((u64)sa >> (i & 63));
    acc ^= (a << (i & 63)) | (a >> ((64 - (i & 63)) & 63));
  }
  line("u64 mix", acc); put("s64 mix "); put_i64(sacc); put("\n");
  int mn = -2147483647 - 1;
  line("int corners", (u64)((mn / -2) == 1073741824) + 2 * (u64)(mn % 3 == -2) + 4 * (u64)((-7 / 2) == -3) + 8 * (u64)((-7 % 2) == -1));
  u32 pc = 0; for (u32 i = 0; i < 5000; i++) pc += popcount(i * 2654435761u);
  line("popcount", pc);
  u32 g = 0; for (u32 i = 1; i < 3000; i++) g += gcd(i * 7919u, (i + 13) * 104729u);
  line("gcd", g);
  line("gcd64", gcd64(0x123456789abcdefULL * 3, 0xfedcba987654321ULL * 3));
  line("isqrt", isqrt(0xfffffffffffffULL));
  line("powmod", powmod(2, 1000003, 1000000007ULL));
  int primes = 0; u32 last = 0;
  for (u32 i = 2; i < sizeof sieve; i++) if (!sieve[i]) { primes++; last = i; for (u32 j = i * 2; j < sizeof sieve; j += i) sieve[j] = 1; }
  line("primes", (u64)primes); line("last prime", last);
  short s = 32767; s++; signed char c = 127; c++; unsigned short us = 0; us--;
  line("wrap", (u64)(s == -32768) + 2 * (u64)(c == -128) + 4 * (u64)(us == 65535));
  u32 fixed = 1 << 16; for (int i = 0; i < 20; i++) fixed = (u32)(((u64)fixed * 72089) >> 16);
  line_hex("fixed", fixed);
  long long m = 1; for (int i = 1; i <= 20; i++) m *= i;
  line("20!", (u64)m);
  return 0;
}
