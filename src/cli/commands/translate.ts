/**
 * `memvisor translate IN.elf -o OUT.elf`: the static binary translator (src/sbt).
 * Refusals are one line naming the file, address, bytes and instruction; no output file
 * is written unless translation (and, with --verify, verification) succeeded.
 */
import { writeFileSync, renameSync, rmSync } from 'node:fs';
import type { Command } from 'commander';
import { MemvisorError } from '../../errors.js';
import { INPUT, readInputFile } from '../../input-file.js';
import { MIRROR_OFFSET, mirrorOffsetProblem } from '../../layout.js';
import { ADDRESS_MAP_STOP_STATUS, translateElf, type TranslationReport } from '../../sbt/index.js';

function parseOffset(text: string): number {
  const value = /^(0x[0-9a-f]+|[0-9]+)$/i.test(text.trim()) ? Number(text) : NaN;
  const problem = mirrorOffsetProblem(value);
  if (problem) throw new MemvisorError(`--offset ${text}: ${problem} (e.g. 0x40000000)`);
  return value;
}

export function formatReport(report: TranslationReport): string {
  const lines = [
    `${report.path}: ${report.instructions} instructions, code ${report.originalCodeBytes} -> ${report.translatedCodeBytes} bytes (${report.growth}x), offset 0x${report.offset.toString(16)}`,
    `  writers by class: ${Object.entries(report.writers).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
    `  code pointers: ${report.codePointersInData} in data, ${report.codePointersInCode} in code; relocations checked: ${report.relocationsChecked}`,
    `  store pairs: ${report.storePairs}; device-register stores left unmirrored: ${report.unmirrored}`,
    `  left to the platform: ${report.platform.join('; ')}`,
    `  refused: ${report.refused.length === 0 ? 'none' : report.refused.join('; ')}`,
    `  debug information: ${report.debugInfo}`,
  ];
  const map = report.addressMap;
  if (map) {
    lines.push(`  mode: address-map (no relocations): ${map.starts} instruction starts, each a valid indirect target (${map.chainStarts} found outside the linear sweep, ` +
      `from ${map.candidates} candidate code pointers); map tables ${map.tableBytes} bytes`);
    lines.push(`  stop if reached (exit ${ADDRESS_MAP_STOP_STATUS}, address on stderr): ${map.stops.length === 0 ? 'none' : `${map.stops.length}: ${map.stops.slice(0, 5).join('; ')}${map.stops.length > 5 ? '; ...' : ''}`}`);
  } else {
    lines.push('  mode: relocations');
  }
  if (report.verify) lines.push(`  verify: ${report.verify.errors.length === 0 ? 'ok' : report.verify.errors.length + ' problems'} (${report.verify.summary})`);
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('translate')
    .description('rewrite a static i386 ELF so every memory write is mirrored at +OFFSET (with relocations: code moved; without: an address map)')
    .argument('<input>', 'i386 ELF executable (static; linked with ld --emit-relocs / -q, or stripped: see --address-map)')
    .requiredOption('-o, --output <file>', 'translated ELF to write')
    .option('--offset <n>', 'mirror offset, a multiple of 4096', `0x${MIRROR_OFFSET.toString(16)}`)
    .option('--report', 'print instructions, writers by class, code growth')
    .option('--verify', 'run the independent verifier on the output (exit 1 if it fails)')
    .option('--scratch <where>', 'where mirror sequences keep scratch registers: spill (a spill page; the default) or stack (for code that interrupts re-enter: a kernel)', 'spill')
    .option('--address-map', 'translate without relocations even if the program has them (the default for a program without: original code addresses kept, indirect transfers looked up at run time)')
    .option('--linux-stub', 'entry stub that maps the mirror itself, for running under Linux (qemu-i386, memvisor exec)')
    .option('--check-at-exit', 'with --linux-stub: compare native and mirror at exit, print the result on stderr')
    .action((input: string, options: { output: string; offset: string; scratch: string; report?: boolean; verify?: boolean; linuxStub?: boolean; checkAtExit?: boolean; addressMap?: boolean }) => {
      if (options.checkAtExit && !options.linuxStub) throw new MemvisorError('--check-at-exit needs --linux-stub');
      if (options.scratch !== 'spill' && options.scratch !== 'stack') throw new MemvisorError(`--scratch ${options.scratch}: expected spill or stack`);
      const { output, report } = translateElf(readInputFile(input, INPUT.program), {
        path: input, offset: parseOffset(options.offset), scratch: options.scratch, verify: options.verify, linuxStub: options.linuxStub, checkAtExit: options.checkAtExit,
        ...(options.addressMap ? { mode: 'address-map' as const } : {}),
      });
      const temporary = `${options.output}.partial-${process.pid}`;
      try {
        writeFileSync(temporary, output, { mode: 0o755 });
        renameSync(temporary, options.output);
      } catch (error) {
        rmSync(temporary, { force: true });
        throw new MemvisorError(`${options.output}: cannot write (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      if (options.report || options.verify) process.stdout.write(formatReport(report) + '\n');
    });
}
