/**
 * Multiboot (version 1) loading of an ELF kernel, as QEMU's `-kernel` does: the header
 * must be in the first 8 KiB; PT_LOAD segments go to their physical addresses; the
 * information structure (memory sizes, a memory map, the command line) is built in low
 * memory; the CPU starts in flat 32-bit protected mode at CPL 0 with paging off,
 * EAX = 0x2BADB002 and EBX = the information structure.
 */
import { MemvisorError } from '../errors.js';
import type { CPU } from '../cpu/cpu.js';
import type { PhysicalMemory } from '../cpu/memory.js';
import { CR0_ET, CR0_PE, EAX, EBX } from '../cpu/state.js';
import { PT_LOAD, parseElf, segmentImage } from '../elf/index.js';

export const MULTIBOOT_HEADER_MAGIC = 0x1badb002;
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;
/** Where the information structure, memory map and command line go (below 640 KiB). */
const INFO_AT = 0x9000;
const MMAP_AT = 0x9100;
const CMDLINE_AT = 0x9400;
/** The command line and its NUL fill [CMDLINE_AT, 0x9800). */
export const MAX_CMDLINE_BYTES = 1023;
/**
 * A memory-map type of memvisor's own: the mirror reserve of system mode, the upper half
 * of memory, where every frame pa of the lower half has its twin pa + the reserve's start.
 * Not a standard type: a kernel that does not know it treats it as reserved.
 */
export const MULTIBOOT_MEMORY_MIRROR = 0x20;

export interface MultibootKernel {
  entry: number;
  /** Lowest and highest physical address the kernel occupies. */
  start: number;
  end: number;
}

/** Finds and checks the multiboot header; a clear error naming the file if absent. */
function checkHeader(bytes: Uint8Array, path: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + 12 <= Math.min(bytes.length, 8192); at += 4) {
    if (view.getUint32(at, true) !== MULTIBOOT_HEADER_MAGIC) continue;
    const flags = view.getUint32(at + 4, true), checksum = view.getUint32(at + 8, true);
    if (((MULTIBOOT_HEADER_MAGIC + flags + checksum) >>> 0) !== 0) continue;
    if (flags & 0x10000) throw new MemvisorError(`${path}: multiboot a.out kludge (flag bit 16) is not supported; use an ELF kernel`);
    if (flags & 0x4) throw new MemvisorError(`${path}: the kernel asks for a graphics mode (multiboot flag bit 2), which memvisor does not provide`);
    return;
  }
  throw new MemvisorError(`${path}: no multiboot header in the first 8 KiB (not a multiboot kernel)`);
}

/** `mirrorReserve`: the start of the mirror reserve (system mode), which ends usable memory; 0 for none. */
export function loadMultiboot(mem: PhysicalMemory, cpu: CPU, bytes: Uint8Array, path: string, cmdline = '', mirrorReserve = 0): MultibootKernel {
  const text = new TextEncoder().encode(`${cmdline}\0`);
  if (text.length > MAX_CMDLINE_BYTES + 1) {
    throw new MemvisorError(`--cmdline: ${text.length - 1} bytes; the multiboot command line holds at most ${MAX_CMDLINE_BYTES}`);
  }
  const usableEnd = mirrorReserve || mem.guestSize;
  const elf = parseElf(bytes, path);
  checkHeader(bytes, path);
  let start = Infinity, end = 0;
  for (const ph of elf.programHeaders) {
    if (ph.type !== PT_LOAD || ph.memsz === 0) continue;
    const at = ph.paddr >>> 0;
    if (at < 0x100000 || at + ph.memsz > usableEnd) {
      throw new MemvisorError(`${path}: segment at physical 0x${at.toString(16)}+0x${ph.memsz.toString(16)} does not fit in ` +
        `${usableEnd >>> 20} MiB above 1 MiB`);
    }
    const image = segmentImage(elf, ph);
    mem.ram.set(image, mem.hostOffset(at));
    mem.noteHostWrite(mem.hostOffset(at), image.length);
    start = Math.min(start, at);
    end = Math.max(end, at + ph.memsz);
  }
  if (end === 0) throw new MemvisorError(`${path}: no loadable segments`);

  // The information structure: flags 0 (mem_lower/upper), 2 (cmdline), 6 (memory map).
  const regions: Array<[number, number, number]> = [
    [0, 0x9fc00, 1], [0x9fc00, 0x400, 2], [0xf0000, 0x10000, 2], [0x100000, usableEnd - 0x100000, 1],
  ];
  if (mirrorReserve) regions.push([mirrorReserve, mem.guestSize - mirrorReserve, MULTIBOOT_MEMORY_MIRROR]);
  regions.forEach(([base, length, type], i) => {
    const e = MMAP_AT + i * 24;
    mem.write32(e, 20);
    mem.write32(e + 4, base);
    mem.write32(e + 8, 0);
    mem.write32(e + 12, length);
    mem.write32(e + 16, 0);
    mem.write32(e + 20, type);
  });
  mem.ram.set(text, mem.hostOffset(CMDLINE_AT));
  mem.ram.fill(0, mem.hostOffset(INFO_AT), mem.hostOffset(INFO_AT) + 88);
  mem.noteHostWrite(mem.hostOffset(CMDLINE_AT), text.length);
  mem.noteHostWrite(mem.hostOffset(INFO_AT), 88);
  mem.write32(INFO_AT, 0x1 | 0x4 | 0x40);
  mem.write32(INFO_AT + 4, 639);
  mem.write32(INFO_AT + 8, (usableEnd - 0x100000) >>> 10);
  mem.write32(INFO_AT + 16, CMDLINE_AT);
  mem.write32(INFO_AT + 44, regions.length * 24);
  mem.write32(INFO_AT + 48, MMAP_AT);

  cpu.reset();
  cpu.setCr0(CR0_PE | CR0_ET);
  cpu.enterFlatProtectedMode(0);
  cpu.setEflags(2);
  cpu.reg[EAX] = MULTIBOOT_BOOTLOADER_MAGIC;
  cpu.reg[EBX] = INFO_AT;
  cpu.eip = elf.entry | 0;
  return { entry: elf.entry >>> 0, start, end };
}
