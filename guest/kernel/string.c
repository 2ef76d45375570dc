// Memory and string helpers.
#include "types.h"
#include "x86.h"

void *
memset(void *dst, int c, uint n)
{
  stosb(dst, c, n);
  return dst;
}

int
memcmp(const void *v1, const void *v2, uint n)
{
  const uchar *a = v1, *b = v2;
  for (; n > 0; n--, a++, b++)
    if (*a != *b) return *a - *b;
  return 0;
}

void *
memmove(void *dst, const void *src, uint n)
{
  const char *s = src;
  char *d = dst;
  if (s < d && s + n > d) {  // overlapping, copy backwards
    s += n;
    d += n;
    while (n-- > 0) *--d = *--s;
  } else {
    movsb(d, s, n);
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
strncmp(const char *p, const char *q, uint n)
{
  while (n > 0 && *p && *p == *q) n--, p++, q++;
  if (n == 0) return 0;
  return (uchar)*p - (uchar)*q;
}

char *
strncpy(char *s, const char *t, int n)
{
  char *os = s;
  while (n-- > 0 && (*s++ = *t++) != 0)
    ;
  while (n-- > 0) *s++ = 0;
  return os;
}

// Like strncpy but always NUL-terminates.
char *
safestrcpy(char *s, const char *t, int n)
{
  char *os = s;
  if (n <= 0) return os;
  while (--n > 0 && (*s++ = *t++) != 0)
    ;
  *s = 0;
  return os;
}

int
strlen(const char *s)
{
  int n = 0;
  while (s[n]) n++;
  return n;
}
