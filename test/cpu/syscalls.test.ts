/**
 * The system call table of `memvisor exec` (src/exec/syscalls.ts) against the kernel's own
 * numbering in <asm/unistd_32.h> (linux-libc-dev): every call we answer or name has the
 * number Linux gives it on i386.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { SYSCALLS, UNANSWERED_NAMES } from '../../src/exec/syscalls.js';

const HEADERS = ['/usr/include/asm/unistd_32.h', '/usr/include/x86_64-linux-gnu/asm/unistd_32.h', '/usr/include/i386-linux-gnu/asm/unistd_32.h'];

test('exec: every system call name has its i386 Linux number', () => {
  const header = HEADERS.find((h) => existsSync(h));
  assert.ok(header, `no <asm/unistd_32.h> in ${HEADERS.join(', ')}: apt-get install linux-libc-dev (gcc-multilib brings it)`);
  const numbers = new Map<string, number>();
  for (const [, name, n] of readFileSync(header, 'utf8').matchAll(/^#define __NR_(\w+)\s+(\d+)/gm)) numbers.set(name!, Number(n));
  assert.ok(numbers.size > 400, `${header} lists ${numbers.size} calls`);
  const named: Array<[number, string]> = [...[...SYSCALLS].map(([n, s]) => [n, s.name] as [number, string]),
    ...Object.entries(UNANSWERED_NAMES).map(([n, name]) => [Number(n), name] as [number, string])];
  const wrong = named.filter(([n, name]) => numbers.get(name) !== n).map(([n, name]) => `${name}: table ${n}, Linux ${numbers.get(name)}`);
  assert.deepEqual(wrong, []);
  assert.ok(SYSCALLS.size >= 100, `${SYSCALLS.size} calls answered`);
});
