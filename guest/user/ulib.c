// The string and memory routines every MemV6 program links with.
// Forward block copies and fills use the string instructions (with the direction flag
// clear, as the ABI guarantees): short, and fast on QEMU and memvisor's interpreter.
#include "types.h"
#include "stat.h"
#include "fcntl.h"
#include "user.h"

void*
memset(void *dst, int c, uint n)
{
  void *d = dst;
  asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory", "cc");
  return dst;
}

// Copies n bytes; the regions may overlap. An overlapping copy to a higher address
// goes backwards, byte by byte: the direction flag stays clear, as the ABI (and the
// binary translator) expect.
void*
memmove(void *dst, const void *src, int n)
{
  void *d = dst;
  const void *s = src;
  if(n <= 0)
    return dst;
  if((const char*)s < (char*)d && (const char*)s + n > (char*)d){
    char *to = (char*)d + n;
    const char *from = (const char*)s + n;
    while(n-- > 0)
      *--to = *--from;
  } else {
    asm volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory", "cc");
  }
  return dst;
}

// The compiler may call memcpy for structure copies.
void*
memcpy(void *dst, const void *src, uint n)
{
  return memmove(dst, src, n);
}

int
memcmp(const void *a, const void *b, uint n)
{
  const uchar *p = a, *q = b;
  for(; n > 0; n--, p++, q++)
    if(*p != *q)
      return *p - *q;
  return 0;
}

uint
strlen(const char *s)
{
  uint n = 0;
  while(s[n])
    n++;
  return n;
}

char*
strcpy(char *dst, const char *src)
{
  char *d = dst;
  while((*d++ = *src++) != 0)
    ;
  return dst;
}

int
strcmp(const char *a, const char *b)
{
  while(*a && *a == *b){
    a++;
    b++;
  }
  return (uchar)*a - (uchar)*b;
}

int
strncmp(const char *a, const char *b, uint n)
{
  for(; n > 0; n--, a++, b++){
    if(*a != *b)
      return (uchar)*a - (uchar)*b;
    if(*a == 0)
      return 0;
  }
  return 0;
}

// The first c in s (c may be the terminating NUL), or 0.
char*
strchr(const char *s, char c)
{
  for(;; s++){
    if(*s == c)
      return (char*)s;
    if(*s == 0)
      return 0;
  }
}

// Reads one line from fd 0 into buf, keeping the newline, and NUL-terminates it.
// Stops early at end of input or when buf is full; an empty buf means end of input.
char*
gets(char *buf, int max)
{
  int n = 0;
  char c;

  while(n + 1 < max){
    if(read(0, &c, 1) != 1)
      break;
    buf[n++] = c;
    if(c == '\n' || c == '\r')
      break;
  }
  buf[n] = 0;
  return buf;
}

// Decimal, with an optional leading minus sign; stops at the first non-digit.
int
atoi(const char *s)
{
  int value = 0, negative = 0;

  if(*s == '-'){
    negative = 1;
    s++;
  }
  while(*s >= '0' && *s <= '9')
    value = value * 10 + (*s++ - '0');
  return negative ? -value : value;
}

int
stat(const char *path, struct stat *st)
{
  int fd, r;

  fd = open(path, O_RDONLY);
  if(fd < 0)
    return -1;
  r = fstat(fd, st);
  close(fd);
  return r;
}
