/**
 * `memvisor exec PROGRAM.elf [args…]`: runs a static i386 Linux program on memvisor's
 * CPU, like qemu-i386. The program's exit status becomes ours; a guest fault is one
 * line on stderr and the status a shell shows for that signal (128 + n).
 */
import type { Command } from 'commander';
import { lazyAction } from '../lazy.js';
import { BLOCK_CACHE_HELP } from './environment.js';

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
    .option('--js-blocks', 'compiled blocks as JavaScript functions, not WebAssembly: for comparison')
    .option('--strict', 'an unanswered system call ends the run (exit status 2) instead of answering -ENOSYS with a warning')
    .option('--host-time', 'time and gettimeofday read the host clock (default: virtual time from 2026-01-01, 10 ns per instruction, the same in every run)')
    .passThroughOptions()
    .allowExcessArguments(false)
    .addHelpText('after', BLOCK_CACHE_HELP)
    .action(lazyAction(() => import('../actions/exec.js'), 'exec'));
}
