// On-disk file-system structures. guest/FORMAT.md is the description; keep in step.
#ifndef MEMV6_FS_H
#define MEMV6_FS_H
#define BSIZE 1024          // block size
#define FSMAGIC 0x3656564D  // "MVV6"
#define ROOTINO 1           // root directory inode number
#define NDIRECT 11
#define NINDIRECT (BSIZE / sizeof(uint))
#define MAXFILE (NDIRECT + NINDIRECT + NINDIRECT * NINDIRECT)
#define DIRSIZ 14
#define LOGSIZE 30          // data blocks in the log
#define MAXOPBLOCKS 10      // most blocks one file-system operation writes

struct superblock {
  uint magic;
  uint size;        // blocks in the file system
  uint nblocks;     // data blocks
  uint ninodes;     // inodes
  uint nlog;        // log blocks (header + LOGSIZE)
  uint logstart;    // first log block
  uint inodestart;  // first inode block
  uint bmapstart;   // first free-map block
};

struct dinode {
  short type;               // 0 = free
  short major;
  short minor;
  short nlink;
  uint size;
  uint addrs[NDIRECT + 2];  // direct, indirect, doubly indirect
};

#define IPB (BSIZE / sizeof(struct dinode))        // inodes per block
#define IBLOCK(i, sb) ((i) / IPB + (sb).inodestart)
#define BPB (BSIZE * 8)                             // bitmap bits per block
#define BBLOCK(b, sb) ((b) / BPB + (sb).bmapstart)

struct dirent {
  ushort inum;
  char name[DIRSIZ];
};
#endif
