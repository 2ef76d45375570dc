/**
 * Self-modifying code against qemu-i386: a program rewrites instructions that the
 * compiled-block tier has already compiled (an immediate patched by a store from
 * elsewhere, an instruction patched by the block that runs it, a function replaced by
 * `rep movsb`, code a block reached by following a jump), and data sharing the code's
 * page is written in a hot loop. Every CPU
 * tier must print what qemu-i386 prints; with blocks on, the data writes must not make
 * the CPU recompile.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CPU_TIERS, buildProgram, memvisorRunner, qemuUserRunner, scratch } from '../support/build.js';
import { requireQemuUser } from '../support/qemu.js';
import { readElfFile } from '../../src/elf/index.js';
import { runCaptured } from '../../src/exec/index.js';

const dir = scratch('cpu-smc');

const SOURCE = `
.globl _start
_start:
  xor %ebx, %ebx
  # 1. f is hot (compiled), then its immediate is patched from here.
  mov $300, %ebp
1: call f
  add %eax, %ebx
  dec %ebp
  jnz 1b
  movl $7, f+1
  call f
  add %eax, %ebx
  call f
  imul $3, %eax, %eax
  add %eax, %ebx
  # 2. g increments the immediate of its own next instruction on every call.
  mov $300, %ebp
2: call g
  add %eax, %ebx
  rol $1, %ebx
  dec %ebp
  jnz 2b
  # 3. h is hot, then replaced by the bytes of k with rep movsb (a byte store path).
  mov $300, %ebp
3: call h
  xor %eax, %ebx
  dec %ebp
  jnz 3b
  mov $k, %esi
  mov $h, %edi
  mov $(k_end - k), %ecx
  cld
  rep movsb
  call h
  add %eax, %ebx
  # 4. a hot loop writing data that shares this page with code.
  mov $5000, %ecx
4: addl %ecx, counter
  movb %cl, bytes(%ecx)
  dec %ecx
  jnz 4b
  add counter, %ebx
  # 5. a loop that patches the byte it is about to run: the dec is turned into an inc.
  mov $10, %ecx
  xor %edx, %edx
5: movb $0x42, 6f
6: dec %edx
  dec %ecx
  jnz 5b
  add %edx, %ebx
  # 6. a loop whose block follows a jump back to code 128 bytes before its start (in
  #    other 64-byte lines); between two passes that code is patched (add $3 -> add $5).
  mov $2, %esi
  xor %edx, %edx
  jmp 60f
  .fill 64, 1, 0x90
61: add $3, %edx
  jmp 62f
  .fill 128, 1, 0x90
60: mov $200, %ecx
  jmp 62f
62: dec %ecx
  jnz 61b
  movb $5, 61b+2
  dec %esi
  jnz 60b
  add %edx, %ebx
  # print ebx (4 bytes) and exit 0
  mov %ebx, out
  mov $4, %eax
  mov $1, %ebx
  mov $out, %ecx
  mov $4, %edx
  int $0x80
  mov $1, %eax
  xor %ebx, %ebx
  int $0x80
f: mov $1, %eax
  ret
g: incl g_imm
g_insn: .byte 0xb8
g_imm: .long 0
  ret
h: mov $0x1234, %eax
  add $1, %eax
  ret
k: mov $0x5678, %eax
  shl $4, %eax
  ret
k_end:
  .align 4
counter: .long 0
out: .long 0
bytes: .fill 5004, 1, 0
`;

test('self-modifying code and data next to code: every CPU tier prints what qemu-i386 prints', (t) => {
  requireQemuUser();
  const source = join(dir, 'smc.S');
  writeFileSync(source, SOURCE);
  const elf = buildProgram([source], join(dir, 'smc'));
  const expected = qemuUserRunner(elf);
  assert.equal(expected.status, 0, expected.stderr);
  assert.equal(expected.stdout.length, 4);
  for (const [tier, threshold, engine] of CPU_TIERS) {
    const actual = memvisorRunner(elf, [], 1e8, threshold, { engine });
    assert.equal(actual.stderr, '', `${tier}: ${actual.stderr}`);
    assert.equal(actual.stdout.toString('hex'), expected.stdout.toString('hex'), `${tier}: output differs from qemu-i386`);
  }
  const stats = blockStats(elf);
  t.diagnostic(`default tier: ${stats.compiled} blocks compiled, ${stats.invalidated} dropped after writes to their code`);
  assert.ok(stats.compiled > 0, 'the hot loops were compiled');
  assert.ok(stats.invalidated > 0, 'the patched code was dropped');
});

test('writes to data on a code page (outside the 64-byte lines holding code) do not drop the compiled code', () => {
  const source = join(dir, 'data.S');
  writeFileSync(source, `.globl _start
_start:
  mov $100000, %ecx
1: addl %ecx, counter
  movb %cl, bytes(%ecx)
  dec %ecx
  jnz 1b
  mov $1, %eax
  xor %ebx, %ebx
  int $0x80
  .align 64
counter: .long 0
bytes: .fill 100004, 1, 0
`);
  const elf = buildProgram([source], join(dir, 'data'));
  const stats = blockStats(elf);
  assert.ok(stats.compiled > 0, 'the loop was compiled');
  assert.equal(stats.invalidated, 0, 'blocks dropped although only data was written');
});

function blockStats(elf: string) {
  const run = runCaptured(readElfFile(elf));
  assert.equal(run.exitCode, 0);
  return run.process.cpu.blocks.stats;
}
