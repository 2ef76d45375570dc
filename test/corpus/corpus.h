/* The few helpers the CPU corpus programs share: no libc, output through write(2). */
#ifndef CORPUS_H
#define CORPUS_H
typedef unsigned int u32;
typedef unsigned long long u64;
int sys_write(int fd, const void *buf, int n);

static int c_strlen(const char *s) { int n = 0; while (s[n]) n++; return n; }
static void put(const char *s) { sys_write(1, s, c_strlen(s)); }
static void put_u64(u64 v) {
  char b[24]; int i = 23; b[i] = 0;
  do { b[--i] = (char)('0' + v % 10); v /= 10; } while (v);
  put(b + i);
}
static void put_i64(long long v) { if (v < 0) { put("-"); put_u64((u64)-v); } else put_u64((u64)v); }
static void put_hex(u32 v) {
  char b[9];
  for (int i = 0; i < 8; i++) b[i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15];
  b[8] = 0;
  put(b);
}
static void line(const char *label, u64 v) { put(label); put(" "); put_u64(v); put("\n"); }
static void line_hex(const char *label, u32 v) { put(label); put(" "); put_hex(v); put("\n"); }
static u32 lcg_state = 12345;
static u32 lcg(void) { lcg_state = lcg_state * 1103515245u + 12345u; return lcg_state >> 1; }
#endif
