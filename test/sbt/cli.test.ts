/**
 * Bad input through the real CLI: one line naming the file (and for instructions the
 * address, bytes and disassembly), exit status 2, and no output file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { buildProgram, repoRoot, runtimeObject, scratchDir } from './support.js';

const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

function translate(input: string, extra: string[] = []) {
  // Beside the scratch programs, never beside the input: a file left in build/guest/corpus
  // is taken for a corpus program by bench sbt.
  const output = join(scratchDir, `${basename(input)}.out`);
  rmSync(output, { force: true });   // what an earlier run left must not pass for output written now
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
    ['no relocations, --linux-stub', withoutRelocations(asmProgram('no-relocs-stub', '  movl $1, %eax')), /no-relocs-stub-stripped: --linux-stub: not available without relocations/],
    ['missing file', join(scratchDir, 'does-not-exist'), /does-not-exist: cannot read the program \(ENOENT\)/],
  ];
  const rows: string[] = [];
  for (const [what, input, expected] of cases) {
    const run = translate(input, what.endsWith('--linux-stub') ? ['--linux-stub'] : []);
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

/** A copy of `input` with one 32-bit field changed (at a byte offset computed from the ELF headers). */
function patched(input: string, name: string, edit: (bytes: Buffer, view: DataView) => void): string {
  const bytes = readFileSync(input);
  edit(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const out = join(scratchDir, name);
  writeFileSync(out, bytes);
  return out;
}

/** Byte offset of section header `name`'s field at `field` (sh_offset is 16). */
function sectionField(bytes: Buffer, view: DataView, name: string, field: number): number {
  const shoff = view.getUint32(32, true), shnum = view.getUint16(48, true), shstrndx = view.getUint16(50, true);
  const names = view.getUint32(shoff + shstrndx * 40 + 16, true);
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * 40;
    const start = names + view.getUint32(at, true);
    if (bytes.subarray(start, bytes.indexOf(0, start)).toString('latin1') === name) return at + field;
  }
  throw new Error(`no section ${name}`);
}

test('translate: an offset whose mirror would wrap past 4 GiB is refused; the largest that fits runs mirrored (issue 22 items 2 and 10)', () => {
  const program = join(repoRoot, 'build', 'guest', 'corpus', 'sorting-O2');
  for (const offset of ['0xfffff000', '0xf0000000', '0xc0000000', '0xb0000000', '0x80001000']) {
    const run = translate(program, ['--offset', offset]);
    assert.equal(run.status, 2, `--offset ${offset}: ${run.stderr}`);
    assert.match(run.stderr.trim(), new RegExp(`^memvisor: --offset ${offset}: above 0x80000000: the mirror of \\[0, offset\\) would run past 4 GiB and wrap onto native memory`));
    assert.ok(!existsSync(run.output));
  }
  const largest = translate(program, ['--offset', '0x80000000']);
  assert.equal(largest.status, 0, largest.stderr);
  const exec = spawnSync(process.execPath, [cli, 'exec', '--mirror', largest.output], { encoding: 'utf8' });
  assert.equal(exec.status, 0, exec.stderr);
  assert.match(exec.stderr, /mirror: native and mirror identical/);
  // A note written by hand with a wrapping offset (it once recursed until the stack overflowed).
  const handMade = patched(largest.output, 'note-fffff000', (bytes) => {
    const at = bytes.indexOf(Buffer.from('MemV6\0'));
    bytes.writeUInt32LE(0xfffff000, at + 8);
  });
  const refused = spawnSync(process.execPath, [cli, 'exec', '--mirror', handMade], { encoding: 'utf8' });
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(refused.stderr.trim(), /^memvisor: .*note-fffff000: malformed MemV6 translation note \(offset 0xfffff000 is above 0x80000000/);
});

test('translate: a file whose sections and segments disagree is refused without --verify; addresses past 4 GiB are not wrapped in messages (issue 22 item 10)', () => {
  const program = join(repoRoot, 'build', 'guest', 'user', 'cat');
  const moved = patched(program, 'text-moved', (bytes, view) => {
    const field = sectionField(bytes, view, '.text', 16);
    view.setUint32(field, view.getUint32(field, true) + 16, true);
  });
  let run = translate(moved);
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr.trim(), /^memvisor: .*text-moved: the file's sections and segments disagree: section \.text at 0x[0-9a-f]+ is read from file offset 0x[0-9a-f]+, but its segment loads it from 0x[0-9a-f]+$/);
  assert.ok(!existsSync(run.output), 'output written for a file the translator cannot trust');
  // A segment that ends past 4 GiB (sections moved with it, so they agree): the message shows where it really ends.
  const high = patched(program, 'high-segment', (bytes, view) => {
    const phoff = view.getUint32(28, true);
    view.setUint32(phoff + 8, 0xfffff000, true);
    view.setUint32(phoff + 12, 0xfffff000, true);
    const shoff = view.getUint32(32, true), shnum = view.getUint16(48, true);
    for (let i = 0; i < shnum; i++) {
      const at = shoff + i * 40;
      if (view.getUint32(at + 8, true) & 2) view.setUint32(at + 12, (view.getUint32(at + 12, true) + 0xfffff000) >>> 0, true);
    }
  });
  run = translate(high);
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr.trim(), /^memvisor: .*high-segment: segment 0 \[0xfffff000, 0x1000[0-9a-f]{5}\) has its mirror at \[0x13ffff000, 0x140[0-9a-f]{6}\), past 4 GiB/);
});

test('cli: a program without relocations is translated with an address map, chosen by itself or by --address-map', () => {
  const stripped = withoutRelocations(asmProgram('no-relocs', '  movl $1, %eax\n  movl %eax, value\n.data\nvalue: .long 0\n.text'));
  const run = translate(stripped, ['--report']);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /mode: address-map \(no relocations\): \d+ instruction starts/);
  assert.ok(existsSync(run.output));
  const withRelocations = asmProgram('with-relocs', '  movl $1, %eax');
  assert.match(translate(withRelocations, ['--report']).stdout, /mode: relocations/);
  assert.match(translate(withRelocations, ['--report', '--address-map']).stdout, /mode: address-map/);
});
