/**
 * `memvisor exec PROGRAM.elf [args…]`: runs a static i386 Linux program on memvisor's
 * CPU, like qemu-i386. The program's exit status becomes ours; a guest fault is one
 * line on stderr and the status a shell shows for that signal (128 + n).
 */
import { isatty } from 'node:tty';
import type { Command } from 'commander';
import { wholeNumber } from '../parse.js';
import { readElfFile } from '../../elf/index.js';
import { LinuxProcess } from '../../exec/index.js';
import { MAX_HOST_BYTES, MiB } from '../../cpu/index.js';

export function register(program: Command): void {
  program
    .command('exec')
    .description('run a static i386 Linux ELF program on the memvisor CPU (like qemu-i386)')
    .argument('<program>', 'static i386 ELF executable')
    .argument('[args...]', 'arguments passed to the program')
    .option('--memory <MiB>', 'guest physical memory', '256')
    .option('--max-instructions <n>', 'stop the program after n instructions (exit status 124)')
    .option('--stats', 'print instructions executed and MIPS on stderr at exit')
    .option('--mirror', 'for a program made by memvisor translate: map its mirror, and at exit compare native and mirror memory')
    .option('--interpreter', 'run on the interpreter alone (no compiled blocks): slower, for comparison')
    .option('--strict', 'an unanswered system call ends the run (exit status 2) instead of answering -ENOSYS with a warning')
    .option('--host-time', 'time and gettimeofday read the host clock (default: virtual time from 2026-01-01, 10 ns per instruction, the same in every run)')
    .passThroughOptions()
    .allowExcessArguments(false)
    .action((path: string, args: string[], options: { memory: string; maxInstructions?: string; stats?: boolean; mirror?: boolean; interpreter?: boolean; hostTime?: boolean; strict?: boolean }) => {
      const memoryMiB = wholeNumber('--memory', options.memory, 1, MAX_HOST_BYTES / MiB);
      const maxInstructions = options.maxInstructions === undefined ? undefined : wholeNumber('--max-instructions', options.maxInstructions, 1, Number.MAX_SAFE_INTEGER);
      const elf = readElfFile(path);
      const env = Object.entries(process.env).map(([k, v]) => `${k}=${v ?? ''}`);
      const proc = new LinuxProcess(elf, { path, args: [path, ...args], env, memoryBytes: memoryMiB * MiB, maxInstructions, mirror: options.mirror,
        blockThreshold: options.interpreter ? 0 : undefined, hostTime: options.hostTime, strict: options.strict,
        terminals: [isatty(0), isatty(1), isatty(2)] });
      const result = proc.run();
      if (result.message) process.stderr.write(`memvisor exec: ${path}: ${result.message}\n`);
      if (result.mirror) {
        const m = result.mirror;
        const hex = (v: number, n: number) => v.toString(16).padStart(n, '0');
        process.stderr.write(m.bytes === 0
          ? `memvisor exec: ${path}: mirror: native and mirror identical (${m.compared} page pairs)\n`
          : `memvisor exec: ${path}: mirror: ${m.bytes} bytes differ in ${m.pages} of ${m.compared} page pairs\n` +
            m.first.map(([at, a, b]) => `  0x${hex(at, 8)}: native 0x${hex(a, 2)} mirror 0x${hex(b, 2)}\n`).join(''));
      }
      if (options.stats) {
        const mips = result.instructions / result.seconds / 1e6;
        const b = proc.cpu.blocks.stats;
        process.stderr.write(`memvisor exec: ${result.instructions} instructions in ${result.seconds.toFixed(3)} s (${mips.toFixed(1)} MIPS); ` +
          `${b.compiled} blocks compiled, ${b.invalidated} dropped after writes to their code\n`);
      }
      process.exitCode = result.exitCode;
    });
}
