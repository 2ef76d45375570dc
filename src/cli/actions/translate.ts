/** What `memvisor translate` does (its options and help: ../commands/translate.ts). */
import { writeFileSync, renameSync, rmSync } from 'node:fs';
import { MemvisorError } from '../../errors.js';
import { INPUT, readInputFile } from '../../input-file.js';
import { mirrorOffsetProblem } from '../../layout.js';
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

export function translate(input: string, options: { output: string; offset: string; scratch: string; report?: boolean; verify?: boolean; linuxStub?: boolean; checkAtExit?: boolean; addressMap?: boolean }): void {
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
}
