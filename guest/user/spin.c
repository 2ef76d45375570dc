// spin ROUNDS: a CPU-bound program with 64 KiB of data it keeps reading and writing,
// for tests that break its memory while it runs. Prints a checksum that depends on
// every byte, so a page restored wrongly shows.
#include "types.h"
#include "user.h"

static uint data[16384];

int
main(int argc, char *argv[])
{
  int rounds = argc > 1 ? atoi(argv[1]) : 100;
  for (int i = 0; i < 16384; i++) data[i] = i * 2654435761u;
  printf(1, "spin: started\n");
  uint sum = 0;
  for (int r = 0; r < rounds; r++)
    for (int i = 0; i < 16384; i++) {
      sum = (sum ^ data[i]) * 16777619u + r;
      data[i] = data[i] * 3 + 1;
    }
  printf(1, "spin: done %x\n", sum);
  exit();
}
