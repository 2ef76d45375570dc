// Kernel-wide limits.
#define NPROC        64    // processes
#define KSTACKSIZE 4096    // per-process kernel stack
#define NOFILE       16    // open files per process
#define NFILE       100    // open files in the system
#define NINODE       64    // in-memory inodes
#define NDEV         10    // device major numbers
#define MAXARG       32    // exec arguments
#define NBUF         64  // buffer cache blocks: a file system call's three times over, and a program's pages read together (READ_MAX)
#define FSDEV         1    // the disk holding the file system (hdb)
#define MAXPATH     128
