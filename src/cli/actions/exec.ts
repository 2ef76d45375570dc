/** What `memvisor exec` does (its options and help: ../commands/exec.ts). */
import { isatty } from 'node:tty';
import { wholeNumber } from '../parse.js';
import { useBlockCache } from '../../block-cache.js';
import { readElfFile } from '../../elf/index.js';
import { LinuxProcess } from '../../exec/index.js';
import { MAX_HOST_BYTES, MiB } from '../../cpu/index.js';

export function exec(path: string, args: string[], options: { memory: string; maxInstructions?: string; stats?: boolean; mirror?: boolean; interpreter?: boolean; jsBlocks?: boolean; hostTime?: boolean; strict?: boolean }): void {
  const memoryMiB = wholeNumber('--memory', options.memory, 1, MAX_HOST_BYTES / MiB);
  const maxInstructions = options.maxInstructions === undefined ? undefined : wholeNumber('--max-instructions', options.maxInstructions, 1, Number.MAX_SAFE_INTEGER);
  const elf = readElfFile(path);
  // The blocks earlier processes wrote, and this one's kept for the next (../../block-cache.ts).
  useBlockCache();
  const env = Object.entries(process.env).map(([k, v]) => `${k}=${v ?? ''}`);
  const proc = new LinuxProcess(elf, { path, args: [path, ...args], env, memoryBytes: memoryMiB * MiB, maxInstructions, mirror: options.mirror,
    blockThreshold: options.interpreter ? 0 : undefined, jsBlocks: options.jsBlocks, hostTime: options.hostTime, strict: options.strict,
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
}
