// Open files, and inodes as the kernel caches them.
struct memref;  // defs.h

struct file {
  enum { FD_NONE, FD_PIPE, FD_INODE } type;
  int ref;                  // descriptors (in any process) that share this open file
  char readable;
  char writable;
  struct pipe *pipe;        // FD_PIPE
  struct inode *ip;         // FD_INODE
  uint off;                 // FD_INODE: where the next read or write starts
};

struct inode {
  uint dev;
  uint inum;
  int ref;                  // pointers to this cache entry
  int busy;                 // locked by some process (a sleep lock)
  int valid;                // has `disk` been read?
  struct dinode disk;       // the inode's fields, as they are (or will be) on disk
};

// Device switch: how to read and write each major device number (1 is the console).
struct devsw {
  int (*read)(struct inode *ip, struct memref dst, int n);
  int (*write)(struct inode *ip, struct memref src, int n);
};
extern struct devsw devsw[];
#define CONSOLE 1
