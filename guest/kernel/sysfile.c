// File-system system calls. Each fetches its arguments first (paths are copied into
// the kernel; buffers stay user addresses, reached through memrefs), then does its work
// through file.c and fs.c. Whatever may change the disk runs inside one log
// transaction, begin_op() ... end_op(), so it happens on disk entirely or not at all.
#include "types.h"
#include "param.h"
#include "stat.h"
#include "mmu.h"
#include "x86.h"
#include "proc.h"
#include "fs.h"
#include "file.h"
#include "fcntl.h"
#include "defs.h"

// ---- Descriptors ----

// The open file that argument n names, and (if fdp) the descriptor itself; 0 if the
// argument is not an open descriptor.
static struct file *
argfile(int n, int *fdp)
{
  int fd;
  if (argint(n, &fd) < 0 || fd < 0 || fd >= NOFILE) return 0;
  if (fdp) *fdp = fd;
  return myproc()->ofile[fd];
}

// Give f the lowest free descriptor of the current process; -1 if all are taken.
static int
new_fd(struct file *f)
{
  struct file **ofile = myproc()->ofile;
  for (int fd = 0; fd < NOFILE; fd++) {
    if (!ofile[fd]) {
      ofile[fd] = f;
      return fd;
    }
  }
  return -1;
}

int
sys_dup(void)
{
  struct file *f = argfile(0, 0);
  int fd = f ? new_fd(f) : -1;
  if (fd >= 0) filedup(f);
  return fd;
}

int
sys_close(void)
{
  int fd;
  struct file *f = argfile(0, &fd);
  if (!f) return -1;
  myproc()->ofile[fd] = 0;
  fileclose(f);
  return 0;
}

// read(fd, buf, n) and write(fd, buf, n). The whole buffer must lie inside the process
// before anything moves; the data then goes straight between user memory and the
// buffer cache, pipe or console.
static int
read_or_write(int writing)
{
  int n;
  uint buf;
  struct file *f = argfile(0, 0);
  if (!f || argint(2, &n) < 0 || argaddr(1, &buf, n) < 0) return -1;
  struct memref user = umem(myproc()->pgdir, buf);
  return writing ? filewrite(f, user, n) : fileread(f, user, n);
}

int
sys_read(void)
{
  return read_or_write(0);
}

int
sys_write(void)
{
  return read_or_write(1);
}

int
sys_fstat(void)
{
  uint ust;
  struct stat st;
  struct file *f = argfile(0, 0);
  if (!f || argaddr(1, &ust, sizeof(st)) < 0) return -1;
  memset(&st, 0, sizeof(st));  // the padding too: it goes to user memory
  if (filestat(f, &st) < 0) return -1;
  return copyout(myproc()->pgdir, ust, &st, sizeof(st));
}

// pipe(fds): a new pipe; its read end in fds[0], its write end in fds[1].
int
sys_pipe(void)
{
  uint ufds;
  struct file *rd, *wr;
  if (argaddr(0, &ufds, 2 * sizeof(int)) < 0 || pipealloc(&rd, &wr) < 0) return -1;
  int fds[2] = { new_fd(rd), -1 };
  if (fds[0] >= 0) fds[1] = new_fd(wr);
  if (fds[1] >= 0 && copyout(myproc()->pgdir, ufds, fds, sizeof(fds)) == 0) return 0;
  for (int i = 0; i < 2; i++)
    if (fds[i] >= 0) myproc()->ofile[fds[i]] = 0;
  fileclose(rd);
  fileclose(wr);
  return -1;
}

// ---- Names ----

// Give ip (unlocked, referenced) the name path: an entry in path's parent directory.
static int
add_name(char *path, struct inode *ip)
{
  char name[DIRSIZ];
  struct inode *dp = nameiparent(path, name);
  if (!dp) return -1;
  ilock(dp);
  int r = dp->dev == ip->dev ? dirlink(dp, name, ip->inum) : -1;
  iunlockput(dp);
  return r;
}

// link(old, new): a second name for a file. Directories get no extra names (a
// directory has exactly one parent, which ".." names).
static int
link(char *old, char *new)
{
  struct inode *ip = namei(old);
  if (!ip) return -1;
  ilock(ip);
  if (ip->disk.type == T_DIR) {
    iunlockput(ip);
    return -1;
  }
  ip->disk.nlink++;  // counted first; taken back if the name cannot be made
  iupdate(ip);
  iunlock(ip);
  int r = add_name(new, ip);
  if (r < 0) {
    ilock(ip);
    ip->disk.nlink--;
    iupdate(ip);
    iunlock(ip);
  }
  iput(ip);
  return r;
}

int
sys_link(void)
{
  char old[MAXPATH], new[MAXPATH];
  if (argstr(0, old, MAXPATH) < 0 || argstr(1, new, MAXPATH) < 0) return -1;
  begin_op();
  int r = link(old, new);
  end_op();
  return r;
}

// unlink(path): remove a name. A directory only when it is empty; never "." or "..".
static int
unlink(char *path)
{
  char name[DIRSIZ];
  uint off;
  struct inode *dp = nameiparent(path, name), *ip = 0;
  if (!dp) return -1;
  ilock(dp);
  int dots = namecmp(name, ".") == 0 || namecmp(name, "..") == 0;
  if (!dots && (ip = dirlookup(dp, name, &off)) != 0) {
    ilock(ip);
    if (ip->disk.nlink < 1) panic("unlink: a name for an inode without links");
    if (ip->disk.type != T_DIR || dirempty(ip)) {
      dirremove(dp, off);
      if (ip->disk.type == T_DIR) {  // its ".." named dp
        dp->disk.nlink--;
        iupdate(dp);
      }
      ip->disk.nlink--;
      iupdate(ip);
      iunlockput(ip);
      iunlockput(dp);
      return 0;
    }
    iunlockput(ip);
  }
  iunlockput(dp);
  return -1;
}

int
sys_unlink(void)
{
  char path[MAXPATH];
  if (argstr(0, path, MAXPATH) < 0) return -1;
  begin_op();
  int r = unlink(path);
  end_op();
  return r;
}

// ---- New inodes ----

// A new directory's "." and ".."; ".." is one more link to its parent.
static void
make_dots(struct inode *dir, struct inode *parent)
{
  if (dirlink(dir, ".", dir->inum) < 0 || dirlink(dir, "..", parent->inum) < 0) panic("create: . and ..");
  parent->disk.nlink++;
  iupdate(parent);
}

// A new inode of the given type with the entry name in directory dp (locked); returned
// locked, or 0 if the disk has no free inode.
static struct inode *
new_inode(struct inode *dp, char *name, short type, short major, short minor)
{
  struct inode *ip = ialloc(dp->dev, type);
  if (!ip) return 0;
  ilock(ip);
  ip->disk.major = major;
  ip->disk.minor = minor;
  ip->disk.nlink = 1;  // the entry about to be made in dp
  iupdate(ip);
  if (type == T_DIR) make_dots(ip, dp);
  if (dirlink(dp, name, ip->inum) < 0) panic("create: entry in the parent");
  return ip;
}

// The inode for a new name path, of the given type, returned locked; 0 if path's
// directory does not exist, the name is taken or no inode is free. A taken name is
// fine for open(O_CREATE) of a plain file: that file is returned instead.
static struct inode *
create(char *path, short type, short major, short minor)
{
  char name[DIRSIZ];
  struct inode *dp = nameiparent(path, name);
  if (!dp) return 0;
  ilock(dp);
  struct inode *ip = dirlookup(dp, name, 0);
  if (!ip) {
    ip = new_inode(dp, name, type, major, minor);
    iunlockput(dp);
    return ip;
  }
  iunlockput(dp);
  ilock(ip);
  if (type == T_FILE && ip->disk.type == T_FILE) return ip;
  iunlockput(ip);
  return 0;
}

// mkdir(path) and mknod(path, major, minor).
static int
make_node(char *path, short type, short major, short minor)
{
  begin_op();
  struct inode *ip = create(path, type, major, minor);
  int r = ip ? 0 : -1;
  if (ip) iunlockput(ip);
  end_op();
  return r;
}

int
sys_mkdir(void)
{
  char path[MAXPATH];
  return argstr(0, path, MAXPATH) < 0 ? -1 : make_node(path, T_DIR, 0, 0);
}

int
sys_mknod(void)
{
  char path[MAXPATH];
  int major, minor;
  if (argstr(0, path, MAXPATH) < 0 || argint(1, &major) < 0 || argint(2, &minor) < 0) return -1;
  return make_node(path, T_DEV, major, minor);
}

// ---- Opening ----

// The existing inode path names, locked, if it may be opened with mode: a directory
// only for reading.
static struct inode *
open_existing(char *path, int mode)
{
  struct inode *ip = namei(path);
  if (!ip) return 0;
  ilock(ip);
  if (ip->disk.type == T_DIR && mode != O_RDONLY) {
    iunlockput(ip);
    return 0;
  }
  return ip;
}

// A descriptor for an open file on ip (locked; unlocked on return, and released if
// there is no room for another open file).
static int
open_fd(struct inode *ip, int mode)
{
  struct file *f = filealloc();
  int fd = f ? new_fd(f) : -1;
  if (fd < 0) {
    if (f) fileclose(f);
    iunlockput(ip);
    return -1;
  }
  iunlock(ip);
  f->type = FD_INODE;
  f->ip = ip;
  f->off = 0;
  f->readable = !(mode & O_WRONLY);
  f->writable = (mode & (O_WRONLY | O_RDWR)) != 0;
  return fd;
}

int
sys_open(void)
{
  char path[MAXPATH];
  int mode;
  if (argstr(0, path, MAXPATH) < 0 || argint(1, &mode) < 0) return -1;
  begin_op();
  struct inode *ip = (mode & O_CREATE) ? create(path, T_FILE, 0, 0) : open_existing(path, mode);
  int fd = ip ? open_fd(ip, mode) : -1;
  end_op();
  return fd;
}

// ---- The current directory, and exec ----

int
sys_chdir(void)
{
  char path[MAXPATH];
  if (argstr(0, path, MAXPATH) < 0) return -1;
  struct proc *p = myproc();
  begin_op();  // iput may free an inode that lost its last name
  struct inode *dir = namei(path);
  if (dir && !isdir(dir)) {
    iput(dir);
    dir = 0;
  }
  if (dir) {
    iput(p->cwd);
    p->cwd = dir;
  }
  end_op();
  return dir ? 0 : -1;
}

// exec(path, argv): argv stays a user address; exec reads the strings itself.
int
sys_exec(void)
{
  char path[MAXPATH];
  int uargv;
  if (argstr(0, path, MAXPATH) < 0 || argint(1, &uargv) < 0) return -1;
  return exec(path, uargv);
}
