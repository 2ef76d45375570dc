/**
 * `memvisor exec`: runs a static i386 Linux ELF at ring 3 on our CPU, like qemu-i386.
 * The runner plays the kernel: it builds the page tables, loads the segments, lays out
 * the initial stack (argc, argv, envp, auxv), grows the stack on demand, and answers
 * `int $0x80` with a small set of Linux system calls. Guest faults become the signal a
 * Linux process would die of, reported in one line with the address and bytes.
 */
import { readSync, writeSync } from 'node:fs';
import { MemvisorError } from '../errors.js';
import { CPU, PhysicalMemory } from '../cpu/index.js';
import {
  CR0_PE, CR0_PG, CR0_WP, CR4_PSE, EAX, EBP, EBX, ECX, EDI, EDX, ESI, ESP, EXCEPTION_NAMES, PF_PROTECTION, PF_WRITE,
  PTE_U, PTE_W, VEC_BP, VEC_DE, VEC_GP, VEC_PF, VEC_UD, VEC_NM, segmentDescriptor, DESC_PRESENT, DESC_S, DESC_CODE, DESC_RW,
  DESC_ACCESSED, VEC_OF, VEC_BR, VEC_DB, VEC_SS, VEC_NP, VEC_AC, PREFIX_BYTE,
} from '../cpu/state.js';
import { PT_LOAD, type ElfFile, readTranslationNote, requireStaticExecutable, segmentImage } from '../elf/index.js';
import { AddressSpace } from './address-space.js';
import type { IoSpace } from '../cpu/bus.js';
import { CYCLE_NS, REPRODUCIBLE_EPOCH } from '../virtual-time.js';

export const STACK_TOP = 0xc0000000;
const STACK_MAX = 8 << 20;
const MMAP_TOP = 0xb0000000;
const GDT_LINEAR = 0xfffff000 | 0;
const TLS_FIRST_ENTRY = 6;
/** Linux's i386 user selectors (GDT entries 4 and 5), which programs can observe. */
const USER_CS = 0x23, USER_DS = 0x2b;

const ENOENT = 2, EBADF = 9, ENOMEM = 12, EFAULT = 14, EINVAL = 22, ENOSYS = 38;

/** Linux i386 system-call numbers we answer, with names for messages. */
const SYSCALL_NAMES: Record<number, string> = {
  1: 'exit', 3: 'read', 4: 'write', 5: 'open', 6: 'close', 13: 'time', 20: 'getpid', 24: 'getuid', 45: 'brk', 47: 'getgid',
  49: 'geteuid', 50: 'getegid', 54: 'ioctl', 78: 'gettimeofday', 90: 'mmap', 91: 'munmap', 122: 'uname', 125: 'mprotect',
  146: 'writev', 174: 'rt_sigaction', 175: 'rt_sigprocmask', 192: 'mmap2', 224: 'gettid', 243: 'set_thread_area',
  252: 'exit_group', 258: 'set_tid_address',
};

const SIGNALS: Record<number, [number, string]> = {
  [VEC_DE]: [8, 'floating point exception (divide error)'],
  [VEC_DB]: [5, 'trace/breakpoint trap'],
  [VEC_BP]: [5, 'trace/breakpoint trap (int3)'],
  [VEC_OF]: [11, 'segmentation fault (into)'],
  [VEC_BR]: [11, 'segmentation fault (bound range exceeded)'],
  [VEC_UD]: [4, 'illegal instruction'],
  [VEC_NM]: [4, 'illegal instruction (x87 floating point is not emulated)'],
  [VEC_NP]: [11, 'segmentation fault (segment not present)'],
  [VEC_SS]: [11, 'segmentation fault (stack segment)'],
  [VEC_GP]: [11, 'segmentation fault (general protection)'],
  [VEC_PF]: [11, 'segmentation fault'],
  [VEC_AC]: [7, 'bus error (alignment check)'],
};

export interface ExecOptions {
  path: string;
  args: string[];
  env?: string[];
  memoryBytes?: number;
  /** Stop (exit status 124, like timeout(1)) after this many instructions. */
  maxInstructions?: number;
  stdout?: (bytes: Uint8Array) => void;
  stderr?: (bytes: Uint8Array) => void;
  stdin?: (max: number) => Uint8Array;
  /** Run a program translated for MemV6 (not --linux-stub) with a mirror: see AddressSpace. */
  mirror?: boolean;
  /** Executions of an address before its block is compiled (CPU default if unset); 0 = interpreter only. */
  blockThreshold?: number;
  /**
   * `time` and `gettimeofday` read the host's clock. Otherwise time is virtual: 2026-01-01
   * at the first instruction, 10 ns per instruction after it, the same in every run.
   */
  hostTime?: boolean;
}

export interface ExecResult {
  exitCode: number;
  /** The signal name the process died of, if any, and a one-line description. */
  signal?: number;
  message?: string;
  instructions: number;
  seconds: number;
  /** With `mirror`: how native and mirror memory compare at exit. */
  mirror?: ReturnType<AddressSpace['mirrorDifferences']>;
}

class NoDevices implements IoSpace {
  read(): number { return 0xffffffff; }
  write(): void { /* a user process has no ports */ }
}

export class LinuxProcess {
  readonly mem: PhysicalMemory;
  readonly cpu: CPU;
  readonly space: AddressSpace;
  private brkStart = 0;
  private brkEnd = 0;
  /** Where the stack and the mmap area end; below the mirror offset when mirroring. */
  private readonly stackTop: number;
  private readonly mmapTop: number;
  private mmapNext: number;
  private exited: ExecResult | null = null;
  private readonly stdout: (bytes: Uint8Array) => void;
  private readonly stderr: (bytes: Uint8Array) => void;
  private readonly stdin: (max: number) => Uint8Array;
  private readonly closed = new Set<number>();

  constructor(readonly elf: ElfFile, readonly options: ExecOptions) {
    requireStaticExecutable(elf);
    this.mem = new PhysicalMemory(options.memoryBytes ?? 256 << 20);
    this.cpu = new CPU(this.mem, new NoDevices());
    if (options.blockThreshold !== undefined) this.cpu.blocks.threshold = options.blockThreshold;
    this.space = new AddressSpace(this.mem);
    this.stackTop = STACK_TOP;
    if (options.mirror) {
      const offset = this.translationOffset();
      this.space.mirrorOffset = offset;
      this.stackTop = offset - 0x01000000;
    }
    this.mmapTop = options.mirror ? this.stackTop - STACK_MAX - 0x100000 : MMAP_TOP;
    this.mmapNext = this.mmapTop;
    this.stdout = options.stdout ?? ((b) => writeAll(1, b));
    this.stderr = options.stderr ?? ((b) => writeAll(2, b));
    this.stdin = options.stdin ?? readStdin;
    this.load();
  }

  /** The mirror offset from the translator's note; the spill page gets no twin. */
  private translationOffset(): number {
    const note = readTranslationNote(this.elf);
    if (!note) this.fail('--mirror runs programs made by memvisor translate; this one has no translation note');
    if (this.elf.symbols.some((s) => s.name === '__memvisor_linux_stub')) {
      this.fail('translated with --linux-stub, which maps its own mirror: run it without --mirror');
    }
    if (note.offset < 0x10000000) this.fail(`translation note names an unusable mirror offset 0x${note.offset.toString(16)}`);
    if (note.spillPage !== null) this.space.noTwin = note.spillPage;
    return note.offset;
  }

  private fail(message: string): never {
    throw new MemvisorError(`${this.options.path}: ${message}`);
  }

  private load(): void {
    const space = this.space;
    let top = 0;
    for (const ph of this.elf.programHeaders) {
      if (ph.type !== PT_LOAD || ph.memsz === 0) continue;
      const start = ph.vaddr >>> 0, end = start + ph.memsz;
      if (end > 0x100000000 || start < 0x1000) this.fail(`segment at 0x${start.toString(16)} is outside user memory`);
      if (end > this.mmapTop - STACK_MAX) this.fail(`segment at 0x${start.toString(16)} overlaps the stack area`);
      // Memory runs out here because of the file, not of what the program does: exit 2.
      const pages = (((end + 4095) & ~4095) - (start & ~0xfff)) / 4096;
      if (pages * (space.mirrorOffset ? 2 : 1) > space.framesLeft) {
        this.fail(`segment at 0x${start.toString(16)} (${ph.memsz} bytes) does not fit in ${this.mem.guestSize / 1048576} MiB of guest memory (raise --memory)`);
      }
      for (let page = start & ~0xfff; page < end; page += 4096) space.map(page, PTE_U | PTE_W);
      space.write(start, segmentImage(this.elf, ph));
      top = Math.max(top, end);
    }
    this.brkStart = this.brkEnd = (top + 4095) & ~4095;

    // Initial stack: strings at the top, then auxv/envp/argv/argc below, 16-byte aligned.
    const argv = this.options.args;
    const env = this.options.env ?? [];
    for (let page = this.stackTop - 32 * 4096; page < this.stackTop; page += 4096) space.map(page, PTE_U | PTE_W);
    let sp = this.stackTop;
    const encoder = new TextEncoder();
    const pushString = (text: string) => {
      const bytes = encoder.encode(`${text}\0`);
      sp -= bytes.length;
      if (sp < this.stackTop - 31 * 4096) this.fail('arguments and environment are too large (over 124 KiB)');
      space.write(sp, bytes);
      return sp;
    };
    const random = pushString('memvisor-random!'); // AT_RANDOM: 16 bytes (fixed: runs are deterministic)
    const platform = pushString('i686');
    const argPointers = argv.map(pushString);
    const envPointers = env.map(pushString);
    const phdr = this.programHeaderAddress();
    const auxv: Array<[number, number]> = [
      [3, phdr], [4, 32], [5, this.elf.programHeaders.length], [6, 4096], [9, this.elf.entry], [11, 0], [12, 0], [13, 0], [14, 0],
      [15, platform], [23, 0], [25, random], [0, 0],
    ];
    const words = [argv.length, ...argPointers, 0, ...envPointers, 0, ...auxv.flat()];
    sp = (sp - words.length * 4) & ~15;
    const frame = new Uint8Array(words.length * 4);
    const view = new DataView(frame.buffer);
    words.forEach((w, i) => view.setUint32(i * 4, w >>> 0, true));
    space.write(sp, frame);

    // GDT on a supervisor page: flat code/data for rings 0 and 3, plus TLS slots.
    const gdtFrame = space.map(GDT_LINEAR, PTE_W);
    const put = (index: number, [low, high]: [number, number]) => {
      this.mem.write32(gdtFrame + index * 8, low);
      this.mem.write32(gdtFrame + index * 8 + 4, high);
    };
    put(1, segmentDescriptor(0, 0xffffffff, DESC_PRESENT | DESC_S | DESC_CODE | DESC_RW | DESC_ACCESSED));
    put(2, segmentDescriptor(0, 0xffffffff, DESC_PRESENT | DESC_S | DESC_RW | DESC_ACCESSED));
    put(USER_CS >> 3, segmentDescriptor(0, 0xffffffff, DESC_PRESENT | DESC_S | DESC_CODE | DESC_RW | DESC_ACCESSED | 0x60));
    put(USER_DS >> 3, segmentDescriptor(0, 0xffffffff, DESC_PRESENT | DESC_S | DESC_RW | DESC_ACCESSED | 0x60));

    const cpu = this.cpu;
    cpu.gdtBase = GDT_LINEAR;
    cpu.gdtLimit = 8 * (TLS_FIRST_ENTRY + 3) - 1;
    cpu.idtBase = 0;
    cpu.idtLimit = 0; // no IDT: any interrupt other than int $0x80 faults, as on Linux
    cpu.setCr3(space.pageDirectory);
    cpu.cr4 = CR4_PSE;
    cpu.setCr0(CR0_PE | CR0_PG | CR0_WP);
    cpu.enterFlatProtectedMode(3, USER_CS, USER_DS);
    cpu.eip = this.elf.entry | 0;
    cpu.reg[ESP] = sp;
    cpu.setEflags(0x202);
    // The runner plays the kernel: it is the only listener, and it handles int $0x80.
    cpu.softwareInterruptListeners.add(0, 'linux system calls', (vector) => (vector === 0x80 ? (this.syscall(), true) : false));
    cpu.exceptionHook = (vector, code) => this.exception(vector, code);
  }

  /** AT_PHDR: where the program headers are in memory (in the segment loaded from file offset 0). */
  private programHeaderAddress(): number {
    const first = this.elf.programHeaders.find((p) => p.type === PT_LOAD && p.offset === 0);
    return first ? (first.vaddr + this.elf.programHeaderOffset) >>> 0 : 0;
  }

  /** Runs to exit. */
  run(): ExecResult {
    const cpu = this.cpu;
    const started = process.hrtime.bigint();
    const limit = this.options.maxInstructions ?? Infinity;
    while (!this.exited) {
      if (cpu.instructionCount >= limit) {
        this.finish(124, undefined, `stopped after ${limit} instructions (--max-instructions)`);
        break;
      }
      cpu.run(Math.min(1_000_000, limit - cpu.instructionCount));
      if (cpu.shutdown) this.finish(139, 11, `the processor shut down: ${cpu.shutdownReason}`);
    }
    const result = this.exited!;
    result.instructions = cpu.instructionCount;
    if (this.options.mirror) result.mirror = this.space.mirrorDifferences(20);
    result.seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return result;
  }

  private finish(exitCode: number, signal?: number, message?: string): void {
    if (this.exited) return;
    this.exited = { exitCode, signal, message, instructions: 0, seconds: 0 };
    this.cpu.requestStop();
  }

  private exception(vector: number, errorCode: number): boolean {
    const cpu = this.cpu;
    const eip = cpu.eip >>> 0;
    if (vector === VEC_PF && !(errorCode & PF_PROTECTION)) {
      const offset = this.space.mirrorOffset;
      // A translated call writes the mirror of the stack first: grow the stack for its native page.
      const fault = cpu.cr2 >>> 0;
      const address = offset && fault >= offset && fault < 2 * offset ? fault - offset : fault;
      const esp = cpu.reg[ESP]! >>> 0;
      // Stack growth: below the mapped stack, within the limit, and not far below ESP.
      if (address < this.stackTop && address >= this.stackTop - STACK_MAX && address + 65536 + 32 * 4 >= esp) {
        this.space.map(address & ~0xfff, PTE_U | PTE_W);
        return true;
      }
    }
    let [signal, name] = SIGNALS[vector] ?? [11, EXCEPTION_NAMES[vector] ?? `exception ${vector}`];
    const opcode = cpu.peekLinear(eip, 15).find((b) => b === null || !PREFIX_BYTE[b]);  // the opcode after any prefixes
    if (vector === VEC_UD && opcode !== null && opcode !== undefined && opcode >= 0xd8 && opcode <= 0xdf) name = SIGNALS[VEC_NM]![1];
    let detail = `at eip 0x${hex(eip)}`;
    if (vector === VEC_PF) {
      detail += `: ${errorCode & PF_WRITE ? 'write to' : 'read from'} 0x${hex(cpu.cr2)}` +
        ` (${errorCode & PF_PROTECTION ? 'protection violation' : 'not mapped'})`;
    }
    if (vector === VEC_UD || vector === VEC_NM) {
      const bytes = cpu.peekLinear(eip, 8).map((b) => (b === null ? '??' : b.toString(16).padStart(2, '0'))).join(' ');
      detail += `: bytes ${bytes}`;
    }
    this.finish(128 + signal, signal, `${name} ${detail}`);
    return true;
  }

  // ------------------------------------------------------------ system calls

  private syscall(): void {
    const r = this.cpu.reg;
    const n = r[EAX]!;
    const a = [r[EBX]!, r[ECX]!, r[EDX]!, r[ESI]!, r[EDI]!, r[EBP]!];
    const result = this.dispatch(n, a);
    if (result !== undefined) r[EAX] = result;
  }

  private dispatch(n: number, a: number[]): number | undefined {
    switch (n) {
      case 1: case 252: this.finish(a[0]! & 0xff); return undefined;
      case 3: return this.read(a[0]!, a[1]! >>> 0, a[2]! >>> 0);
      case 4: return this.write(a[0]!, a[1]! >>> 0, a[2]! >>> 0);
      case 146: return this.writev(a[0]!, a[1]! >>> 0, a[2]!);
      case 5: return -ENOENT; // no file system is visible to the guest
      case 6:
        if (a[0]! < 0 || a[0]! > 2 || this.closed.has(a[0]!)) return -EBADF;
        this.closed.add(a[0]!);
        return 0;
      case 13: case 78: return this.time(n, a[0]! >>> 0);
      case 20: case 224: return 1000;
      case 24: case 47: case 49: case 50: return 0;
      case 45: return this.brk(a[0]! >>> 0);
      case 54: return -25; // ENOTTY: no terminal
      case 90: {
        const args = this.space.read(a[0]! >>> 0, 24);
        if (!args) return -EFAULT;
        const v = new DataView(args.buffer);
        const offset = v.getUint32(20, true);
        if (offset & 0xfff) return -EINVAL;
        return this.mmap(v.getUint32(0, true), v.getUint32(4, true), v.getUint32(8, true), v.getUint32(12, true), v.getInt32(16, true));
      }
      case 192: return this.mmap(a[0]! >>> 0, a[1]! >>> 0, a[2]!, a[3]!, a[4]!);
      case 91: return this.munmap(a[0]! >>> 0, a[1]! >>> 0);
      case 125: return 0; // mprotect: every page stays readable and writable
      case 122: return this.uname(a[0]! >>> 0);
      case 174: case 175: return 0;
      case 243: return this.setThreadArea(a[0]! >>> 0);
      case 258: return 1000;
      default: {
        const name = SYSCALL_NAMES[n] ? ` (${SYSCALL_NAMES[n]})` : '';
        this.finish(2, undefined, `unsupported system call ${n}${name} at eip 0x${hex(this.cpu.eip - 2)}`);
        return -ENOSYS;
      }
    }
  }

  private read(fd: number, buf: number, count: number): number {
    if (fd !== 0 || this.closed.has(0)) return -EBADF;
    const data = this.stdin(Math.min(count, 1 << 16));
    if (!this.space.write(buf, data)) return -EFAULT;
    return data.length;
  }

  private write(fd: number, buf: number, count: number): number {
    if ((fd !== 1 && fd !== 2) || this.closed.has(fd)) return -EBADF;
    const bytes = this.space.read(buf, count);
    if (!bytes) return -EFAULT;
    (fd === 1 ? this.stdout : this.stderr)(bytes);
    return count;
  }

  private writev(fd: number, iov: number, count: number): number {
    let total = 0;
    for (let i = 0; i < count; i++) {
      const entry = this.space.read(iov + i * 8, 8);
      if (!entry) return -EFAULT;
      const v = new DataView(entry.buffer);
      const n = this.write(fd, v.getUint32(0, true), v.getUint32(4, true));
      if (n < 0) return n;
      total += n;
    }
    return total;
  }

  private time(n: number, out: number): number {
    const { seconds, microseconds } = this.clock();
    if (n === 13) {
      if (out && !this.space.write(out, u32s([seconds]))) return -EFAULT;
      return seconds;
    }
    if (out && !this.space.write(out, u32s([seconds, microseconds]))) return -EFAULT;
    return 0;
  }

  /** The time the program sees: virtual (from the instruction count) unless hostTime. */
  private clock(): { seconds: number; microseconds: number } {
    if (this.options.hostTime) {
      const ms = Date.now();
      return { seconds: Math.floor(ms / 1000), microseconds: (ms % 1000) * 1000 };
    }
    const elapsedNs = this.cpu.instructionCount * CYCLE_NS;
    return { seconds: REPRODUCIBLE_EPOCH + Math.floor(elapsedNs / 1e9), microseconds: Math.floor(elapsedNs / 1000) % 1e6 };
  }

  private brk(wanted: number): number {
    if (wanted === 0 || wanted < this.brkStart) return this.brkEnd;
    if (wanted >= this.mmapTop - STACK_MAX) return this.brkEnd;
    const oldTop = (this.brkEnd + 4095) & ~4095, newTop = (wanted + 4095) & ~4095;
    try {
      for (let page = oldTop; page < newTop; page += 4096) this.space.map(page, PTE_U | PTE_W);
    } catch (e) {
      if (e instanceof MemvisorError) return this.brkEnd;
      throw e;
    }
    for (let page = newTop; page < oldTop; page += 4096) this.space.unmap(page);
    this.brkEnd = wanted;
    this.cpu.flushTlb();
    return wanted;
  }

  private mmap(addr: number, length: number, _prot: number, flags: number, fd: number): number {
    const MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20;
    if (!(flags & MAP_ANONYMOUS) || (fd !== -1 && fd !== 0)) {
      this.finish(2, undefined, `unsupported system call mmap2 of a file (only anonymous mappings) at eip 0x${hex(this.cpu.eip - 2)}`);
      return -EBADF;
    }
    if (length === 0) return -EINVAL;
    const size = (length + 4095) & ~4095;
    let start: number;
    if (flags & MAP_FIXED) {
      if (addr & 0xfff) return -EINVAL;
      start = addr;
    } else {
      start = this.mmapNext - size;
      if (start <= this.brkEnd) return -ENOMEM;
      this.mmapNext = start;
    }
    if (start + size > 0x100000000 || (start >>> 0) + size > (GDT_LINEAR >>> 0)) return -ENOMEM;
    try {
      for (let page = start; page < start + size; page += 4096) {
        if (this.space.isMapped(page)) this.space.unmap(page);
        this.space.map(page, PTE_U | PTE_W);
      }
    } catch (e) {
      if (e instanceof MemvisorError) return -ENOMEM;
      throw e;
    }
    this.cpu.flushTlb();
    return start | 0;
  }

  private munmap(addr: number, length: number): number {
    if (addr & 0xfff) return -EINVAL;
    for (let page = addr; page < addr + length; page += 4096) this.space.unmap(page);
    this.cpu.flushTlb();
    return 0;
  }

  private uname(out: number): number {
    const fields = ['Linux', 'memvisor', '6.1.0', '#1 memvisor exec', 'i686', '(none)'];
    const bytes = new Uint8Array(65 * 6);
    const encoder = new TextEncoder();
    fields.forEach((f, i) => bytes.set(encoder.encode(f), i * 65));
    return this.space.write(out, bytes) ? 0 : -EFAULT;
  }

  /** set_thread_area: installs a TLS descriptor in GDT entries 6..8. */
  private setThreadArea(info: number): number {
    const raw = this.space.read(info, 16);
    if (!raw) return -EFAULT;
    const v = new DataView(raw.buffer);
    let entry = v.getInt32(0, true);
    const base = v.getUint32(4, true), limit = v.getUint32(8, true), bits = v.getUint32(12, true);
    if (entry === -1) {
      entry = TLS_FIRST_ENTRY;
      v.setInt32(0, entry, true);
      this.space.write(info, raw);
    }
    if (entry < TLS_FIRST_ENTRY || entry >= TLS_FIRST_ENTRY + 3) return -EINVAL;
    const seg32 = (bits & 1) !== 0, pageGranular = (bits & 0x10) !== 0;
    const access = DESC_PRESENT | DESC_S | DESC_RW | DESC_ACCESSED | 0x60;
    const [low, high] = segmentDescriptor(base, pageGranular ? (limit << 12) | 0xfff : limit, access, seg32, pageGranular);
    const gdt = this.space.hostOffset(GDT_LINEAR);
    const dv = new DataView(this.mem.ram.buffer);
    dv.setInt32(gdt + entry * 8, low, true);
    dv.setInt32(gdt + entry * 8 + 4, high, true);
    return 0;
  }
}

function u32s(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setUint32(i * 4, x >>> 0, true));
  return out;
}

function hex(v: number): string {
  return (v >>> 0).toString(16).padStart(8, '0');
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length;) {
    try {
      done += writeSync(fd, bytes, done, bytes.length - done);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      if ((e as NodeJS.ErrnoException).code === 'EPIPE') return;
      throw e;
    }
  }
}

function readStdin(max: number): Uint8Array {
  const buffer = new Uint8Array(max);
  for (;;) {
    try {
      return buffer.subarray(0, readSync(0, buffer, 0, max, null));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue;
      if (code === 'EOF' || code === 'EBADF') return new Uint8Array(0);
      throw e;
    }
  }
}

