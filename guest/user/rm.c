// rm FILE...: removes names (empty directories too; the kernel refuses others).
#include "types.h"
#include "user.h"

int
main(int argc, char *argv[])
{
  int i;

  if(argc < 2){
    printf(2, "usage: rm file...\n");
    exit();
  }
  for(i = 1; i < argc; i++){
    if(unlink(argv[i]) < 0){
      printf(2, "rm: cannot remove %s\n", argv[i]);
      break;
    }
  }
  exit();
}
