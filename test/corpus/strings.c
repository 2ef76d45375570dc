/* String handling: length, compare, copy, reverse, number formatting and parsing, search, words. */
#include "corpus.h"
static int c_strcmp(const char *a, const char *b) { while (*a && *a == *b) { a++; b++; } return (unsigned char)*a - (unsigned char)*b; }
static char *c_strcpy(char *d, const char *s) { char *r = d; while ((*d++ = *s++)) {} return r; }
static char *c_strcat(char *d, const char *s) { c_strcpy(d + c_strlen(d), s); return d; }
static void reverse(char *s) { int n = c_strlen(s); for (int i = 0, j = n - 1; i < j; i++, j--) { char t = s[i]; s[i] = s[j]; s[j] = t; } }
static void itoa_base(long long v, int base, char *out) {
  char *p = out; int neg = v < 0; u64 u = neg ? (u64)-v : (u64)v;
  do { int d = (int)(u % (u64)base); *p++ = (char)(d < 10 ? '0' + d : 'a' + d - 10); u /= (u64)base; } while (u);
  if (neg) *p++ = '-';
  *p = 0; reverse(out);
}
static long long atoi_base(const char *s, int base) {
  long long v = 0; int neg = 0;
  if (*s == '-') { neg = 1; s++; }
  for (; *s; s++) { int d = *s >= 'a' ? *s - 'a' + 10 : *s - '0'; v = v * base + d; }
  return neg ? -v : v;
}
static int kmp_search(const char *text, const char *pat, int *fail) {
  int m = c_strlen(pat), count = 0; fail[0] = -1;
  for (int i = 1, k = -1; i < m; i++) { while (k >= 0 && pat[k + 1] != pat[i]) k = fail[k]; if (pat[k + 1] == pat[i]) k++; fail[i] = k; }
  for (int i = 0, k = -1; text[i]; i++) {
    while (k >= 0 && pat[k + 1] != text[i]) k = fail[k];
    if (pat[k + 1] == text[i]) k++;
    if (k == m - 1) { count++; k = fail[k]; }
  }
  return count;
}
static int words(const char *s) { int n = 0, in = 0; for (; *s; s++) { int sp = *s == ' ' || *s == '\n' || *s == '\t'; if (!sp && !in) n++; in = !sp; } return n; }
static void upper(char *s) { for (; *s; s++) if (*s >= 'a' && *s <= 'z') *s = (char)(*s - 32); }
static char text[8192];
int main(int argc, char **argv) {
  static const char *vocab[] = { "memory ", "mirror ", "fault ", "page ", "kernel ", "the ", "of ", "a\t", "write\n", "read " };
  text[0] = 0;
  for (int i = 0; i < 700; i++) c_strcat(text, vocab[lcg() % 10]);
  line("length", (u64)c_strlen(text));
  line("words", (u64)words(text));
  int fail[64];
  line("mirror", (u64)kmp_search(text, "mirror", fail));
  line("the page", (u64)kmp_search(text, "the page", fail));
  char buf[80];
  long long values[] = { 0, 1, -1, 123456789, -987654321, 0x7fffffffffffffffLL, -0x7fffffffffffffffLL, 4096 };
  for (int i = 0; i < 8; i++) for (int base = 2; base <= 16; base += 7) {
    itoa_base(values[i], base, buf);
    put(buf); put(atoi_base(buf, base) == values[i] ? " ok\n" : " BAD\n");
  }
  c_strcpy(buf, "Hello, memvisor");
  upper(buf); reverse(buf); put(buf); put("\n");
  line("cmp", (u64)(c_strcmp("abc", "abd") < 0) + 2 * (u64)(c_strcmp("b", "a") > 0) + 4 * (u64)(c_strcmp("x", "x") == 0));
  for (int i = 0; i < argc; i++) { put("arg "); put(argv[i][0] == '/' || argv[i][0] == '.' ? "(path)" : argv[i]); put("\n"); }
  return argc;
}
