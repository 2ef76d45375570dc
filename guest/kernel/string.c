// Memory and string helpers for the kernel. Forward copies and fills use the string
// instructions (the direction flag is clear in the kernel).
#include "types.h"
#include "x86.h"

void *
memset(void *dst, int c, uint n)
{
  stosb(dst, c, n);
  return dst;
}

int
memcmp(const void *a, const void *b, uint n)
{
  const uchar *p = a, *q = b;
  for (uint i = 0; i < n; i++)
    if (p[i] != q[i]) return p[i] - q[i];
  return 0;
}

// Copy n bytes; the regions may overlap. When the destination starts inside the source,
// copy from the end backwards, so no byte is overwritten before it is read.
void *
memmove(void *dst, const void *src, uint n)
{
  const char *from = src;
  char *to = dst;
  if (from < to && to < from + n) {
    while (n > 0) {
      n--;
      to[n] = from[n];
    }
  } else {
    movsb(to, from, n);
  }
  return dst;
}

// gcc may emit calls to memcpy for structure copies.
void *
memcpy(void *dst, const void *src, uint n)
{
  return memmove(dst, src, n);
}

int
strncmp(const char *a, const char *b, uint n)
{
  for (; n > 0; n--, a++, b++) {
    if (*a != *b) return (uchar)*a - (uchar)*b;
    if (*a == 0) return 0;
  }
  return 0;
}

// Copy at most n bytes of t; if t is shorter, pad with NULs to n (a directory entry's
// name is compared over all DIRSIZ bytes).
char *
strncpy(char *s, const char *t, int n)
{
  int i = 0;
  for (; i < n && t[i]; i++) s[i] = t[i];
  for (; i < n; i++) s[i] = 0;
  return s;
}

// Copy t into s, which holds n bytes: cut if need be, always NUL-terminated.
char *
safestrcpy(char *s, const char *t, int n)
{
  if (n <= 0) return s;
  int i = 0;
  for (; i < n - 1 && t[i]; i++) s[i] = t[i];
  s[i] = 0;
  return s;
}

int
strlen(const char *s)
{
  int n = 0;
  while (s[n]) n++;
  return n;
}
