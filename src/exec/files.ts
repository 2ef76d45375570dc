/**
 * The file side of `memvisor exec`: a process's descriptor table over the host's files,
 * as qemu-i386 gives a program the host's file system. Descriptors 0, 1 and 2 are the
 * runner's streams (callbacks); every other descriptor is a host file or directory
 * opened with node:fs, whose offset we keep ourselves so that dup'd descriptors share it.
 *
 * Every method answers as the Linux system call does: a result ≥ 0 or -errno. Structures
 * are laid out here as i386 Linux defines them (stat64, statx, linux_dirent64).
 */
import * as fs from 'node:fs';
import { resolve } from 'node:path';

export const EPERM = 1, ENOENT = 2, EIO = 5, EBADF = 9, EAGAIN = 11, ENOMEM = 12, ENODEV = 19, EACCES = 13, EFAULT = 14, EEXIST = 17,
  ENOTDIR = 20, EISDIR = 21, EINVAL = 22, EMFILE = 24, ENOTTY = 25, ESPIPE = 29, ERANGE = 34, ENOSYS = 38;
/** Linux's AT_FDCWD, AT_SYMLINK_NOFOLLOW, AT_REMOVEDIR, AT_EMPTY_PATH. */
export const AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200, AT_EMPTY_PATH = 0x1000;

const O_ACCMODE = 3, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40, O_TRUNC = 0x200, O_APPEND = 0x400, O_DIRECTORY = 0x10000,
  O_LARGEFILE = 0x8000, O_CLOEXEC = 0x80000;
const S_IFIFO = 0o010000, S_IFCHR = 0o020000;
const DT_BY_KIND: Array<[keyof fs.Dirent, number]> = [
  ['isFIFO', 1], ['isCharacterDevice', 2], ['isDirectory', 4], ['isBlockDevice', 6], ['isFile', 8], ['isSymbolicLink', 10], ['isSocket', 12],
];
const MAX_FDS = 1024;

/** What the process's standard streams are connected to. */
export interface Streams {
  stdin: (max: number) => Uint8Array;
  stdout: (bytes: Uint8Array) => void;
  stderr: (bytes: Uint8Array) => void;
  /** Which of 0, 1, 2 are terminals (ioctl TCGETS answers only for these). */
  terminals?: [boolean, boolean, boolean];
}

/** The file part of a Linux stat, as both stat64 and statx need it. */
interface FileStat {
  dev: bigint; ino: bigint; mode: number; nlink: number; uid: number; gid: number; rdev: bigint; size: bigint;
  blksize: number; blocks: bigint; atimeNs: bigint; mtimeNs: bigint; ctimeNs: bigint; birthtimeNs: bigint;
}

type OpenFile =
  | { kind: 'stream'; fd: 0 | 1 | 2 }
  | { kind: 'file'; host: number; path: string; position: number; append: boolean; refs: number }
  | { kind: 'dir'; host: number; path: string; dir: fs.Dir | null; entries: Array<[string, number, bigint]>; next: number; refs: number };

interface Slot {
  file: OpenFile;
  cloexec: boolean;
  /** O_* status flags as the program set them (fcntl F_GETFL). */
  flags: number;
}

/** Turns a node:fs error into -errno (libuv's negative errno on Linux hosts). */
function errno(e: unknown): number {
  const n = (e as NodeJS.ErrnoException).errno;
  if (typeof n === 'number' && n < 0) return n;
  throw e;
}

/** Runs a host call, giving -errno for what the host refused. */
function host<T>(call: () => T): T | number {
  try {
    return call();
  } catch (e) {
    return errno(e);
  }
}

function fromHostStat(s: fs.BigIntStats): FileStat {
  return {
    dev: s.dev, ino: s.ino, mode: Number(s.mode), nlink: Number(s.nlink), uid: Number(s.uid), gid: Number(s.gid), rdev: s.rdev, size: s.size,
    blksize: Number(s.blksize), blocks: s.blocks, atimeNs: s.atimeNs, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs, birthtimeNs: s.birthtimeNs,
  };
}

/** A stream's stat: a pipe, or a terminal (character device) — no host identity, so runs repeat. */
function streamStat(terminal: boolean): FileStat {
  return {
    dev: 0n, ino: 0n, mode: terminal ? S_IFCHR | 0o620 : S_IFIFO | 0o600, nlink: 1, uid: 0, gid: 0, rdev: terminal ? 0x8800n : 0n, size: 0n,
    blksize: 4096, blocks: 0n, atimeNs: 0n, mtimeNs: 0n, ctimeNs: 0n, birthtimeNs: 0n,
  };
}

const NS = 1_000_000_000n;

/** struct stat64 of i386 Linux (96 bytes). */
export function encodeStat64(s: FileStat): Uint8Array {
  const out = new Uint8Array(96);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, s.dev, true);
  v.setUint32(12, Number(s.ino & 0xffffffffn), true);
  v.setUint32(16, s.mode, true);
  v.setUint32(20, s.nlink, true);
  v.setUint32(24, s.uid, true);
  v.setUint32(28, s.gid, true);
  v.setBigUint64(32, s.rdev, true);
  v.setBigInt64(44, s.size, true);
  v.setUint32(52, s.blksize, true);
  v.setBigUint64(56, s.blocks, true);
  [s.atimeNs, s.mtimeNs, s.ctimeNs].forEach((t, i) => {
    v.setUint32(64 + i * 8, Number(t / NS), true);
    v.setUint32(68 + i * 8, Number(t % NS), true);
  });
  v.setBigUint64(88, s.ino, true);
  return out;
}

/** struct statx (256 bytes), every basic field present. */
export function encodeStatx(s: FileStat): Uint8Array {
  const out = new Uint8Array(256);
  const v = new DataView(out.buffer);
  const STATX_BASIC_STATS_AND_BTIME = 0xfff;
  v.setUint32(0, STATX_BASIC_STATS_AND_BTIME, true);
  v.setUint32(4, s.blksize, true);
  v.setUint32(16, s.nlink, true);
  v.setUint32(20, s.uid, true);
  v.setUint32(24, s.gid, true);
  v.setUint16(28, s.mode, true);
  v.setBigUint64(32, s.ino, true);
  v.setBigUint64(40, s.size, true);
  v.setBigUint64(48, s.blocks, true);
  [s.atimeNs, s.birthtimeNs, s.ctimeNs, s.mtimeNs].forEach((t, i) => {
    v.setBigInt64(64 + i * 16, t / NS, true);
    v.setUint32(72 + i * 16, Number(t % NS), true);
  });
  const major = (d: bigint) => Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn));
  const minor = (d: bigint) => Number((d & 0xffn) | ((d >> 12n) & ~0xffn));
  v.setUint32(128, major(s.rdev), true);
  v.setUint32(132, minor(s.rdev), true);
  v.setUint32(136, major(s.dev), true);
  v.setUint32(140, minor(s.dev), true);
  return out;
}

export class FileTable {
  private readonly slots: Array<Slot | undefined> = [];
  /** The working directory (chdir changes it; the host's own does not move). */
  cwd: string;

  constructor(private readonly streams: Streams, cwd: string) {
    this.cwd = cwd;
    for (const fd of [0, 1, 2] as const) this.slots[fd] = { file: { kind: 'stream', fd }, cloexec: false, flags: fd === 0 ? 0 : O_WRONLY };
  }

  /** Closes every host descriptor (at exit). */
  closeAll(): void {
    for (let fd = 0; fd < this.slots.length; fd++) if (this.slots[fd]) this.close(fd);
  }

  /** A path as the process names it, resolved against `dirfd` (AT_FDCWD: the working directory). */
  resolvePath(dirfd: number, path: string): string | number {
    if (path.startsWith('/')) return path;
    if (dirfd === AT_FDCWD) return resolve(this.cwd, path);
    const slot = this.slots[dirfd];
    if (!slot) return -EBADF;
    if (slot.file.kind !== 'dir') return -ENOTDIR;
    return resolve(slot.file.path, path);
  }

  private slot(fd: number): Slot | undefined {
    return fd >= 0 ? this.slots[fd] : undefined;
  }

  private lowestFree(from: number): number {
    for (let fd = from; fd < MAX_FDS; fd++) if (!this.slots[fd]) return fd;
    return -EMFILE;
  }

  open(path: string, flags: number, mode: number): number {
    const fd = this.lowestFree(0);
    if (fd < 0) return fd;
    const hostFlags = flags & ~(O_LARGEFILE | O_CLOEXEC);
    const opened = host(() => fs.openSync(path, hostFlags, mode));
    if (opened < 0) return opened;
    const st = host(() => fs.fstatSync(opened));
    if (typeof st === 'number') return st;
    let file: OpenFile;
    if (st.isDirectory()) {
      if ((flags & O_ACCMODE) !== 0) { fs.closeSync(opened); return -EISDIR; }
      file = { kind: 'dir', host: opened, path, dir: null, entries: [], next: 0, refs: 1 };
    } else {
      if (flags & O_DIRECTORY) { fs.closeSync(opened); return -ENOTDIR; }
      file = { kind: 'file', host: opened, path, position: 0, append: (flags & O_APPEND) !== 0, refs: 1 };
    }
    this.slots[fd] = { file, cloexec: (flags & O_CLOEXEC) !== 0, flags: flags & ~(O_CREAT | O_TRUNC | O_CLOEXEC) };
    return fd;
  }

  close(fd: number): number {
    const slot = this.slot(fd);
    if (!slot) return -EBADF;
    this.slots[fd] = undefined;
    const file = slot.file;
    if (file.kind !== 'stream' && --file.refs === 0) {
      if (file.kind === 'dir') file.dir?.closeSync();
      fs.closeSync(file.host);
    }
    return 0;
  }

  /** dup (target -1: lowest free), dup2/dup3 (target given), fcntl F_DUPFD (lowest free from `from`). */
  dup(fd: number, target: number, from = 0, cloexec = false): number {
    const slot = this.slot(fd);
    if (!slot) return -EBADF;
    if (target === fd) return fd;
    if (target < 0) target = this.lowestFree(from);
    if (target < 0) return target;
    if (target >= MAX_FDS) return -EBADF;
    if (this.slots[target]) this.close(target);
    if (slot.file.kind !== 'stream') slot.file.refs++;
    this.slots[target] = { file: slot.file, cloexec, flags: slot.flags };
    return target;
  }

  fcntl(fd: number, command: number, arg: number): number {
    const F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, F_DUPFD_CLOEXEC = 1030;
    const slot = this.slot(fd);
    if (!slot) return -EBADF;
    switch (command) {
      case F_DUPFD: return this.dup(fd, -1, arg);
      case F_DUPFD_CLOEXEC: return this.dup(fd, -1, arg, true);
      case F_GETFD: return slot.cloexec ? 1 : 0;
      case F_SETFD: slot.cloexec = (arg & 1) !== 0; return 0;
      case F_GETFL: return slot.flags | O_LARGEFILE;
      case F_SETFL: slot.flags = (slot.flags & O_ACCMODE) | (arg & ~O_ACCMODE); return 0;
      default: return 0; // locks (F_GETLK, F_SETLK, F_SETLKW): one process, nothing to wait for
    }
  }

  read(fd: number, max: number): Uint8Array | number {
    const slot = this.slot(fd);
    if (!slot) return -EBADF;
    const file = slot.file;
    if (file.kind === 'stream') return file.fd === 0 ? this.streams.stdin(max) : -EBADF;
    if (file.kind === 'dir') return -EISDIR;
    if ((slot.flags & O_ACCMODE) === O_WRONLY) return -EBADF;
    const out = new Uint8Array(max);
    const n = host(() => fs.readSync(file.host, out, 0, max, file.position));
    if (n < 0) return n;
    file.position += n;
    return out.subarray(0, n);
  }

  pread(fd: number, max: number, offset: number): Uint8Array | number {
    const slot = this.slot(fd);
    if (!slot) return -EBADF;
    if (slot.file.kind !== 'file') return slot.file.kind === 'dir' ? -EISDIR : -ESPIPE;
    if (offset < 0) return -EINVAL;
    const file = slot.file;
    const out = new Uint8Array(max);
    const n = host(() => fs.readSync(file.host, out, 0, max, offset));
    return n < 0 ? n : out.subarray(0, n);
  }

  write(fd: number, bytes: Uint8Array, offset?: number): number {
    const slot = this.slot(fd);
    if (!slot) return -EBADF;
    const file = slot.file;
    if (file.kind === 'stream') {
      if (file.fd === 0) return -EBADF;
      (file.fd === 1 ? this.streams.stdout : this.streams.stderr)(bytes);
      return bytes.length;
    }
    if (file.kind === 'dir') return -EISDIR;
    if ((slot.flags & O_ACCMODE) === 0) return -EBADF;
    if (offset !== undefined) return host(() => fs.writeSync(file.host, bytes, 0, bytes.length, offset));
    if (file.append) {
      const size = host(() => fs.fstatSync(file.host).size);
      if (size < 0) return size;
      file.position = size;
    }
    const n = host(() => fs.writeSync(file.host, bytes, 0, bytes.length, file.position));
    if (n > 0) file.position += n;
    return n;
  }

  /** lseek / _llseek: the new offset, or -errno. */
  seek(fd: number, offset: number, whence: number): number {
    const slot = this.slot(fd);
    if (!slot) return -EBADF;
    const file = slot.file;
    if (file.kind === 'stream') return -ESPIPE;
    if (file.kind === 'dir') {
      if (whence !== 0 || offset < 0) return -EINVAL;
      file.next = offset; // a d_off cookie: the index of the next entry
      return offset;
    }
    let base: number;
    if (whence === 0) base = 0;
    else if (whence === 1) base = file.position;
    else if (whence === 2) {
      const size = host(() => fs.fstatSync(file.host).size);
      if (size < 0) return size;
      base = size;
    } else return -EINVAL;
    if (base + offset < 0) return -EINVAL;
    file.position = base + offset;
    return file.position;
  }

  fstat(fd: number): FileStat | number {
    const slot = this.slot(fd);
    if (!slot) return -EBADF;
    const file = slot.file;
    if (file.kind === 'stream') return streamStat(this.streams.terminals?.[file.fd] ?? false);
    const st = host(() => fs.fstatSync(file.host, { bigint: true }));
    return typeof st === 'number' ? st : fromHostStat(st);
  }

  stat(path: string, followLinks: boolean): FileStat | number {
    const st = host(() => (followLinks ? fs.statSync(path, { bigint: true }) : fs.lstatSync(path, { bigint: true })));
    return typeof st === 'number' ? st : fromHostStat(st);
  }

  /** fstatat/statx: by path relative to dirfd, or of dirfd itself with AT_EMPTY_PATH and "". */
  statAt(dirfd: number, path: string, flags: number): FileStat | number {
    if (path === '' && flags & AT_EMPTY_PATH) return dirfd === AT_FDCWD ? this.stat(this.cwd, true) : this.fstat(dirfd);
    if (path === '') return -ENOENT;
    const full = this.resolvePath(dirfd, path);
    if (typeof full === 'number') return full;
    return this.stat(full, !(flags & AT_SYMLINK_NOFOLLOW));
  }

  /**
   * getdents64: as many linux_dirent64 records as fit in `max` bytes, in the host's
   * directory order (readdir(3), as qemu-i386 passes it on), after "." and "..".
   */
  getdents64(fd: number, max: number): Uint8Array | number {
    const slot = this.slot(fd);
    if (!slot) return -EBADF;
    const file = slot.file;
    if (file.kind !== 'dir') return -ENOTDIR;
    if (!file.dir) {
      const self = host(() => fs.statSync(file.path, { bigint: true }));
      const parent = host(() => fs.statSync(resolve(file.path, '..'), { bigint: true }));
      if (typeof self === 'number') return self;
      file.entries.push(['.', 4, self.ino], ['..', 4, typeof parent === 'number' ? 0n : parent.ino]);
      const dir = host(() => fs.opendirSync(file.path, { bufferSize: 256 }));
      if (typeof dir === 'number') return dir;
      file.dir = dir;
      for (let entry = dir.readSync(); entry; entry = dir.readSync()) {
        const type = DT_BY_KIND.find(([test]) => (entry![test] as () => boolean).call(entry))?.[1] ?? 0;
        const st = host(() => fs.lstatSync(resolve(file.path, entry!.name), { bigint: true }));
        file.entries.push([entry.name, type, typeof st === 'number' ? 0n : st.ino]);
      }
    }
    const chunks: Uint8Array[] = [];
    let used = 0;
    const encoder = new TextEncoder();
    while (file.next < file.entries.length) {
      const [name, type, ino] = file.entries[file.next]!;
      const nameBytes = encoder.encode(name);
      const length = (19 + nameBytes.length + 1 + 7) & ~7;
      if (used + length > max) {
        if (used === 0) return -EINVAL;
        break;
      }
      const record = new Uint8Array(length);
      const v = new DataView(record.buffer);
      v.setBigUint64(0, ino, true);
      v.setBigInt64(8, BigInt(file.next + 1), true);
      v.setUint16(16, length, true);
      record[18] = type;
      record.set(nameBytes, 19);
      chunks.push(record);
      used += length;
      file.next++;
    }
    const out = new Uint8Array(used);
    let at = 0;
    for (const c of chunks) { out.set(c, at); at += c.length; }
    return out;
  }

  /** ioctl: terminal queries answer for terminals only (ENOTTY otherwise, as for pipes and files). */
  isTerminal(fd: number): boolean | number {
    const slot = this.slot(fd);
    if (!slot) return -EBADF;
    return slot.file.kind === 'stream' && (this.streams.terminals?.[slot.file.fd] ?? false);
  }

  /** The host descriptor and path of a regular file (for mmap of a file, sendfile), or -errno. */
  hostFile(fd: number): { host: number; path: string } | number {
    const slot = this.slot(fd);
    if (!slot) return -EBADF;
    if (slot.file.kind !== 'file') return -EINVAL;
    return slot.file;
  }

  /** The path of an open directory (fchdir). */
  directoryPath(fd: number): string | number {
    const slot = this.slot(fd);
    if (!slot) return -EBADF;
    return slot.file.kind === 'dir' ? slot.file.path : -ENOTDIR;
  }

  truncate(fd: number, length: number): number {
    const f = this.hostFile(fd);
    if (typeof f === 'number') return f;
    const r = host(() => fs.ftruncateSync(f.host, length));
    return typeof r === 'number' ? r : 0;
  }
}

/** A path operation on the host: 0 or -errno. */
export function hostCall(call: () => void): number {
  const r = host(call);
  return typeof r === 'number' ? r : 0;
}

export { host as hostResult };
