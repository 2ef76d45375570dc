/* Struct copies, memset/memcpy-like loops (gcc emits rep movs/stos), bytes and words. */
#include "lib.h"
struct Big { int v[40]; char tag[13]; short w[7]; };
struct Big a, b;
static struct Big make(int seed) {
  struct Big r;
  for (int i = 0; i < 40; i++) r.v[i] = seed * i + 7;
  for (int i = 0; i < 13; i++) r.tag[i] = (char)('a' + (seed + i) % 26);
  for (int i = 0; i < 7; i++) r.w[i] = (short)(seed * 1000 + i);
  return r;
}
static void fill(char *p, int c, int n) { for (int i = 0; i < n; i++) p[i] = (char)c; }
static void copy(char *d, const char *s, int n) { for (int i = 0; i < n; i++) d[i] = s[i]; }
char buffer[300];
int main(void) {
  a = make(3);
  b = a;
  b.v[5] += a.v[6];
  struct Big local = make(5);
  local.tag[3] ^= 0x20;
  b = local;
  fill(buffer, 'x', 200);
  copy(buffer + 50, (const char *)&a, 100);
  unsigned h = 0;
  for (int i = 0; i < 300; i++) h = h * 33 + (unsigned char)buffer[i];
  for (int i = 0; i < 40; i++) h ^= b.v[i] + a.v[i];
  for (int i = 0; i < 7; i++) h += (unsigned short)b.w[i];
  print_hex(h);
  print(b.tag[0] ? "strings ok\n" : "strings bad\n");
  return 0;
}
