/**
 * The Linux i386 system calls `memvisor exec` answers, as one table: number, name, and
 * what it does. What static glibc, musl and busybox programs call at start-up and for
 * files, time and identity; numbers from the kernel's arch/x86/entry/syscalls/syscall_32.tbl
 * (test/cpu/syscalls.test.ts checks every name and number against <asm/unistd_32.h>).
 * A call not in the table answers -ENOSYS with a one-line warning (fatal with --strict).
 *
 * Handlers see the process through `Kernel`: its memory (reads and writes that fail
 * give -EFAULT), its descriptor table, its clock, and exit.
 */
import * as fs from 'node:fs';
import { resolve } from 'node:path';
import {
  AT_FDCWD, AT_REMOVEDIR, EBADF, EFAULT, EINVAL, ENOENT, ENOSYS, ENOTTY, ERANGE, EPERM, FileTable, encodeStat64, encodeStatx, hostCall,
  hostResult,
} from './files.js';

/** What a system call may do to the process (LinuxProcess implements it). */
export interface Kernel {
  readonly files: FileTable;
  /** The guest's physical memory (sysinfo's total RAM; half of it reported free). */
  readonly physicalMemoryBytes: number;
  /** The program's path as given (readlink of /proc/self/exe answers it, made absolute). */
  readonly programPath: string;
  read(address: number, length: number): Uint8Array | null;
  write(address: number, bytes: Uint8Array): boolean;
  /** A NUL-terminated string of at most 4096 bytes, or null. */
  readString(address: number): string | null;
  /** Nanoseconds since 1970 (realtime) or since start (monotonic): virtual unless --host-time. */
  clockNs(clock: 'realtime' | 'monotonic'): bigint;
  /** Deterministic random bytes (getrandom). */
  randomBytes(count: number): Uint8Array;
  exit(status: number): void;
  /** The process dies of a signal (kill of itself, abort). */
  killedBy(signal: number): void;
  brk(address: number): number;
  mmap(address: number, length: number, prot: number, flags: number, fd: number, pageOffset: number): number;
  munmap(address: number, length: number): number;
  mremap(address: number, oldLength: number, newLength: number, flags: number): number;
  setThreadArea(info: number): number;
  /** rt_sigaction: remembers the handler; returns the old one (8 bytes: handler, flags). */
  signalAction(signal: number, handler: number, flags: number): [number, number];
}

type Handler = (k: Kernel, a: number[]) => number | undefined;

const u32s = (values: number[]) => {
  const out = new Uint8Array(values.length * 4);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setUint32(i * 4, x >>> 0, true));
  return out;
};
const u64s = (values: bigint[]) => {
  const out = new Uint8Array(values.length * 8);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setBigUint64(i * 8, BigInt.asUintN(64, x), true));
  return out;
};
/** Writes `bytes` to user memory: 0, or -EFAULT. */
const put = (k: Kernel, address: number, bytes: Uint8Array): number => (k.write(address, bytes) ? 0 : -EFAULT);
const ok = () => 0;
const PID = 1000;

/** A path argument resolved against dirfd: the absolute host path, or -errno. */
function pathAt(k: Kernel, dirfd: number, address: number): string | number {
  const path = k.readString(address);
  if (path === null) return -EFAULT;
  if (path === '') return -ENOENT;
  return k.files.resolvePath(dirfd, path);
}

/** Applies `call` to a path argument (resolved against dirfd): 0 or -errno. */
function onPath(k: Kernel, dirfd: number, address: number, call: (path: string) => void): number {
  const path = pathAt(k, dirfd, address);
  return typeof path === 'number' ? path : hostCall(() => call(path));
}

function openAt(k: Kernel, dirfd: number, address: number, flags: number, mode: number): number {
  const path = pathAt(k, dirfd, address);
  return typeof path === 'number' ? path : k.files.open(path, flags, mode);
}

function readInto(k: Kernel, fd: number, buffer: number, count: number): number {
  const data = k.files.read(fd, Math.min(count, 1 << 20));
  if (typeof data === 'number') return data;
  return put(k, buffer, data) || data.length;
}

function writeFrom(k: Kernel, fd: number, buffer: number, count: number, offset?: number): number {
  const bytes = k.read(buffer, count);
  if (!bytes) return -EFAULT;
  return k.files.write(fd, bytes, offset);
}

/** readv/writev: the iovec array, then each buffer in turn. */
function vectored(k: Kernel, fd: number, iov: number, count: number, each: (base: number, length: number) => number): number {
  if (count < 0 || count > 1024) return -EINVAL;
  let total = 0;
  for (let i = 0; i < count; i++) {
    const entry = k.read(iov + i * 8, 8);
    if (!entry) return -EFAULT;
    const v = new DataView(entry.buffer);
    const length = v.getUint32(4, true);
    const n = each(v.getUint32(0, true), length);
    if (n < 0) return total || n;
    total += n;
    if (n < length) break;
  }
  return total;
}

function stat64(k: Kernel, result: ReturnType<FileTable['fstat']>, out: number): number {
  return typeof result === 'number' ? result : put(k, out, encodeStat64(result));
}

function seek(k: Kernel, fd: number, offset: number, whence: number, out?: number): number {
  const position = k.files.seek(fd, offset, whence);
  if (position < 0 || out === undefined) return position;
  return put(k, out, u64s([BigInt(position)]));
}

/** clock_gettime: CLOCK_REALTIME (0) and its variants, or a monotonic clock. */
function clockTime(k: Kernel, clock: number, out: number, wide: boolean): number {
  const REALTIME_CLOCKS = [0, 5, 8, 11];
  if (clock < 0 || clock > 11) return -EINVAL;
  const ns = k.clockNs(REALTIME_CLOCKS.includes(clock) ? 'realtime' : 'monotonic');
  const seconds = ns / 1_000_000_000n, nanos = ns % 1_000_000_000n;
  return put(k, out, wide ? u64s([seconds, nanos]) : u32s([Number(seconds), Number(nanos)]));
}

function getcwd(k: Kernel, out: number, size: number): number {
  const bytes = new TextEncoder().encode(`${k.files.cwd}\0`);
  if (bytes.length > size) return -ERANGE;
  return put(k, out, bytes) || bytes.length;
}

function readlink(k: Kernel, dirfd: number, pathAddress: number, out: number, size: number): number {
  const path = k.readString(pathAddress);
  if (path === null) return -EFAULT;
  let target: string | number;
  if (path === '/proc/self/exe') target = resolve(k.programPath);
  else {
    const full = k.files.resolvePath(dirfd, path);
    target = typeof full === 'number' ? full : hostResult(() => fs.readlinkSync(full));
  }
  if (typeof target === 'number') return target;
  const bytes = new TextEncoder().encode(target).subarray(0, size);
  return put(k, out, bytes) || bytes.length;
}

function ioctl(k: Kernel, fd: number, request: number, arg: number): number {
  const TCGETS = 0x5401, TIOCGWINSZ = 0x5413, TIOCGPGRP = 0x540f;
  const terminal = k.files.isTerminal(fd);
  if (typeof terminal === 'number') return terminal;
  if (!terminal) return -ENOTTY;
  switch (request) {
    case TCGETS: // a cooked terminal: ICRNL, OPOST|ONLCR, B38400|CS8|CREAD, ISIG|ICANON|ECHO…
      return put(k, arg, new Uint8Array([...u32s([0x500, 0x5, 0xbf, 0x8a3b]), 0, 3, 0x1c, 0x7f, 0x15, 4, 0, 1, ...new Array(28).fill(0)]));
    case TIOCGWINSZ: {
      const columns = process.stdout.columns || 80, rows = process.stdout.rows || 24;
      return put(k, arg, new Uint8Array(new Uint16Array([rows, columns, 0, 0]).buffer));
    }
    case TIOCGPGRP: return put(k, arg, u32s([PID]));
    default: return 0;
  }
}

function rlimit(k: Kernel, resource: number, out: number, wide: boolean): number {
  if (!out) return 0;
  const RLIMIT_STACK = 3, RLIMIT_NOFILE = 7;
  const limit = resource === RLIMIT_STACK ? 8n << 20n : resource === RLIMIT_NOFILE ? 1024n : wide ? -1n : 0xffffffffn;
  return put(k, out, wide ? u64s([limit, limit]) : u32s([Number(limit & 0xffffffffn), Number(limit & 0xffffffffn)]));
}

function rtSigaction(k: Kernel, signal: number, action: number, old: number): number {
  if (signal < 1 || signal > 64) return -EINVAL;
  let handler = -1, flags = 0;
  if (action) {
    const bytes = k.read(action, 8);
    if (!bytes) return -EFAULT;
    const v = new DataView(bytes.buffer);
    handler = v.getUint32(0, true);
    flags = v.getUint32(4, true);
  }
  const [oldHandler, oldFlags] = k.signalAction(signal, handler, flags);
  return old ? put(k, old, new Uint8Array([...u32s([oldHandler, oldFlags, 0]), ...new Uint8Array(8)])) : 0;
}

function kill(k: Kernel, pid: number, signal: number): number {
  if (pid !== PID && pid !== 0 && pid !== -1) return -EPERM;
  if (signal !== 0) k.killedBy(signal);
  return 0;
}

function sendfile(k: Kernel, outFd: number, inFd: number, offsetAddress: number, count: number): number {
  let offset: number | undefined;
  if (offsetAddress) {
    const raw = k.read(offsetAddress, 8);
    if (!raw) return -EFAULT;
    offset = Number(new DataView(raw.buffer).getBigInt64(0, true));
  }
  const data = offset === undefined ? k.files.read(inFd, Math.min(count, 1 << 20)) : k.files.pread(inFd, Math.min(count, 1 << 20), offset);
  if (typeof data === 'number') return data;
  const written = k.files.write(outFd, data);
  if (written < 0 || offset === undefined) return written;
  return put(k, offsetAddress, u64s([BigInt(offset + written)])) || written;
}

function utimensat(k: Kernel, dirfd: number, pathAddress: number, times: number): number {
  const UTIME_NOW = 0x3fffffff, UTIME_OMIT = 0x3ffffffe;
  const now = Number(k.clockNs('realtime')) / 1e9;
  let atime = now, mtime = now;
  if (times) {
    const raw = k.read(times, 16);
    if (!raw) return -EFAULT;
    const v = new DataView(raw.buffer);
    const at = (i: number, fallback: number) => {
      const ns = v.getInt32(i + 4, true);
      return ns === UTIME_NOW ? now : ns === UTIME_OMIT ? fallback : v.getInt32(i, true) + ns / 1e9;
    };
    const target = pathAddress ? pathAt(k, dirfd, pathAddress) : -EBADF;
    const st = typeof target === 'string' ? hostResult(() => fs.statSync(target)) : null;
    atime = at(0, st && typeof st !== 'number' ? st.atimeMs / 1000 : now);
    mtime = at(8, st && typeof st !== 'number' ? st.mtimeMs / 1000 : now);
  }
  if (!pathAddress) {
    const file = k.files.hostFile(dirfd);
    return typeof file === 'number' ? file : hostCall(() => fs.futimesSync(file.host, atime, mtime));
  }
  return onPath(k, dirfd, pathAddress, (p) => fs.utimesSync(p, atime, mtime));
}

const uid = () => (process.getuid ? process.getuid() : 0);
const gid = () => (process.getgid ? process.getgid() : 0);
const i64 = (low: number, high: number) => (high | 0) * 0x100000000 + (low >>> 0);

/** [number, name, handler]: the table. */
const TABLE: Array<[number, string, Handler]> = [
  [1, 'exit', (k, a) => { k.exit(a[0]!); return undefined; }],
  [252, 'exit_group', (k, a) => { k.exit(a[0]!); return undefined; }],
  [3, 'read', (k, a) => readInto(k, a[0]!, a[1]!, a[2]! >>> 0)],
  [4, 'write', (k, a) => writeFrom(k, a[0]!, a[1]!, a[2]! >>> 0)],
  [180, 'pread64', (k, a) => {
    const data = k.files.pread(a[0]!, Math.min(a[2]! >>> 0, 1 << 20), i64(a[3]!, a[4]!));
    return typeof data === 'number' ? data : put(k, a[1]!, data) || data.length;
  }],
  [181, 'pwrite64', (k, a) => writeFrom(k, a[0]!, a[1]!, a[2]! >>> 0, i64(a[3]!, a[4]!))],
  [145, 'readv', (k, a) => vectored(k, a[0]!, a[1]!, a[2]!, (base, n) => readInto(k, a[0]!, base, n))],
  [146, 'writev', (k, a) => vectored(k, a[0]!, a[1]!, a[2]!, (base, n) => writeFrom(k, a[0]!, base, n))],
  [5, 'open', (k, a) => openAt(k, AT_FDCWD, a[0]!, a[1]!, a[2]!)],
  [295, 'openat', (k, a) => openAt(k, a[0]!, a[1]!, a[2]!, a[3]!)],
  [6, 'close', (k, a) => k.files.close(a[0]!)],
  [41, 'dup', (k, a) => k.files.dup(a[0]!, -1)],
  [63, 'dup2', (k, a) => k.files.dup(a[0]!, a[1]!)],
  [330, 'dup3', (k, a) => (a[0] === a[1] ? -EINVAL : k.files.dup(a[0]!, a[1]!, 0, (a[2]! & 0x80000) !== 0))],
  [55, 'fcntl', (k, a) => k.files.fcntl(a[0]!, a[1]!, a[2]!)],
  [221, 'fcntl64', (k, a) => k.files.fcntl(a[0]!, a[1]!, a[2]!)],
  [19, 'lseek', (k, a) => seek(k, a[0]!, a[1]!, a[2]!)],
  [140, '_llseek', (k, a) => seek(k, a[0]!, i64(a[2]!, a[1]!), a[4]!, a[3]!)],
  [195, 'stat64', (k, a) => { const p = pathAt(k, AT_FDCWD, a[0]!); return typeof p === 'number' ? p : stat64(k, k.files.stat(p, true), a[1]!); }],
  [196, 'lstat64', (k, a) => { const p = pathAt(k, AT_FDCWD, a[0]!); return typeof p === 'number' ? p : stat64(k, k.files.stat(p, false), a[1]!); }],
  [197, 'fstat64', (k, a) => stat64(k, k.files.fstat(a[0]!), a[1]!)],
  [300, 'fstatat64', (k, a) => {
    const path = k.readString(a[1]!);
    return path === null ? -EFAULT : stat64(k, k.files.statAt(a[0]!, path, a[3]!), a[2]!);
  }],
  [383, 'statx', (k, a) => {
    const path = k.readString(a[1]!);
    if (path === null) return -EFAULT;
    const st = k.files.statAt(a[0]!, path, a[2]!);
    return typeof st === 'number' ? st : put(k, a[4]!, encodeStatx(st));
  }],
  [220, 'getdents64', (k, a) => {
    const data = k.files.getdents64(a[0]!, a[2]! >>> 0);
    return typeof data === 'number' ? data : put(k, a[1]!, data) || data.length;
  }],
  [33, 'access', (k, a) => onPath(k, AT_FDCWD, a[0]!, (p) => fs.accessSync(p, a[1]!))],
  [307, 'faccessat', (k, a) => onPath(k, a[0]!, a[1]!, (p) => fs.accessSync(p, a[2]!))],
  [439, 'faccessat2', (k, a) => onPath(k, a[0]!, a[1]!, (p) => fs.accessSync(p, a[2]!))],
  [10, 'unlink', (k, a) => onPath(k, AT_FDCWD, a[0]!, (p) => fs.unlinkSync(p))],
  [301, 'unlinkat', (k, a) => onPath(k, a[0]!, a[1]!, (p) => (a[2]! & AT_REMOVEDIR ? fs.rmdirSync(p) : fs.unlinkSync(p)))],
  [39, 'mkdir', (k, a) => onPath(k, AT_FDCWD, a[0]!, (p) => fs.mkdirSync(p, { mode: a[1]! }))],
  [296, 'mkdirat', (k, a) => onPath(k, a[0]!, a[1]!, (p) => fs.mkdirSync(p, { mode: a[2]! }))],
  [40, 'rmdir', (k, a) => onPath(k, AT_FDCWD, a[0]!, (p) => fs.rmdirSync(p))],
  [38, 'rename', (k, a) => {
    const to = pathAt(k, AT_FDCWD, a[1]!);
    return typeof to === 'number' ? to : onPath(k, AT_FDCWD, a[0]!, (p) => fs.renameSync(p, to));
  }],
  [302, 'renameat', (k, a) => {
    const to = pathAt(k, a[2]!, a[3]!);
    return typeof to === 'number' ? to : onPath(k, a[0]!, a[1]!, (p) => fs.renameSync(p, to));
  }],
  [353, 'renameat2', (k, a) => {
    if (a[4]) return -EINVAL;
    const to = pathAt(k, a[2]!, a[3]!);
    return typeof to === 'number' ? to : onPath(k, a[0]!, a[1]!, (p) => fs.renameSync(p, to));
  }],
  [83, 'symlink', (k, a) => {
    const target = k.readString(a[0]!);
    return target === null ? -EFAULT : onPath(k, AT_FDCWD, a[1]!, (p) => fs.symlinkSync(target, p));
  }],
  [9, 'link', (k, a) => {
    const to = pathAt(k, AT_FDCWD, a[1]!);
    return typeof to === 'number' ? to : onPath(k, AT_FDCWD, a[0]!, (p) => fs.linkSync(p, to));
  }],
  [85, 'readlink', (k, a) => readlink(k, AT_FDCWD, a[0]!, a[1]!, a[2]!)],
  [305, 'readlinkat', (k, a) => readlink(k, a[0]!, a[1]!, a[2]!, a[3]!)],
  [15, 'chmod', (k, a) => onPath(k, AT_FDCWD, a[0]!, (p) => fs.chmodSync(p, a[1]! & 0o7777))],
  [306, 'fchmodat', (k, a) => onPath(k, a[0]!, a[1]!, (p) => fs.chmodSync(p, a[2]! & 0o7777))],
  [94, 'fchmod', (k, a) => {
    const f = k.files.hostFile(a[0]!);
    return typeof f === 'number' ? f : hostCall(() => fs.fchmodSync(f.host, a[1]! & 0o7777));
  }],
  [12, 'chdir', (k, a) => {
    const p = pathAt(k, AT_FDCWD, a[0]!);
    if (typeof p === 'number') return p;
    const st = hostResult(() => fs.statSync(p));
    if (typeof st === 'number') return st;
    if (!st.isDirectory()) return -20;
    k.files.cwd = p;
    return 0;
  }],
  [133, 'fchdir', (k, a) => {
    const p = k.files.directoryPath(a[0]!);
    if (typeof p === 'number') return p;
    k.files.cwd = p;
    return 0;
  }],
  [183, 'getcwd', (k, a) => getcwd(k, a[0]!, a[1]! >>> 0)],
  [93, 'ftruncate', (k, a) => k.files.truncate(a[0]!, a[1]! >>> 0)],
  [194, 'ftruncate64', (k, a) => k.files.truncate(a[0]!, i64(a[1]!, a[2]!))],
  [193, 'truncate64', (k, a) => onPath(k, AT_FDCWD, a[0]!, (p) => fs.truncateSync(p, i64(a[1]!, a[2]!)))],
  [118, 'fsync', (k, a) => (k.files.isTerminal(a[0]!) as number) < 0 ? -EBADF : 0],
  [148, 'fdatasync', (k, a) => (k.files.isTerminal(a[0]!) as number) < 0 ? -EBADF : 0],
  [320, 'utimensat', (k, a) => utimensat(k, a[0]!, a[1]!, a[2]!)],
  [412, 'utimensat_time64', (k, a) => utimensat(k, a[0]!, a[1]!, a[2]!)],
  [60, 'umask', () => 0o022],
  [54, 'ioctl', (k, a) => ioctl(k, a[0]!, a[1]! >>> 0, a[2]!)],
  [239, 'sendfile64', (k, a) => sendfile(k, a[0]!, a[1]!, a[2]!, a[3]! >>> 0)],
  [272, 'fadvise64_64', ok],
  [219, 'madvise', ok],
  // Memory.
  [45, 'brk', (k, a) => k.brk(a[0]! >>> 0)],
  [90, 'mmap', (k, a) => {
    const raw = k.read(a[0]!, 24);
    if (!raw) return -EFAULT;
    const v = new DataView(raw.buffer);
    const offset = v.getUint32(20, true);
    if (offset & 0xfff) return -EINVAL;
    return k.mmap(v.getUint32(0, true), v.getUint32(4, true), v.getUint32(8, true), v.getUint32(12, true), v.getInt32(16, true), offset >>> 12);
  }],
  [192, 'mmap2', (k, a) => k.mmap(a[0]! >>> 0, a[1]! >>> 0, a[2]!, a[3]!, a[4]!, a[5]! >>> 0)],
  [91, 'munmap', (k, a) => k.munmap(a[0]! >>> 0, a[1]! >>> 0)],
  [163, 'mremap', (k, a) => k.mremap(a[0]! >>> 0, a[1]! >>> 0, a[2]! >>> 0, a[3]!)],
  [125, 'mprotect', ok], // every page stays readable and writable
  [243, 'set_thread_area', (k, a) => k.setThreadArea(a[0]! >>> 0)],
  // Process identity, threads and signals (one thread, no signal delivery but to die).
  [20, 'getpid', () => PID],
  [224, 'gettid', () => PID],
  [64, 'getppid', () => 1],
  [65, 'getpgrp', () => PID],
  [132, 'getpgid', () => PID],
  [147, 'getsid', () => PID],
  [258, 'set_tid_address', () => PID],
  [311, 'set_robust_list', ok],
  [386, 'rseq', () => -ENOSYS], // as a kernel without restartable sequences (qemu-i386 too): glibc goes on without
  [24, 'getuid', uid], [199, 'getuid32', uid], [49, 'geteuid', uid], [201, 'geteuid32', uid],
  [47, 'getgid', gid], [200, 'getgid32', gid], [50, 'getegid', gid], [202, 'getegid32', gid],
  [205, 'getgroups32', () => 0],
  [174, 'rt_sigaction', (k, a) => rtSigaction(k, a[0]!, a[1]!, a[2]!)],
  [175, 'rt_sigprocmask', (k, a) => (a[2] ? put(k, a[2], new Uint8Array(8)) : 0)],
  [186, 'sigaltstack', (k, a) => (a[1] ? put(k, a[1], u32s([0, 2, 0])) : 0)], // SS_DISABLE
  [37, 'kill', (k, a) => kill(k, a[0]!, a[1]!)],
  [238, 'tkill', (k, a) => kill(k, a[0]!, a[1]!)],
  [270, 'tgkill', (k, a) => kill(k, a[1]!, a[2]!)],
  [172, 'prctl', (_k, a) => (a[0] === 15 || a[0] === 16 ? 0 : -EINVAL)], // PR_SET_NAME, PR_GET_NAME
  [191, 'ugetrlimit', (k, a) => rlimit(k, a[0]!, a[1]!, false)],
  [76, 'getrlimit', (k, a) => rlimit(k, a[0]!, a[1]!, false)],
  [75, 'setrlimit', ok],
  [340, 'prlimit64', (k, a) => (a[0] && a[0] !== PID ? -EPERM : rlimit(k, a[1]!, a[3]!, true))],
  [122, 'uname', (k, a) => {
    const fields = ['Linux', 'memvisor', '6.1.0', '#1 memvisor exec', 'i686', '(none)'];
    const bytes = new Uint8Array(65 * 6);
    fields.forEach((f, i) => bytes.set(new TextEncoder().encode(f), i * 65));
    return put(k, a[0]!, bytes);
  }],
  [116, 'sysinfo', (k, a) => {
    // uptime, loads[3], totalram, freeram, shared, buffer, totalswap, freeswap, procs | pad, totalhigh, freehigh, mem_unit, 8 bytes.
    const uptime = Number(k.clockNs('monotonic') / 1_000_000_000n);
    const ram = k.physicalMemoryBytes;
    return put(k, a[0]!, u32s([uptime, 0, 0, 0, ram, ram >>> 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0]));
  }],
  [355, 'getrandom', (k, a) => {
    const n = Math.min(a[1]! >>> 0, 1 << 20);
    return put(k, a[0]!, k.randomBytes(n)) || n;
  }],
  [158, 'sched_yield', ok],
  // Time.
  [13, 'time', (k, a) => {
    const seconds = Number(k.clockNs('realtime') / 1_000_000_000n);
    return a[0] ? put(k, a[0], u32s([seconds])) || seconds : seconds;
  }],
  [78, 'gettimeofday', (k, a) => {
    const ns = k.clockNs('realtime');
    return a[0] ? put(k, a[0], u32s([Number(ns / 1_000_000_000n), Number((ns / 1000n) % 1_000_000n)])) : 0;
  }],
  [265, 'clock_gettime', (k, a) => clockTime(k, a[0]!, a[1]!, false)],
  [403, 'clock_gettime64', (k, a) => clockTime(k, a[0]!, a[1]!, true)],
  [266, 'clock_getres', (k, a) => (a[1] ? put(k, a[1], u32s([0, 1])) : 0)],
  [406, 'clock_getres_time64', (k, a) => (a[1] ? put(k, a[1], u64s([0n, 1n])) : 0)],
];

export interface Syscall {
  name: string;
  handler: Handler;
}

/** Number → system call, for the calls we answer. */
export const SYSCALLS = new Map<number, Syscall>(TABLE.map(([n, name, handler]) => [n, { name, handler }]));

/** Names of calls we do not answer but can name in a warning (process creation, sockets). */
export const UNANSWERED_NAMES: Record<number, string> = {
  2: 'fork', 11: 'execve', 42: 'pipe', 102: 'socketcall', 114: 'wait4', 120: 'clone', 142: '_newselect', 162: 'nanosleep',
  168: 'poll', 190: 'vfork', 240: 'futex', 331: 'pipe2', 435: 'clone3',
};

export function syscallName(n: number): string | undefined {
  return SYSCALLS.get(n)?.name ?? UNANSWERED_NAMES[n];
}

export { EBADF, ENOSYS };
