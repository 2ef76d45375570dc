// printf(fd, fmt, ...) and snprintf. Output is gathered in a small buffer and written
// with as few write() calls as possible, so a line reaches the console in one piece
// even when several processes print at once.
#include "types.h"
#include "user.h"

typedef __builtin_va_list va_list;
#define va_start(ap, last) __builtin_va_start(ap, last)
#define va_arg(ap, type) __builtin_va_arg(ap, type)
#define va_end(ap) __builtin_va_end(ap)

// Where formatted characters go: a file descriptor (flushed when the buffer fills)
// or a caller's string (truncated when it fills).
struct sink {
  int fd;          // -1 for a string sink
  char *buf;
  int size;        // capacity of buf
  int len;         // characters in buf now
  int total;       // characters produced so far
};

static void
flush(struct sink *out)
{
  if(out->fd >= 0 && out->len > 0)
    write(out->fd, out->buf, out->len);
  if(out->fd >= 0)
    out->len = 0;
}

static void
emit(struct sink *out, char c)
{
  out->total++;
  if(out->fd < 0){
    if(out->len + 1 < out->size)
      out->buf[out->len++] = c;
    return;
  }
  if(out->len == out->size)
    flush(out);
  out->buf[out->len++] = c;
}

static void
emit_string(struct sink *out, const char *s)
{
  if(s == 0)
    s = "(null)";
  while(*s)
    emit(out, *s++);
}

// An unsigned number in base 10 or 16, at least `width` digits (zero-padded).
static void
emit_number(struct sink *out, uint value, int base, int width)
{
  static const char digit[] = "0123456789abcdef";
  char reversed[16];
  int n = 0;

  do {
    reversed[n++] = digit[value % base];
    value /= base;
  } while(value != 0);
  while(n < width)
    reversed[n++] = '0';
  while(n > 0)
    emit(out, reversed[--n]);
}

static void
format(struct sink *out, const char *fmt, va_list ap)
{
  for(; *fmt; fmt++){
    if(*fmt != '%'){
      emit(out, *fmt);
      continue;
    }
    fmt++;
    switch(*fmt){
    case 'd': {
      int v = va_arg(ap, int);
      if(v < 0){
        emit(out, '-');
        emit_number(out, -(uint)v, 10, 1);
      } else {
        emit_number(out, v, 10, 1);
      }
      break;
    }
    case 'u':
      emit_number(out, va_arg(ap, uint), 10, 1);
      break;
    case 'x':
      emit_number(out, va_arg(ap, uint), 16, 1);
      break;
    case 'p':
      emit_string(out, "0x");
      emit_number(out, (uint)va_arg(ap, void*), 16, 8);
      break;
    case 's':
      emit_string(out, va_arg(ap, const char*));
      break;
    case 'c':
      emit(out, (char)va_arg(ap, int));
      break;
    case '%':
      emit(out, '%');
      break;
    case 0:           // a lone % at the end
      emit(out, '%');
      return;
    default:          // unknown: print it as written
      emit(out, '%');
      emit(out, *fmt);
      break;
    }
  }
}

void
printf(int fd, const char *fmt, ...)
{
  char buf[128];
  struct sink out = { fd, buf, sizeof(buf), 0, 0 };
  va_list ap;

  va_start(ap, fmt);
  format(&out, fmt, ap);
  va_end(ap);
  flush(&out);
}

int
snprintf(char *buf, int size, const char *fmt, ...)
{
  struct sink out = { -1, buf, size, 0, 0 };
  va_list ap;

  va_start(ap, fmt);
  format(&out, fmt, ap);
  va_end(ap);
  if(size > 0)
    buf[out.len] = 0;
  return out.len;
}
