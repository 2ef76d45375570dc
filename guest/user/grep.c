// grep PATTERN [FILE...]: prints the lines that contain a match for PATTERN.
//
// Patterns: ordinary characters, `.` (any character), `*` `+` `?` after an item
// (zero or more, one or more, zero or one), `^` at the start and `$` at the end
// (anchors), `\c` for a literal c. The pattern is first compiled into a list of
// items, which a small backtracking matcher then walks.
#include "types.h"
#include "fcntl.h"
#include "user.h"

enum { ONCE, STAR, PLUS, OPTIONAL };

struct item {
  int any;      // matches any character
  char c;       // otherwise, this character
  int repeat;   // ONCE, STAR, PLUS or OPTIONAL
};

static struct item items[48];   // bounded: match_from recurses once per item, on a one-page stack
static int nitems;
static int anchored_start, anchored_end;

static int
compile(const char *p)
{
  nitems = 0;
  anchored_start = anchored_end = 0;
  if(*p == '^'){
    anchored_start = 1;
    p++;
  }
  while(*p){
    struct item *it;
    if(p[0] == '$' && p[1] == 0){
      anchored_end = 1;
      break;
    }
    if(nitems == (int)(sizeof(items) / sizeof(items[0])))
      return -1;
    it = &items[nitems++];
    it->any = 0;
    it->repeat = ONCE;
    if(*p == '\\' && p[1] != 0){
      it->c = p[1];
      p += 2;
    } else {
      it->any = (*p == '.');
      it->c = *p++;
    }
    if(*p == '*' || *p == '+' || *p == '?'){
      it->repeat = *p == '*' ? STAR : *p == '+' ? PLUS : OPTIONAL;
      p++;
    }
  }
  return 0;
}

static int
item_matches(struct item *it, char c)
{
  return c != 0 && (it->any || it->c == c);
}

// Does items[i..] match text starting exactly at `text`?
static int
match_from(int i, const char *text)
{
  int least, most, n;

  if(i == nitems)
    return !anchored_end || *text == 0;
  least = (items[i].repeat == ONCE || items[i].repeat == PLUS) ? 1 : 0;
  most = (items[i].repeat == ONCE || items[i].repeat == OPTIONAL) ? 1 : 0x7fffffff;
  // Take as many as possible, then give back one at a time.
  for(n = 0; n < most && item_matches(&items[i], text[n]); n++)
    ;
  for(; n >= least; n--)
    if(match_from(i + 1, text + n))
      return 1;
  return 0;
}

static int
line_matches(const char *line)
{
  if(anchored_start)
    return match_from(0, line);
  for(;; line++){
    if(match_from(0, line))
      return 1;
    if(*line == 0)
      return 0;
  }
}

static char buf[2048];

static void
search(int fd)
{
  int held = 0, n;
  char *start, *end;

  while((n = read(fd, buf + held, sizeof(buf) - 1 - held)) > 0){
    held += n;
    buf[held] = 0;
    start = buf;
    while((end = strchr(start, '\n')) != 0){
      *end = 0;
      if(line_matches(start)){
        *end = '\n';
        write(1, start, end + 1 - start);
      }
      start = end + 1;
    }
    held -= start - buf;
    if(held == (int)sizeof(buf) - 1){
      // A line longer than the buffer: judge what we have.
      if(line_matches(buf)){
        write(1, buf, held);
        write(1, "\n", 1);
      }
      held = 0;
    }
    memmove(buf, start, held);
  }
  if(held > 0){   // last line without a newline
    buf[held] = 0;
    if(line_matches(buf)){
      write(1, buf, held);
      write(1, "\n", 1);
    }
  }
}

int
main(int argc, char *argv[])
{
  int i, fd;

  if(argc < 2){
    printf(2, "usage: grep pattern [file...]\n");
    exit();
  }
  if(compile(argv[1]) < 0){
    printf(2, "grep: pattern too long\n");
    exit();
  }
  if(argc == 2){
    search(0);
    exit();
  }
  for(i = 2; i < argc; i++){
    if((fd = open(argv[i], O_RDONLY)) < 0){
      printf(2, "grep: cannot open %s\n", argv[i]);
      exit();
    }
    search(fd);
    close(fd);
  }
  exit();
}
