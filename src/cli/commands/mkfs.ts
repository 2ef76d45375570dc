/**
 * `memvisor mkfs -o fs.img [--size BLOCKS] [--inodes N] FILE...`: a MemV6 file system
 * (guest/FORMAT.md) whose root directory holds each FILE. The image is written to a
 * temporary file beside the output and renamed into place, so a refusal or a failed
 * write leaves no output file and never touches an existing one.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { MemvisorError } from '../../errors.js';
import { INPUT, readInputFile } from '../../input-file.js';
import { DEFAULT_INODES, DEFAULT_SIZE_BLOCKS, buildImage, type MkfsInput } from '../../fs/index.js';

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

export function register(program: Command): void {
  program
    .command('mkfs')
    .description('build a MemV6 file-system image whose root directory holds the given files (guest/FORMAT.md)')
    .argument('[files...]', 'files to put in the root directory, each under its basename with one leading "_" removed')
    .requiredOption('-o, --output <image>', 'image file to write (replaced only if mkfs succeeds)')
    .option('--size <blocks>', 'total size of the image in 1024-byte blocks', String(DEFAULT_SIZE_BLOCKS))
    .option('--inodes <n>', 'number of inodes (inode 0 is never used, inode 1 is the root)', String(DEFAULT_INODES))
    .action((files: string[], options: { output: string; size: string; inodes: string }) => {
      const size = parseCount('--size', options.size);
      const ninodes = parseCount('--inodes', options.inodes);
      const inputs = files.map(readInput);
      const bytes = buildImage(inputs, { size, ninodes, output: options.output });
      writeAtomically(options.output, bytes);
    });
}
