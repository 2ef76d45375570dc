/**
 * The one way memvisor reads a file a user names (a program, a kernel, a disk or
 * file-system image, a snapshot, a campaign file): it must be a regular file no larger
 * than the limit for its kind, checked on the open file before a byte is read. So
 * `/dev/zero`, a FIFO or a directory is one line and exit 2, never a read that grows
 * without end or blocks for a writer.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { MemvisorError } from './errors.js';

const MiB = 1024 * 1024;

/** What a user's file is for, and how large it may be. */
export interface InputKind {
  /** Named in messages: "cannot read the kernel". */
  readonly what: string;
  readonly maxBytes: number;
}

/**
 * The kinds of input and their limits. Disk and file-system images, and the memory a
 * snapshot holds, are bounded by the 2 GiB of host memory a machine may have
 * (MAX_HOST_MEMORY_MIB in src/machine/boot.ts); programs and kernels by what fits well
 * inside it; text files by what any real one needs many times over.
 */
export const INPUT = {
  program: { what: 'program', maxBytes: 256 * MiB },
  kernel: { what: 'kernel', maxBytes: 256 * MiB },
  diskImage: { what: 'disk image', maxBytes: 2048 * MiB },
  fileSystemImage: { what: 'file-system image', maxBytes: 2048 * MiB },
  mkfsInput: { what: 'input file', maxBytes: 256 * MiB },
  snapshot: { what: 'snapshot', maxBytes: 4095 * MiB },
  campaignFile: { what: 'campaign file', maxBytes: 64 * MiB },
  goldenRun: { what: 'golden-run file', maxBytes: 64 * MiB },
  campaignResults: { what: 'results file', maxBytes: 1024 * MiB },
} as const satisfies Record<string, InputKind>;

function describe(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  return 'a special file';
}

function sizeText(bytes: number): string {
  return bytes >= MiB ? `${(bytes / MiB).toFixed(bytes % MiB === 0 ? 0 : 1)} MiB` : `${bytes} bytes`;
}

/**
 * The whole file at `path`, checked first: a regular file of at most `kind.maxBytes`.
 * `label` names the file in messages (e.g. `--kernel k.elf`; default: the path).
 */
export function readInputFile(path: string, kind: InputKind, label: string = path): Buffer {
  let fd: number;
  try {
    // Non-blocking: opening a FIFO must not wait for a writer (it is refused just below).
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new MemvisorError(`${label}: cannot read the ${kind.what} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new MemvisorError(`${label}: is ${describe(stats)}, not a regular file`);
    if (stats.size > kind.maxBytes) {
      throw new MemvisorError(`${label}: ${sizeText(stats.size)} is more than the ${kind.what} limit (${sizeText(kind.maxBytes)})`);
    }
    const bytes = Buffer.allocUnsafe(stats.size);
    let at = 0;
    // The size was checked once: a file that grows meanwhile is read up to that size only.
    while (at < bytes.length) {
      const n = readSync(fd, bytes, at, bytes.length - at, at);
      if (n === 0) break;
      at += n;
    }
    return at === bytes.length ? bytes : bytes.subarray(0, at);
  } catch (e) {
    if (e instanceof MemvisorError) throw e;
    throw new MemvisorError(`${label}: cannot read the ${kind.what} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  } finally {
    closeSync(fd);
  }
}

/** `readInputFile` as text (UTF-8). */
export function readInputText(path: string, kind: InputKind, label: string = path): string {
  return readInputFile(path, kind, label).toString('utf8');
}
