// mstat: is this process mirrored, and do its native and mirror pages agree?
// Translated (in fs-mirrored.img) it prints "mstat: mirrored, 0 pages differ";
// untranslated, "mstat: not mirrored".
#include "types.h"
#include "user.h"

int
main(int argc, char *argv[])
{
  int differ = mirrorcheck();
  if (differ < 0)
    printf(1, "mstat: not mirrored\n");
  else
    printf(1, "mstat: mirrored, %d pages differ\n", differ);
  exit();
}
