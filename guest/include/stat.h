// struct stat as xv6 lays it out (20 bytes); see guest/FORMAT.md.
#ifndef MEMV6_STAT_H
#define MEMV6_STAT_H
#define T_DIR  1   // directory
#define T_FILE 2   // file
#define T_DEV  3   // device
struct stat {
  short type;   // T_DIR, T_FILE or T_DEV
  int dev;      // disk device number
  uint ino;     // inode number
  short nlink;  // number of links to the file
  uint size;    // size in bytes
};
#endif
