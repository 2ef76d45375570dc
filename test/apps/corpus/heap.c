/* malloc-heavy: a hash table of linked entries, reallocated arrays, frees, and large (mmap) blocks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry { struct entry *next; unsigned key; unsigned count; char name[]; };

static unsigned seed = 777;
static unsigned next(void) { seed ^= seed << 13; seed ^= seed >> 17; seed ^= seed << 5; return seed; }

int main(void) {
  enum { BUCKETS = 1024 };
  struct entry **table = calloc(BUCKETS, sizeof *table);
  unsigned entries = 0;
  for (int i = 0; i < 60000; i++) {
    unsigned key = next() % 20000;
    struct entry **at = &table[key % BUCKETS];
    while (*at && (*at)->key != key) at = &(*at)->next;
    if (*at) {
      if (++(*at)->count % 3 == 0) { struct entry *gone = *at; *at = gone->next; free(gone); entries--; }
      continue;
    }
    char name[32];
    int len = snprintf(name, sizeof name, "key-%u-%u", key, key * 2654435761u);
    struct entry *e = malloc(sizeof *e + len + 1);
    e->next = 0; e->key = key; e->count = 1;
    memcpy(e->name, name, len + 1);
    *at = e;
    entries++;
  }
  unsigned long long check = 0;
  for (int b = 0; b < BUCKETS; b++)
    for (struct entry *e = table[b]; e; e = e->next) check = check * 1000003 + e->key * 7 + e->count + strlen(e->name);
  printf("entries %u check %llx\n", entries, check);
  unsigned *grow = 0;
  size_t n = 0;
  for (int i = 0; i < 100000; i++) {
    if ((n & (n - 1)) == 0) grow = realloc(grow, (n ? 2 * n : 1) * sizeof *grow);
    grow[n++] = next();
  }
  unsigned x = 0;
  for (size_t i = 0; i < n; i++) x ^= grow[i] + (unsigned)i;
  printf("grown to %zu: %08x\n", n, x);
  for (int round = 0; round < 4; round++) {
    size_t size = (size_t)(1 + round) << 20;
    unsigned char *big = malloc(size);
    for (size_t i = 0; i < size; i += 4096) big[i] = (unsigned char)(i >> 12);
    unsigned s = 0;
    for (size_t i = 0; i < size; i += 4096) s += big[i];
    printf("block of %zu KiB: %u\n", size >> 10, s);
    free(big);
  }
  return 0;
}
