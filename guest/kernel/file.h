// Open files and in-memory inodes.
struct file {
  enum { FD_NONE, FD_PIPE, FD_INODE } type;
  int ref;
  char readable;
  char writable;
  struct pipe *pipe;
  struct inode *ip;
  uint off;
};

struct inode {
  uint dev;
  uint inum;
  int ref;
  int busy;                 // locked by some process (a sleep lock)
  int valid;                // read from disk?
  short type;               // copy of the disk inode
  short major;
  short minor;
  short nlink;
  uint size;
  uint addrs[NDIRECT + 2];
};

// Device switch: read/write functions per major device number.
struct devsw {
  int (*read)(struct inode *, char *, int);
  int (*write)(struct inode *, char *, int);
};
extern struct devsw devsw[];
#define CONSOLE 1
