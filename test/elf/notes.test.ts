/**
 * ELF notes: the translation note reads back as the translator wrote it, a malformed one
 * is refused by name, and hostile note sizes (a name or description size near 2^32) are
 * one line and exit 2 from every command that reads an ELF file, never a hang.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PT_NOTE, parseElf, readTranslationNote } from '../../src/elf/index.js';
import { translateElf } from '../../src/sbt/index.js';
import { buildProgram, repoRoot, scratch } from '../support/build.js';

const dir = scratch('elf-notes');
const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

function tinyProgram(): string {
  const source = join(dir, 'exit.S');
  writeFileSync(source, '.globl _start\n_start:\n  mov status, %ebx\n  mov $1, %eax\n  int $0x80\n.data\nstatus: .long 0\n');
  return buildProgram([source], join(dir, 'exit'));
}

/** A translated program with its note's name size and description size replaced. */
function withNoteSizes(translated: Uint8Array, namesz: number, descsz: number, name: string): string {
  const bytes = new Uint8Array(translated);
  const note = parseElf(bytes).programHeaders.find((p) => p.type === PT_NOTE)!;
  new DataView(bytes.buffer).setUint32(note.offset, namesz, true);
  new DataView(bytes.buffer).setUint32(note.offset + 4, descsz, true);
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

test('the translation note reads back as written: the offset and the spill page', () => {
  const path = tinyProgram();
  const original = parseElf(readFileSync(path), path);
  assert.equal(readTranslationNote(original), null, 'an untranslated program has no translation note');
  const translated = parseElf(translateElf(readFileSync(path), { path, offset: 0x50000000 }).output, 'translated');
  const spill = translated.sections.find((s) => s.name === '.memvisor.spill')!;
  assert.deepEqual(readTranslationNote(translated), { offset: 0x50000000, spillPage: spill.addr });
});

test('a translation note of the wrong size is refused in one line naming the file', () => {
  const path = tinyProgram();
  const translated = translateElf(readFileSync(path), { path }).output;
  const damaged = withNoteSizes(translated, 6, 5, 'desc5');
  assert.throws(() => readTranslationNote(parseElf(readFileSync(damaged), damaged)),
    /desc5: malformed MemV6 translation note \(5 description bytes, 4 or 8 expected\)$/);
});

test('hostile note sizes: exec, translate and run --kernel each exit 2 with one line', () => {
  const path = tinyProgram();
  const translated = translateElf(readFileSync(path), { path }).output;
  const cases: Array<[string, RegExp]> = [
    // A name size of -12 once rounded in 32 bits: a reader that trusts it never moves on.
    [withNoteSizes(translated, 0xfffffff4, 0, 'namesz-hostile'), /namesz-hostile: note at file offset 0x[0-9a-f]+: name size 0xfffffff4 runs past the end of the notes$/],
    [withNoteSizes(translated, 6, 0xfffffff0, 'descsz-hostile'), /descsz-hostile: note at file offset 0x[0-9a-f]+: description size 0xfffffff0 runs past the end of the notes$/],
  ];
  for (const [file, message] of cases) {
    for (const command of [['exec', file], ['translate', file, '-o', `${file}.out`], ['run', '--kernel', file, '--timeout', '5']]) {
      const run = spawnSync(process.execPath, [cli, ...command], { encoding: 'utf8', timeout: 60_000 });
      const reproduce = `memvisor ${command.join(' ')}`;
      assert.equal(run.signal, null, `${reproduce}: did not finish within 60 s`);
      assert.equal(run.status, 2, `${reproduce}: exit status (stderr: ${run.stderr})`);
      const lines = run.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, `${reproduce}: one line on stderr, got:\n${run.stderr}`);
      assert.match(lines[0]!, message, reproduce);
    }
  }
});
