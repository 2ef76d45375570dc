/**
 * `memvisor bench mips`: the CPU's speed on a fixed integer program (guest/bench/mips.c),
 * in millions of guest instructions per second, against qemu-i386 on the same program
 * in the same run. memvisor runs three times over: as shipped (compiled blocks in
 * WebAssembly), with JavaScript blocks (--js-blocks) and on the interpreter alone. Each
 * engine runs `runs` times; the median wall time is reported.
 */
import { spawnSync } from 'node:child_process';
import { readElfFile } from '../elf/index.js';
import { runCaptured } from '../exec/index.js';
import { MemvisorError } from '../errors.js';

export interface MipsOptions {
  program: string;
  rounds: number;
  runs: number;
  log?: (line: string) => void;
}

export interface EngineResult {
  engine: string;
  seconds: number[];
  median: number;
  output: string;
}

export interface MipsReport {
  instructions: number;
  memvisor: EngineResult;
  /** The same program with blocks as JavaScript functions (--js-blocks). */
  jsBlocks: EngineResult;
  /** The same program with the compiled-block tier off. */
  interpreter: EngineResult;
  qemu: EngineResult | null;
  qemuMissing?: string;
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

export function benchMips(options: MipsOptions): MipsReport {
  const elf = readElfFile(options.program);
  const args = [options.program, String(options.rounds)];
  const log = options.log ?? (() => {});
  let instructions = 0;
  const runMemvisor = (engine: string, blockThreshold: number | undefined, jsBlocks = false): EngineResult => {
    const seconds: number[] = [];
    let output = '';
    for (let run = 0; run < options.runs; run++) {
      const result = runCaptured(elf, { args, blockThreshold, jsBlocks });
      if (result.exitCode !== 0) throw new MemvisorError(`${options.program}: benchmark program failed under ${engine}: ${result.message ?? `exit ${result.exitCode}`}`);
      if (instructions !== 0 && result.instructions !== instructions) {
        throw new MemvisorError(`${options.program}: ${engine} ran ${result.instructions} instructions, another run ${instructions}`);
      }
      instructions = result.instructions;
      seconds.push(result.seconds);
      output = result.stdout.toString();
      log(`${engine} run ${run + 1}/${options.runs}: ${result.seconds.toFixed(3)} s`);
    }
    return { engine, seconds, median: median(seconds), output };
  };
  const memvisor = runMemvisor('memvisor', undefined);
  const jsBlocks = runMemvisor('memvisor --js-blocks', undefined, true);
  const interpreter = runMemvisor('memvisor --interpreter', 0);
  for (const other of [jsBlocks, interpreter]) {
    if (other.output !== memvisor.output) {
      throw new MemvisorError(`benchmark outputs differ: memvisor ${JSON.stringify(memvisor.output)} ${other.engine} ${JSON.stringify(other.output)}`);
    }
  }
  const report: MipsReport = { instructions, memvisor, jsBlocks, interpreter, qemu: null };
  const memvisorOutput = memvisor.output;
  const qemuTimes: number[] = [];
  let qemuOutput = '';
  for (let run = 0; run < options.runs; run++) {
    const started = process.hrtime.bigint();
    const q = spawnSync('qemu-i386', args, { encoding: 'utf8' });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (q.error) {
      report.qemuMissing = (q.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'qemu-i386 is not installed (apt-get install qemu-user)' : String(q.error);
      return report;
    }
    if (q.status !== 0) throw new MemvisorError(`${options.program}: benchmark program failed under qemu-i386: ${q.stderr.trim()}`);
    qemuTimes.push(seconds);
    qemuOutput = q.stdout;
    log(`qemu-i386 run ${run + 1}/${options.runs}: ${seconds.toFixed(3)} s`);
  }
  if (qemuOutput !== memvisorOutput) {
    throw new MemvisorError(`benchmark outputs differ: memvisor ${JSON.stringify(memvisorOutput)} qemu-i386 ${JSON.stringify(qemuOutput)}`);
  }
  report.qemu = { engine: 'qemu-i386', seconds: qemuTimes, median: median(qemuTimes), output: qemuOutput };
  return report;
}

export function formatMipsReport(report: MipsReport, rounds: number): string {
  const mips = (seconds: number) => (report.instructions / seconds / 1e6).toFixed(1);
  const row = (e: EngineResult) => `${e.engine.padEnd(24)}${e.median.toFixed(3).padStart(12)}   ${mips(e.median).padStart(7)}  ` +
    (report.qemu ? `${(e.median / report.qemu.median).toFixed(1)}x qemu-i386` : '');
  const lines = [
    `program: guest/bench/mips.c, ${rounds} rounds, ${report.instructions} guest instructions (${report.memvisor.output.trim()})`,
    `${'engine'.padEnd(24)}median wall s   MIPS     wall-time ratio`,
    row(report.memvisor),
    row(report.jsBlocks),
    row(report.interpreter),
  ];
  if (report.qemu) lines.push(`${'qemu-i386'.padEnd(24)}${report.qemu.median.toFixed(3).padStart(12)}   ${mips(report.qemu.median).padStart(7)}  1.0x (includes process start-up)`);
  else lines.push(`${'qemu-i386'.padEnd(24)}not run: ${report.qemuMissing}`);
  lines.push(`compiled blocks: ${(report.interpreter.median / report.memvisor.median).toFixed(1)}x the interpreter's speed; ` +
    `in WebAssembly ${(report.jsBlocks.median / report.memvisor.median).toFixed(2)}x the speed of JavaScript blocks`);
  return lines.join('\n');
}
