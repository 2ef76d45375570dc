// MemV6 user space: the system calls (declared exactly as xv6's user.h declares them,
// so xv6 programs compile unchanged) and the small C library in ulib.c, printf.c and
// malloc.c. Programs include "types.h", "stat.h" and then this file.
#ifndef MEMV6_USER_H
#define MEMV6_USER_H

struct stat;

// System calls (usys.S): one `int $64` each; -1 means the call failed.
int fork(void);
int exit(void) __attribute__((noreturn));
int wait(void);
int pipe(int*);
int write(int, const void*, int);
int read(int, void*, int);
int close(int);
int kill(int);
int exec(char*, char**);
int open(const char*, int);
int mknod(const char*, short, short);
int unlink(const char*);
int fstat(int fd, struct stat*);
int link(const char*, const char*);
int mkdir(const char*);
int chdir(const char*);
int dup(int);
int getpid(void);
char* sbrk(int);
int sleep(int);
int uptime(void);
int mirrorcheck(void);  // MemV6: pages differing from their mirror; -1 if not mirrored

// Strings and memory (ulib.c).
int stat(const char*, struct stat*);
char* strcpy(char*, const char*);
void *memmove(void*, const void*, int);
void *memcpy(void*, const void*, uint);
char* strchr(const char*, char c);
int strcmp(const char*, const char*);
int strncmp(const char*, const char*, uint);
char* gets(char*, int max);
uint strlen(const char*);
void* memset(void*, int, uint);
int memcmp(const void*, const void*, uint);
int atoi(const char*);

// Formatted output (printf.c): %d %u %x %p %s %c %%.
void printf(int, const char*, ...);
// The same, into buf (at most size-1 characters and a NUL); returns the length.
int snprintf(char *buf, int size, const char *fmt, ...);

// Heap (malloc.c), grown with sbrk.
void* malloc(uint);
void free(void*);

#endif
