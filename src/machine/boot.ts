/**
 * Building a machine from what the user names: a multiboot kernel (`--kernel`) and/or
 * disk images (`--hda`, `--hdb`). With a kernel, the kernel is loaded as QEMU's -kernel
 * does; with only --hda, its boot sector is loaded at 0x7C00 and run in real mode.
 * Each image is a file to read (the command line) or bytes already in memory (a web
 * page fetches them), named for messages either way.
 */
import { readFileSync } from 'node:fs';
import { MemvisorError } from '../errors.js';
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

export function readKernel(source: ImageSource): Uint8Array {
  if (typeof source !== 'string') return source.bytes;
  const path = source;
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new MemvisorError(`--kernel ${path}: cannot read the kernel (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

export function bootMachine(config: BootConfig): PC {
  if (!config.kernel && !config.hda) throw new MemvisorError('nothing to boot: give --kernel FILE, or --hda FILE with a boot sector');
  if (config.memoryMiB < MIN_MEMORY_MIB) throw new MemvisorError(`--mem ${config.memoryMiB}: at least ${MIN_MEMORY_MIB} MiB`);
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
    pc.bootSector();
  }
  return pc;
}
