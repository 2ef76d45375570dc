// A first-fit allocator over memory obtained with sbrk.
//
// Every block starts with a header holding its size (header included, a multiple of
// 8). Free blocks are kept on one list in address order, so free() can merge a block
// with the free neighbours on either side and the heap does not fragment into
// slivers. Memory is never given back to the kernel.
#include "types.h"
#include "user.h"

struct block {
  uint size;            // bytes, header included
  struct block *next;   // next free block (free blocks only)
};

#define HEADER sizeof(struct block)
#define GROW_MIN 4096   // ask the kernel for at least this much at a time

static struct block *free_list;   // lowest address first

// Puts b on the free list, merging it with adjacent free blocks.
static void
release(struct block *b)
{
  struct block *prev = 0, *cur = free_list;

  while(cur != 0 && cur < b){
    prev = cur;
    cur = cur->next;
  }
  b->next = cur;
  if(cur != 0 && (char*)b + b->size == (char*)cur){
    b->size += cur->size;
    b->next = cur->next;
  }
  if(prev == 0){
    free_list = b;
  } else if((char*)prev + prev->size == (char*)b){
    prev->size += b->size;
    prev->next = b->next;
  } else {
    prev->next = b;
  }
}

static int
grow(uint need)
{
  uint amount = need < GROW_MIN ? GROW_MIN : need;
  char *p;

  if(amount > 0x7fffffff)
    return -1;
  p = sbrk(amount);
  if(p == (char*)-1)
    return -1;
  ((struct block*)p)->size = amount;
  release((struct block*)p);
  return 0;
}

void*
malloc(uint nbytes)
{
  struct block *prev, *cur, *rest;
  uint need;

  if(nbytes > 0x7fffffff - HEADER - 8)
    return 0;
  need = (nbytes + HEADER + 7) & ~7;
  for(;;){
    prev = 0;
    for(cur = free_list; cur != 0; prev = cur, cur = cur->next){
      if(cur->size < need)
        continue;
      if(cur->size - need >= HEADER + 8){
        // Split: the tail stays free.
        rest = (struct block*)((char*)cur + need);
        rest->size = cur->size - need;
        rest->next = cur->next;
        cur->size = need;
        if(prev) prev->next = rest; else free_list = rest;
      } else {
        if(prev) prev->next = cur->next; else free_list = cur->next;
      }
      return (char*)cur + HEADER;
    }
    if(grow(need) < 0)
      return 0;
  }
}

void
free(void *p)
{
  if(p != 0)
    release((struct block*)((char*)p - HEADER));
}
