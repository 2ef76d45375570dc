/**
 * Bad input through the real CLI: one line naming the file (and for instructions the
 * address, bytes and disassembly), exit status 2, and no output file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram, repoRoot, runtimeObject, scratchDir } from './support.js';

const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

function translate(input: string, extra: string[] = []) {
  const output = `${input}.out`;
  const run = spawnSync(process.execPath, [cli, 'translate', input, '-o', output, ...extra], { encoding: 'utf8' });
  return { ...run, output };
}

function asmProgram(name: string, body: string, flags: string[] = []): string {
  const source = join(scratchDir, `${name}.S`);
  writeFileSync(source, `.text\n.globl main\nmain:\n${body}\n  ret\n`);
  return buildProgram([runtimeObject(), source], join(scratchDir, name), flags);
}

function withoutRelocations(input: string): string {
  const run = spawnSync('objcopy', ['--remove-relocations=*', input, `${input}-stripped`], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return `${input}-stripped`;
}

test('cli: refusals are one line, exit 2, and write no output', (t) => {
  const notElf = join(scratchDir, 'not-an-elf');
  writeFileSync(notElf, 'hello, world\n');
  const c64 = join(scratchDir, 'prog64.c');
  writeFileSync(c64, 'void _start(void) { for (;;); }\n');
  const elf64 = join(scratchDir, 'prog64');
  const b64 = spawnSync('gcc', ['-m64', '-static', '-nostdlib', '-o', elf64, c64], { encoding: 'utf8' });
  assert.equal(b64.status, 0, b64.stderr);
  const pie = join(scratchDir, 'pie');
  const bPie = spawnSync('gcc', ['-m32', '-fpie', '-pie', '-nostdlib', '-o', pie, c64], { encoding: 'utf8' });
  assert.equal(bPie.status, 0, bPie.stderr);
  const cases: Array<[string, string, RegExp]> = [
    ['not an ELF', notElf, /not-an-elf: not an ELF file$/],
    ['64-bit', elf64, /prog64: 64-bit ELF/],
    ['PIE / dynamic', pie, /pie: (position-independent|dynamically linked)/],
    ['std', asmProgram('uses-std', '  std\n  cld'), /uses-std: 0x[0-9a-f]+: fd: std: std sets the direction flag/],
    ['segment-prefixed store', asmProgram('fs-store', '  movl %eax, %fs:4'), /fs-store: 0x[0-9a-f]+: 64 a3 04 00 00 00: mov %eax,%fs:4: segment-prefixed store/],
    ['enter', asmProgram('uses-enter', '  enter $8, $0\n  leave'), /uses-enter: 0x[0-9a-f]+: c8 08 00 00: enter \$8,\$0: enter/],
    ['16-bit address store', asmProgram('addr16', '  addr16 movl %eax, (%bx)'), /addr16: 0x[0-9a-f]+: 67 89 07: .*16-bit addressing store/],
    ['no relocations', withoutRelocations(asmProgram('no-relocs', '  movl $1, %eax')), /no-relocs-stripped: no relocations for the code: relink with --emit-relocs \(-q\)/],
    ['missing file', join(scratchDir, 'does-not-exist'), /does-not-exist: cannot read the program \(ENOENT\)/],
  ];
  const rows: string[] = [];
  for (const [what, input, expected] of cases) {
    const run = translate(input);
    const lines = run.stderr.trimEnd().split('\n');
    assert.equal(run.status, 2, `${what}: exit ${run.status}, stderr ${run.stderr}`);
    assert.equal(lines.length, 1, `${what}: expected one line, got:\n${run.stderr}`);
    assert.match(lines[0]!, expected, `${what}`);
    assert.ok(lines[0]!.startsWith('memvisor: '), `${what}: ${lines[0]}`);
    assert.ok(!existsSync(run.output), `${what}: output file was written`);
    rows.push(`${what.padEnd(22)} -> ${lines[0]}`);
  }
  // And the happy path writes a file and reports.
  const good = asmProgram('good', '  movl $1, %eax\n  pushl %eax\n  popl %eax');
  const ok = translate(good, ['--report', '--verify']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /instructions, code \d+ -> \d+ bytes/);
  assert.match(ok.stdout, /verify: ok/);
  assert.ok(existsSync(ok.output));
  const objdump = spawnSync('objdump', ['-d', ok.output], { encoding: 'utf8' });
  assert.equal(objdump.status, 0, objdump.stderr);
  assert.match(objdump.stdout, /<main>:/);
  assert.ok(existsSync(runtimeObject()));
  const summary = [`cli refusals: ${cases.length}`, ...rows].join('\n');
  t.diagnostic(summary);
  console.log(summary);
});
