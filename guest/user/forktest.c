// forktest: forks until the process table is full, then collects every child.
// Checks that fork fails cleanly (returns -1) and that wait then finds exactly the
// children created, and no more.
#include "types.h"
#include "user.h"

#define LIMIT 1000

int
main(void)
{
  int made, pid;

  printf(1, "fork test\n");
  for(made = 0; made < LIMIT; made++){
    pid = fork();
    if(pid < 0)
      break;
    if(pid == 0)
      exit();
  }
  if(made == LIMIT){
    printf(1, "forktest: fork never failed after %d children\n", LIMIT);
    exit();
  }
  for(; made > 0; made--){
    if(wait() < 0){
      printf(1, "forktest: wait stopped early, %d children missing\n", made);
      exit();
    }
  }
  if(wait() != -1){
    printf(1, "forktest: wait found a child that was never made\n");
    exit();
  }
  printf(1, "fork test OK\n");
  exit();
}
