// zombie: leaves behind a child that has exited but was never waited for.
// When zombie itself exits, init adopts the child and reaps it.
#include "types.h"
#include "user.h"

int
main(void)
{
  if(fork() > 0)
    sleep(5);   // let the child exit first
  exit();
}
