/** What `memvisor mkfs` does (its options and help: ../commands/mkfs.ts). */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { MemvisorError } from '../../errors.js';
import { INPUT, readInputFile } from '../../input-file.js';
import { buildImage, type MkfsInput } from '../../fs/index.js';

function parseCount(option: string, text: string): number {
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) throw new MemvisorError(`${option} ${text}: expected a whole number`);
  return Number(text);
}

function readInput(path: string): MkfsInput {
  return { path, content: readInputFile(path, INPUT.mkfsInput) };
}

/** Writes `bytes` to `output` through a temporary file in the same directory. */
export function writeAtomically(output: string, bytes: Uint8Array): void {
  const temporary = `${output}.partial-${process.pid}`;
  try {
    writeFileSync(temporary, bytes);
    renameSync(temporary, output);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new MemvisorError(`${output}: cannot write (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

export function mkfs(files: string[], options: { output: string; size: string; inodes: string }): void {
  const size = parseCount('--size', options.size);
  const ninodes = parseCount('--inodes', options.inodes);
  const inputs = files.map(readInput);
  const bytes = buildImage(inputs, { size, ninodes, output: options.output });
  writeAtomically(options.output, bytes);
}
