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
  DESC_ACCESSED, VEC_OF, VEC_BR, VEC_DB, VEC_SS, VEC_NP, VEC_AC, VEC_MF,
} from '../cpu/state.js';
import { PT_LOAD, type ElfFile, readTranslationNote, requireStaticExecutable, segmentImage } from '../elf/index.js';
import { AddressSpace } from './address-space.js';
import { useWasmTier } from '../cpu/wasm/tier.js';
import type { IoSpace } from '../cpu/bus.js';
import { CYCLE_NS, REPRODUCIBLE_EPOCH } from '../virtual-time.js';
import { SeededRandom } from '../faults/random.js';
import { FileTable, EFAULT, EINVAL, ENODEV, ENOMEM, ENOSYS } from './files.js';
import { SYSCALLS, syscallName } from './syscalls.js';

export const STACK_TOP = 0xc0000000;
const STACK_MAX = 8 << 20;
const MMAP_TOP = 0xb0000000;
const GDT_LINEAR = 0xfffff000 | 0;
const TLS_FIRST_ENTRY = 6;
/** Linux's i386 user selectors (GDT entries 4 and 5), which programs can observe. */
const USER_CS = 0x23, USER_DS = 0x2b;

const SIGNALS: Record<number, [number, string]> = {
  [VEC_DE]: [8, 'floating point exception (divide error)'],
  [VEC_DB]: [5, 'trace/breakpoint trap'],
  [VEC_BP]: [5, 'trace/breakpoint trap (int3)'],
  [VEC_OF]: [11, 'segmentation fault (into)'],
  [VEC_BR]: [11, 'segmentation fault (bound range exceeded)'],
  [VEC_UD]: [4, 'illegal instruction'],
  [VEC_NM]: [4, 'illegal instruction (device not available)'],
  [VEC_MF]: [8, 'floating point exception (x87)'],
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
  /** Which of stdin, stdout, stderr are terminals (ioctl answers TCGETS/TIOCGWINSZ for them only). */
  terminals?: [boolean, boolean, boolean];
  /** The working directory relative paths start from (default: the host's). */
  cwd?: string;
  /** One-line warnings from the runner (an unanswered system call); default: on stderr. */
  warn?: (line: string) => void;
  /** An unanswered system call ends the run (exit status 2) instead of answering -ENOSYS. */
  strict?: boolean;
  /** Run a program translated for MemV6 (not --linux-stub) with a mirror: see AddressSpace. */
  mirror?: boolean;
  /** Executions of an address before its block is compiled (CPU default if unset); 0 = interpreter only. */
  blockThreshold?: number;
  /** Every translation into WebAssembly made into a module at once (tests that compile every block at first sight). */
  eagerWasm?: boolean;
  /** Compiled blocks as JavaScript functions only, not translated into WebAssembly (BlockCache.engine). */
  jsBlocks?: boolean;
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
  readonly files: FileTable;
  private readonly warn: (line: string) => void;
  private readonly warned = new Set<number>();
  private readonly signalHandlers = new Map<number, [number, number]>();
  /** getrandom's bytes: the same in every run. */
  private readonly random = new SeededRandom(0x6d656d76);
  private readonly hostStart = process.hrtime.bigint();

  constructor(readonly elf: ElfFile, readonly options: ExecOptions) {
    requireStaticExecutable(elf);
    this.mem = new PhysicalMemory(options.memoryBytes ?? 256 << 20);
    this.cpu = new CPU(this.mem, new NoDevices());
    if (options.blockThreshold !== undefined) this.cpu.blocks.threshold = options.blockThreshold;
    if (options.jsBlocks) this.cpu.blocks.engine = 'js';
    else if (options.eagerWasm) useWasmTier(this.cpu, true);
    this.space = new AddressSpace(this.mem);
    this.stackTop = STACK_TOP;
    if (options.mirror) {
      const offset = this.translationOffset();
      this.space.mirrorOffset = offset;
      this.stackTop = offset - 0x01000000;
    }
    this.mmapTop = options.mirror ? this.stackTop - STACK_MAX - 0x100000 : MMAP_TOP;
    this.mmapNext = this.mmapTop;
    this.files = new FileTable({
      stdin: options.stdin ?? readStdin, stdout: options.stdout ?? ((b) => writeAll(1, b)), stderr: options.stderr ?? ((b) => writeAll(2, b)),
      terminals: options.terminals,
    }, options.cwd ?? process.cwd());
    this.warn = options.warn ?? ((line) => writeAll(2, new TextEncoder().encode(`memvisor exec: ${options.path}: warning: ${line}\n`)));
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
    cpu.reg.fill(0); // as Linux starts a process: EDX = 0 is "no rtld_fini" to glibc's _start
    cpu.reg[ESP] = sp;
    cpu.setEflags(0x202);
    cpu.fpu.init(); // a new process's x87 state: FNINIT's (control word 0x037F)
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
    this.files.closeAll();
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
    const [signal, name] = SIGNALS[vector] ?? [11, EXCEPTION_NAMES[vector] ?? `exception ${vector}`];
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
    const call = SYSCALLS.get(n);
    let result: number | undefined;
    if (call) result = call.handler(this, [r[EBX]!, r[ECX]!, r[EDX]!, r[ESI]!, r[EDI]!, r[EBP]!]);
    else result = this.unknownSyscall(n);
    if (result !== undefined && !this.exited) r[EAX] = result;
  }

  /** -ENOSYS with a one-line warning (once per call number), or the end of the run with --strict. */
  private unknownSyscall(n: number): number {
    const name = syscallName(n);
    const what = `system call ${n}${name ? ` (${name})` : ''} at eip 0x${hex(this.cpu.eip - 2)}`;
    if (this.options.strict) {
      this.finish(2, undefined, `unsupported ${what} (--strict)`);
      return -ENOSYS;
    }
    if (!this.warned.has(n)) {
      this.warned.add(n);
      this.warn(`unsupported ${what}: answered -ENOSYS`);
    }
    return -ENOSYS;
  }

  // ------------------------------------------------------------ the Kernel interface (syscalls.ts)

  get programPath(): string {
    return this.options.path;
  }

  get physicalMemoryBytes(): number {
    return this.mem.ram.length;
  }

  read(address: number, length: number): Uint8Array | null {
    return this.space.read(address >>> 0, length);
  }

  write(address: number, bytes: Uint8Array): boolean {
    return this.space.write(address >>> 0, bytes);
  }

  readString(address: number): string | null {
    const bytes: number[] = [];
    for (let at = address >>> 0; bytes.length < 4096; at++) {
      const host = this.space.hostOffset(at);
      if (host < 0) return null;
      const b = this.mem.ram[host]!;
      if (b === 0) return new TextDecoder().decode(new Uint8Array(bytes));
      bytes.push(b);
    }
    return null;
  }

  clockNs(clock: 'realtime' | 'monotonic'): bigint {
    if (this.options.hostTime) {
      return clock === 'realtime' ? BigInt(Date.now()) * 1_000_000n : process.hrtime.bigint() - this.hostStart;
    }
    const elapsed = BigInt(this.cpu.instructionCount) * BigInt(CYCLE_NS);
    return clock === 'realtime' ? BigInt(REPRODUCIBLE_EPOCH) * 1_000_000_000n + elapsed : elapsed;
  }

  randomBytes(count: number): Uint8Array {
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) out[i] = this.random.nextBelow(256);
    return out;
  }

  exit(status: number): void {
    this.finish(status & 0xff);
  }

  killedBy(signal: number): void {
    const names: Record<number, string> = { 6: 'aborted (SIGABRT)', 9: 'killed (SIGKILL)', 15: 'terminated (SIGTERM)' };
    this.finish(128 + signal, signal, `${names[signal] ?? `killed by signal ${signal}`} at eip 0x${hex(this.cpu.eip - 2)}`);
  }

  signalAction(signal: number, handler: number, flags: number): [number, number] {
    const old = this.signalHandlers.get(signal) ?? [0, 0];
    if (handler !== -1) this.signalHandlers.set(signal, [handler >>> 0, flags]);
    return old;
  }

  brk(wanted: number): number {
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

  mmap(addr: number, length: number, _prot: number, flags: number, fd: number, pageOffset: number): number {
    const MAP_SHARED = 0x01, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20;
    let contents: Uint8Array | null = null;
    if (!(flags & MAP_ANONYMOUS)) {
      // A file mapped privately is a copy of its bytes; shared writable mappings are not offered.
      if (flags & MAP_SHARED && _prot & 2) return -ENODEV;
      const file = this.files.hostFile(fd);
      if (typeof file === 'number') return file === -EINVAL ? -ENODEV : file;
      const data = this.files.pread(fd, length, pageOffset * 4096);
      if (typeof data === 'number') return data;
      contents = data;
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
    if (contents) this.space.write(start, contents);
    this.cpu.flushTlb();
    return start | 0;
  }

  munmap(addr: number, length: number): number {
    if (addr & 0xfff) return -EINVAL;
    for (let page = addr; page < addr + length; page += 4096) this.space.unmap(page);
    this.cpu.flushTlb();
    return 0;
  }

  /** mremap: shrink in place, or move to a new mapping with the same bytes (MREMAP_MAYMOVE). */
  mremap(addr: number, oldLength: number, newLength: number, flags: number): number {
    const MREMAP_MAYMOVE = 1;
    if (addr & 0xfff || newLength === 0) return -EINVAL;
    const oldSize = (oldLength + 4095) & ~4095, newSize = (newLength + 4095) & ~4095;
    if (newSize <= oldSize) {
      this.munmap(addr + newSize, oldSize - newSize);
      return addr | 0;
    }
    if (!(flags & MREMAP_MAYMOVE)) return -ENOMEM;
    const bytes = this.space.read(addr, oldSize);
    if (!bytes) return -EFAULT;
    const start = this.mmap(0, newSize, 3, 0x22, -1, 0);
    if (start < 0 && start >= -4095) return start; // -errno; addresses from 2 GiB up are negative too
    this.space.write(start >>> 0, bytes);
    this.munmap(addr, oldSize);
    return start;
  }

  /** set_thread_area: installs a TLS descriptor in GDT entries 6..8. */
  setThreadArea(info: number): number {
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

