// An independent reader of MemV6 images written against guest/include/fs.h (the
// kernel's own structures), in the way the kernel's bmap walks the block map. Used by
// oracle.test.ts to check that mkfs's images mean the same thing to C as to TypeScript.
//   oracle IMAGE NAME   writes file NAME of the root directory to stdout
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "types.h"
#include "fs.h"

_Static_assert(sizeof(struct dinode) == 64, "dinode is 64 bytes");
_Static_assert(sizeof(struct dirent) == 16, "dirent is 16 bytes");
_Static_assert(sizeof(struct superblock) == 32, "superblock is 32 bytes");

static FILE *disk;
static struct superblock sb;

static void readblock(uint b, void *buf) {
  if (b >= sb.size && b != 1) { fprintf(stderr, "block %u out of range\n", b); exit(3); }
  if (fseek(disk, (long)b * BSIZE, SEEK_SET) != 0 || fread(buf, BSIZE, 1, disk) != 1) { perror("read"); exit(3); }
}

static void readinode(uint inum, struct dinode *ip) {
  struct dinode block[IPB];
  readblock(IBLOCK(inum, sb), block);
  *ip = block[inum % IPB];
}

static uint bmap(struct dinode *ip, uint bn) {
  uint table[NINDIRECT];
  if (bn < NDIRECT) return ip->addrs[bn];
  bn -= NDIRECT;
  if (bn < NINDIRECT) {
    readblock(ip->addrs[NDIRECT], table);
    return table[bn];
  }
  bn -= NINDIRECT;
  readblock(ip->addrs[NDIRECT + 1], table);
  readblock(table[bn / NINDIRECT], table);
  return table[bn % NINDIRECT];
}

static void readi(struct dinode *ip, char *dst) {
  char buf[BSIZE];
  for (uint off = 0; off < ip->size; off += BSIZE) {
    readblock(bmap(ip, off / BSIZE), buf);
    uint n = ip->size - off < BSIZE ? ip->size - off : BSIZE;
    memcpy(dst + off, buf, n);
  }
}

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: oracle IMAGE NAME\n"); return 2; }
  disk = fopen(argv[1], "rb");
  if (!disk) { perror(argv[1]); return 2; }
  char buf[BSIZE];
  sb.size = 2;
  readblock(1, buf);
  memmove(&sb, buf, sizeof sb);
  if (sb.magic != FSMAGIC) { fprintf(stderr, "bad magic\n"); return 3; }
  struct dinode root, file;
  readinode(ROOTINO, &root);
  char *dir = malloc(root.size);
  readi(&root, dir);
  for (uint off = 0; off < root.size; off += sizeof(struct dirent)) {
    struct dirent *de = (struct dirent *)(dir + off);
    if (de->inum == 0 || strncmp(de->name, argv[2], DIRSIZ) != 0) continue;
    readinode(de->inum, &file);
    char *content = malloc(file.size + 1);
    readi(&file, content);
    fwrite(content, 1, file.size, stdout);
    fprintf(stderr, "type %d nlink %d size %u\n", file.type, file.nlink, file.size);
    return 0;
  }
  fprintf(stderr, "%s: not found\n", argv[2]);
  return 1;
}
