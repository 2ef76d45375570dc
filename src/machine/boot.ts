/**
 * Building a machine from what the user names: a multiboot kernel (`--kernel`) and/or
 * disk images (`--hda`, `--hdb`). With a kernel, the kernel is loaded as QEMU's -kernel
 * does; with only --hda, its boot sector is loaded at 0x7C00 and run in real mode.
 * Each image is a file to read (the command line) or bytes already in memory (a web
 * page fetches them), named for messages either way.
 */
import { MAX_HOST_BYTES, MiB } from '../cpu/index.js';
import { MemvisorError } from '../errors.js';
import { INPUT, readInputFile } from '../input-file.js';
import { DiskImage, imageName, SECTOR, type ImageSource } from './disk.js';
import { loadMultiboot } from './multiboot.js';
import { PC } from './pc.js';

export type { ImageSource } from './disk.js';

export interface BootConfig {
  kernel?: ImageSource;
  cmdline?: string;
  hda?: ImageSource;
  hdb?: ImageSource;
  hdaWritable?: boolean;
  hdbWritable?: boolean;
  memoryMiB: number;
  rtcStart: number;
  debugExit?: boolean;
  spareMiB?: number;
  /** Split memory into a native half and a mirror half, told to the kernel in its memory map (--mirror system). */
  mirrorReserve?: boolean;
}

export const MIN_MEMORY_MIB = 2;
/** Guest memory and what the monitor reserves beside it share the host memory a machine may have. */
export const MAX_HOST_MEMORY_MIB = MAX_HOST_BYTES / MiB;

/** Why a machine of this size cannot be built, or null: one line naming the sizes. */
export function machineMemoryProblem(memoryMiB: number, reservedMiB: number): string | null {
  if (!Number.isInteger(memoryMiB) || memoryMiB < MIN_MEMORY_MIB) return `--mem ${memoryMiB}: at least ${MIN_MEMORY_MIB} MiB`;
  if (!Number.isInteger(reservedMiB) || reservedMiB < 0) return `reserved memory ${reservedMiB}: expected a whole number of MiB`;
  if (memoryMiB + reservedMiB > MAX_HOST_MEMORY_MIB) {
    return `--mem ${memoryMiB}: ${memoryMiB} MiB of guest memory and ${reservedMiB} MiB the monitor reserves beside it ` +
      `(--spare, and a copy of guest memory with --mirror hardware) make ${memoryMiB + reservedMiB} MiB; a machine may have at most ${MAX_HOST_MEMORY_MIB} MiB`;
  }
  return null;
}

export function readKernel(source: ImageSource): Uint8Array {
  return typeof source === 'string' ? readInputFile(source, INPUT.kernel, `--kernel ${source}`) : source.bytes;
}

export function bootMachine(config: BootConfig): PC {
  if (!config.kernel && !config.hda) throw new MemvisorError('nothing to boot: give --kernel FILE, or --hda FILE with a boot sector');
  const memory = machineMemoryProblem(config.memoryMiB, config.spareMiB ?? 0);
  if (memory) throw new MemvisorError(memory);
  const kernel = config.kernel ? readKernel(config.kernel) : null;
  const hda = config.hda ? DiskImage.open(config.hda, '--hda', config.hdaWritable) : null;
  const hdb = config.hdb ? DiskImage.open(config.hdb, '--hdb', config.hdbWritable) : null;
  const pc = new PC({ memoryMiB: config.memoryMiB, hda, hdb, rtcStart: config.rtcStart, debugExit: config.debugExit, spareMiB: config.spareMiB });
  if (kernel) {
    const reserve = config.mirrorReserve ? pc.mem.guestSize / 2 : 0;
    const image = loadMultiboot(pc.mem, pc.cpu, kernel, `--kernel ${imageName(config.kernel!)}`, config.cmdline ?? '', reserve);
    pc.kernelFrames = [image.start >>> 12, (image.end + 4095) >>> 12];
  } else {
    const sector = hda!.data.subarray(0, SECTOR);
    if (sector[510] !== 0x55 || sector[511] !== 0xaa) {
      throw new MemvisorError(`--hda ${imageName(config.hda!)}: no boot signature (0x55 0xAA at offset 510), and no --kernel given`);
    }
    pc.mem.ram.set(sector, pc.mem.hostOffset(0x7c00));
    pc.mem.noteHostWrite(pc.mem.hostOffset(0x7c00), SECTOR);
    pc.bootSector();
  }
  return pc;
}
