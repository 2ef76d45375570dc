// init: the first user process. Connects fds 0, 1 and 2 to the console, then keeps a
// shell running forever. As the parent of every orphaned process, it also collects
// their exits, so no process stays a zombie.
#include "types.h"
#include "stat.h"
#include "fcntl.h"
#include "user.h"

#define CONSOLE_MAJOR 1

static char *shell_argv[] = { "sh", 0 };

static void
open_console(void)
{
  if(open("console", O_RDWR) < 0){
    mknod("console", CONSOLE_MAJOR, 1);
    if(open("console", O_RDWR) < 0)
      exit();   // nothing to talk to; the kernel will report init's exit
  }
  dup(0);   // standard output
  dup(0);   // standard error
}

int
main(void)
{
  int shell, pid;

  open_console();
  for(;;){
    printf(1, "init: starting sh\n");
    shell = fork();
    if(shell < 0){
      printf(1, "init: fork failed\n");
      sleep(100);
      continue;
    }
    if(shell == 0){
      exec("sh", shell_argv);
      printf(1, "init: exec sh failed\n");
      exit();
    }
    // Reap orphans until the shell itself exits, then start a new one.
    while((pid = wait()) >= 0 && pid != shell)
      ;
    if(pid < 0)
      sleep(10);
  }
}
