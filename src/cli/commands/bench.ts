/**
 * `memvisor bench …`: benchmarks print numbers and ratios; speed targets live here,
 * never in timed unit tests.
 */
import type { Command } from 'commander';
import { lazyAction } from '../lazy.js';
import { BLOCK_CACHE_HELP } from './environment.js';

export function register(program: Command): void {
  const actions = () => import('../actions/bench.js');
  const bench = program.command('bench').description('measure memvisor (numbers and ratios against QEMU); alone, runs every benchmark')
    .option('--out <dir>', 'where the usertests results go', 'bench-results')
    .action(lazyAction(actions, 'all'));
  bench
    .command('mips')
    .description('guest instructions per second on a fixed integer program, and the wall-time ratio to qemu-i386')
    .option('--rounds <n>', 'work rounds of the benchmark program (about 3 million instructions each)', '40')
    .option('--runs <n>', 'runs per engine; the median is reported', '3')
    .option('--program <elf>', 'a different static i386 program to time (it gets the rounds as argv[1])')
    .action(lazyAction(actions, 'mips'));
  bench
    .command('boot')
    .description('power-on to the MemV6 shell prompt: guest instructions, wall time, and the ratio to qemu-system-i386')
    .option('--runs <n>', 'runs per engine; the median is reported', '3')
    .option('--kernel <file>', 'multiboot kernel (default: build/guest/kernel)')
    .option('--hdb <file>', 'file-system disk (default: build/guest/fs.img)')
    .option('--cmdline <text>', 'the kernel command line, on both engines (e.g. idle=spin: MemV6 never halts)')
    .action(lazyAction(actions, 'boot'));
  bench
    .command('sbt')
    .description('what the translator costs: translation time and code growth of MemV6 programs, executed instructions on the C corpus')
    .action(lazyAction(actions, 'sbt'));
  bench
    .command('apps')
    .description('real programs: busybox applets (Debian busybox-static, i386) on generated inputs, on memvisor exec and qemu-i386')
    .option('--runs <n>', 'runs per engine; wall times are medians (instruction counts are exact)', '1')
    .option('--busybox <file>', 'the i386 busybox to run (default: build/apps/busybox)')
    .option('--no-translated', 'leave out the translated busybox (exec --mirror) column')
    .action(lazyAction(actions, 'apps'));
  bench
    .command('usertests')
    .description('what mirroring costs: MemV6 usertests untranslated (--mirror off) vs translated (--mirror guest), per sub-test')
    .option('--runs <n>', 'runs per mode, each mode in a process of its own for all its runs; wall times are medians (instruction counts are exact)', '1')
    .option('--qemu', 'also time both disks on qemu-system-i386')
    .option('--out <dir>', 'where results.json and overhead.svg go', 'bench-results')
    .option('--tests <names>', 'only these sub-tests, comma-separated (default: all)')
    .option('--json', 'print the results as JSON instead of the table')
    .option('--cmdline <text>', 'the kernel command line, on both engines (e.g. idle=spin: MemV6 never halts)')
    .option('--cold', 'memvisor starts without the blocks earlier processes left in the block cache on disk (as on a new machine)')
    .addHelpText('after', BLOCK_CACHE_HELP)
    .action(lazyAction(actions, 'usertests'));
  bench
    .command('web')
    .description('the web page in a real browser (chromium): page load to the prompt and a command to its end, against the same run in Node')
    .option('--mirror <mode>', 'the mirror mode the page runs (off, guest, system or hardware)', 'off')
    .option('--command <text>', 'the usertests command line typed at the prompt (e.g. \'usertests forkwait pipebig\'); the run ends at ALL TESTS PASSED', 'usertests')
    .option('--runs <n>', 'page loads, each in a fresh browser context; times are medians', '3')
    .option('--chromium <path>', 'the browser to drive', '/usr/bin/chromium')
    .option('--url <address>', 'time a page served elsewhere (e.g. another build\'s memvisor web) instead of this build\'s')
    .action(lazyAction(actions, 'web'));
}
