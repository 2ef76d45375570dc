/**
 * `memvisor exec` and `memvisor bench mips` from the command line: bad input gets one
 * line and a non-zero exit; guest faults are reported with the address and bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram, repoRoot, scratch } from '../support/build.js';
import { requireQemuUser } from '../support/qemu.js';

const dir = scratch('exec-cli');
const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

function memvisor(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', input: '' });
}

function asmProgram(name: string, body: string): string {
  const source = join(dir, `${name}.S`);
  writeFileSync(source, `.globl _start\n_start:\n${body}\n`);
  return buildProgram([source], join(dir, name));
}

function expectOneLine(run: ReturnType<typeof memvisor>, status: number, pattern: RegExp): void {
  assert.equal(run.status, status, `exit status (stderr: ${run.stderr})`);
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${run.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
}

test('exec refuses a missing file, a non-ELF, a 64-bit ELF and a dynamically linked ELF in one line', () => {
  expectOneLine(memvisor('exec', join(dir, 'nope')), 2, /nope: cannot read the program \(ENOENT\)$/);
  const text = join(dir, 'text.elf');
  writeFileSync(text, 'just some text, not a program\n');
  expectOneLine(memvisor('exec', text), 2, /text\.elf: not an ELF file$/);
  const c = join(dir, 'main.c');
  writeFileSync(c, 'int main(void) { return 0; }\n');
  const b64 = join(dir, 'prog64');
  const s64 = join(dir, 'start64.S');
  writeFileSync(s64, '.globl _start\n_start:\n  hlt\n');
  const built64 = spawnSync('gcc', ['-m64', '-nostdlib', '-static', '-o', b64, s64], { encoding: 'utf8' });
  assert.equal(built64.status, 0, `gcc -m64 builds a 64-bit program: ${built64.stderr}`);
  expectOneLine(memvisor('exec', b64), 2, /prog64: 64-bit ELF; memvisor runs 32-bit i386 programs only$/);
  const dyn = join(dir, 'dynamic');
  const builtDyn = spawnSync('gcc', ['-m32', '-o', dyn, c]);
  assert.equal(builtDyn.status, 0, 'gcc -m32 builds a dynamic program');
  expectOneLine(memvisor('exec', dyn), 2, /dynamic: (dynamically linked|position-independent executable)/);
});

test('exec: an unanswered system call gets -ENOSYS and one warning line; --strict makes it fatal', () => {
  // fork (2), twice, then exit with the status fork returned: -ENOSYS is 38 (218 as a byte).
  const elf = asmProgram('syscall', '  mov $2, %eax\n  int $0x80\n  mov $2, %eax\n  int $0x80\n  mov %eax, %ebx\n  mov $1, %eax\n  int $0x80');
  expectOneLine(memvisor('exec', elf), 218, /warning: unsupported system call 2 \(fork\) at eip 0x[0-9a-f]{8}: answered -ENOSYS$/);
  expectOneLine(memvisor('exec', '--strict', elf), 2, /unsupported system call 2 \(fork\) at eip 0x[0-9a-f]{8} \(--strict\)$/);
});

test('exec: --memory up to 2048 MiB runs; beyond is one line (it once crashed from 2048 up: MiB << 20 overflows)', () => {
  const mips = join(repoRoot, 'build', 'guest', 'bench', 'mips');
  const run = memvisor('exec', '--memory', '2048', mips, '1');
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /checksum [0-9a-f]{8}/);
  expectOneLine(memvisor('exec', '--memory', '3072', mips, '1'), 2, /--memory 3072: expected a whole number from 1 to 2048$/);
});

test('exec: --js-blocks runs the program on JavaScript blocks, the same output and instructions as WebAssembly blocks', () => {
  const mips = join(repoRoot, 'build', 'guest', 'bench', 'mips');
  const [wasm, js] = [[], ['--js-blocks']].map((flag) => memvisor('exec', ...flag, '--stats', mips, '2'));
  for (const run of [wasm, js]) assert.equal(run.status, 0, run.stderr);
  assert.equal(js.stdout, wasm.stdout);
  const count = (stderr: string) => /(\d+) instructions in/.exec(stderr)?.[1];
  assert.ok(count(wasm.stderr) !== undefined, wasm.stderr);
  assert.equal(count(js.stderr), count(wasm.stderr), `${js.stderr} / ${wasm.stderr}`);
});

test('exec: a segment larger than guest memory is one line and exit 2 (it was exit 3, as if the program had run out of memory)', () => {
  const bytes = readFileSync(join(repoRoot, 'build', 'guest', 'bench', 'mips'));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const phoff = view.getUint32(28, true), phnum = view.getUint16(44, true);
  let last = -1;
  for (let i = 0; i < phnum; i++) if (view.getUint32(phoff + 32 * i, true) === 1) last = i;
  view.setUint32(phoff + 32 * last + 20, 0x30000000, true);  // its memory size: 768 MiB
  const big = join(dir, 'big-bss');
  writeFileSync(big, bytes);
  expectOneLine(memvisor('exec', big), 2, /big-bss: segment at 0x[0-9a-f]+ \(805306368 bytes\) does not fit in 256 MiB of guest memory \(raise --memory\)$/);
});

test('exec: an undefined instruction raises #UD in the guest, reported with its address and bytes', () => {
  const elf = asmProgram('ud2', '  nop\n  ud2\n  .byte 0xaa, 0xbb');
  const run = memvisor('exec', elf);
  expectOneLine(run, 132, /illegal instruction at eip 0x[0-9a-f]{8}: bytes 0f 0b aa bb/);
  // An x87 exception the program unmasks (zero divide) is raised at the next x87 instruction: SIGFPE.
  const x87 = asmProgram('x87', '  push $0x037b\n  fldcw (%esp)\n  fld1\n  fldz\n  fdivrp\n  fld1\n  mov $1, %eax\n  int $0x80');
  expectOneLine(memvisor('exec', x87), 136, /floating point exception \(x87\) at eip 0x[0-9a-f]{8}$/);
});

test('exec: a wild write is a segmentation fault naming the address; a divide by zero is SIGFPE', () => {
  const segv = asmProgram('segv', '  movl $1, 0x12345678');
  expectOneLine(memvisor('exec', segv), 139, /segmentation fault at eip 0x[0-9a-f]{8}: write to 0x12345678 \(not mapped\)$/);
  const fpe = asmProgram('fpe', '  xor %ecx, %ecx\n  div %ecx');
  expectOneLine(memvisor('exec', fpe), 136, /floating point exception \(divide error\) at eip/);
  const max = memvisor('exec', '--max-instructions', '1000', asmProgram('spin', '1: jmp 1b'));
  expectOneLine(max, 124, /stopped after 1000 instructions/);
});

test('exec: time is virtual by default, so two runs print the same times; --host-time reads the host clock', () => {
  const source = join(dir, 'clock.c');
  writeFileSync(source, `
static int sys(int n, int a, int b, int c) {
  int r;
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b), "d"(c) : "memory");
  return r;
}
static void write_line(unsigned v) {
  char buf[12]; int i = 11; buf[i] = '\\n';
  do { buf[--i] = '0' + v % 10; v /= 10; } while (v);
  sys(4, 1, (int)(buf + i), 12 - i);
}
void _start(void) {
  write_line((unsigned)sys(13, 0, 0, 0));  /* time */
  for (volatile int i = 0; i < 1000000; i++) {}
  unsigned tv[2];
  sys(78, (int)tv, 0, 0);  /* gettimeofday */
  write_line(tv[0]);
  write_line(tv[1]);
  sys(1, 0, 0, 0);
}
`);
  const elf = buildProgram([source], join(dir, 'clock'), ['-O1']);
  const first = memvisor('exec', elf), second = memvisor('exec', elf), interpreted = memvisor('exec', '--interpreter', elf);
  assert.equal(first.status, 0, first.stderr);
  assert.equal(second.stdout, first.stdout, 'two runs of the same program print the same times');
  assert.equal(interpreted.stdout, first.stdout, 'the interpreter alone sees the same times');
  const [time, seconds, microseconds] = first.stdout.trim().split('\n').map(Number);
  const epoch = Date.UTC(2026, 0, 1) / 1000;
  assert.equal(time, epoch, 'time() at the start is 2026-01-01');
  assert.equal(seconds, epoch, 'a few million instructions later it is still the first second');
  assert.ok(microseconds! > 10_000 && microseconds! < 1_000_000, `gettimeofday: ${microseconds} µs after 2026-01-01 (10 ns per instruction)`);
  const host = memvisor('exec', '--host-time', elf);
  assert.equal(host.status, 0, host.stderr);
  const hostTime = Number(host.stdout.split('\n')[0]);
  assert.ok(Math.abs(hostTime - Date.now() / 1000) < 60, `--host-time: ${hostTime} is the host's time`);
});

test('exec: bad options are one line', () => {
  expectOneLine(memvisor('exec', '--memory', 'lots', 'x'), 2, /--memory lots: expected a whole number/);
});

test('bench mips prints the host, MIPS and the ratio to qemu-i386', () => {
  requireQemuUser();
  const run = memvisor('bench', 'mips', '--rounds', '1', '--runs', '1');
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^host: \S.*, \d+ cores?; \S+ \S+, Node v\d+\.\d+\.\d+\n/, 'the report does not start with the host it ran on');
  assert.match(run.stdout, /^memvisor\s+[\d.]+\s+[\d.]+\s+[\d.]+x qemu-i386$/m);
  assert.match(run.stdout, /^memvisor --js-blocks\s+[\d.]+\s+[\d.]+\s+[\d.]+x qemu-i386$/m);
  assert.match(run.stdout, /^memvisor --interpreter\s+[\d.]+\s+[\d.]+\s+[\d.]+x qemu-i386$/m);
  assert.match(run.stdout, /compiled blocks: [\d.]+x the interpreter's speed; in WebAssembly [\d.]+x the speed of JavaScript blocks/);
  assert.match(run.stdout, /checksum [0-9a-f]{8}/);
});
