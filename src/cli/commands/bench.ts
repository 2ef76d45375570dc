/**
 * `memvisor bench …`: benchmarks print numbers and ratios; speed targets live here,
 * never in timed unit tests.
 */
import type { Command } from 'commander';
import { wholeNumber } from '../parse.js';
import { builtFile } from '../../paths.js';
import { benchMips, formatMipsReport } from '../../bench/mips.js';
import { benchBoot, formatBootReport } from '../../bench/boot.js';

export function register(program: Command): void {
  const bench = program.command('bench').description('measure memvisor (numbers and ratios against QEMU)');
  bench
    .command('mips')
    .description('guest instructions per second on a fixed integer program, and the wall-time ratio to qemu-i386')
    .option('--rounds <n>', 'work rounds of the benchmark program (about 3 million instructions each)', '40')
    .option('--runs <n>', 'runs per engine; the median is reported', '3')
    .option('--program <elf>', 'a different static i386 program to time (it gets the rounds as argv[1])')
    .action((options: { rounds: string; runs: string; program?: string }) => {
      const rounds = wholeNumber('--rounds', options.rounds, 1, 100000);
      const runs = wholeNumber('--runs', options.runs, 1, 100);
      const report = benchMips({
        program: options.program ?? builtFile('bench/mips'), rounds, runs,
        log: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(`${formatMipsReport(report, rounds)}\n`);
    });
  bench
    .command('boot')
    .description('power-on to the MemV6 shell prompt: guest instructions, wall time, and the ratio to qemu-system-i386')
    .option('--runs <n>', 'runs per engine; the median is reported', '3')
    .option('--kernel <file>', 'multiboot kernel (default: build/guest/kernel)')
    .option('--hdb <file>', 'file-system disk (default: build/guest/fs.img)')
    .action(async (options: { runs: string; kernel?: string; hdb?: string }) => {
      const runs = wholeNumber('--runs', options.runs, 1, 100);
      const report = await benchBoot({
        kernel: options.kernel ?? builtFile('kernel'), hdb: options.hdb ?? builtFile('fs.img'), runs,
        log: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(`${formatBootReport(report)}\n`);
    });
}
