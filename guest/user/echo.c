// echo ARG...: prints its arguments separated by spaces, then a newline.
#include "types.h"
#include "user.h"

static char line[1024];
static int used;

// Appends to the line, writing it out whenever it fills, so a short echo is a
// single write() and a long one still comes out whole.
static void
put(const char *s, int n)
{
  while(n > 0){
    int room = sizeof(line) - used;
    int chunk = n < room ? n : room;
    memmove(line + used, s, chunk);
    used += chunk;
    s += chunk;
    n -= chunk;
    if(used == sizeof(line)){
      write(1, line, used);
      used = 0;
    }
  }
}

int
main(int argc, char *argv[])
{
  int i;

  for(i = 1; i < argc; i++){
    put(argv[i], strlen(argv[i]));
    if(i + 1 < argc)
      put(" ", 1);
  }
  put("\n", 1);
  write(1, line, used);
  exit();
}
