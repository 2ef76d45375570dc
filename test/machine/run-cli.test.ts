/**
 * `memvisor run` as a user meets it: bad input is one line and exit 2; a guest that
 * triple-faults or dies stops with a register dump and exit 1; --until, --timeout,
 * --stats, snapshots through files, and disk images that are never changed by default.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram, repoRoot, scratch } from '../support/build.js';
import { guestDisk, guestKernel } from '../guest/scenarios.js';

const dir = scratch('run-cli');
const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

function memvisor(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, 'run', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A multiboot kernel from a few lines of assembly. */
function tinyKernel(name: string, body: string): string {
  const source = join(dir, `${name}.S`);
  writeFileSync(source, `.text\n.globl _start\n.align 4\n.long 0x1BADB002, 3, -(0x1BADB002 + 3)\n_start:\n${body}\n`);
  return buildProgram([source], join(dir, `${name}.elf`), ['-nostdlib', '-Wl,-Ttext=0x100000']);
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

function assertOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(stderr, /at .*\.js:\d+/, 'a stack trace reached the user');
}

test('run: bad input is one clear line and exit 2', () => {
  const odd = join(dir, 'odd.img');
  writeFileSync(odd, new Uint8Array(1000));
  const notMultiboot = join(dir, 'plain.elf');
  writeFileSync(notMultiboot, readFileSync(join(repoRoot, 'build', 'guest', 'bench', 'mips')));
  const cases: Array<[string[], RegExp]> = [
    [['--kernel', join(dir, 'missing.elf')], /--kernel .*missing\.elf: cannot read the kernel \(ENOENT\)/],
    [['--kernel', notMultiboot], /plain\.elf: no multiboot header in the first 8 KiB/],
    [['--kernel', guestKernel, '--hdb', odd], /--hdb .*odd\.img: a disk image must be a non-empty multiple of 512 bytes, this one is 1000 bytes/],
    [['--hda', join(dir, 'missing.img')], /--hda .*missing\.img: cannot read the disk image/],
    [['--kernel', guestKernel, '--mem', 'lots'], /--mem lots: expected a whole number/],
    [['--kernel', guestKernel, '--until', '(('], /--until \(\(: not a valid regular expression/],
    [['--kernel', guestKernel, '--mirror', 'sideways'], /--mirror sideways: expected off, guest, system or hardware/],
    [['--restore', join(dir, 'odd.img')], /--restore .*odd\.img: not a memvisor snapshot/],
    [['--bogus-flag'], /unknown option '--bogus-flag'/],
    // A command line the multiboot area cannot hold was cut at 1023 bytes without a word.
    [['--kernel', guestKernel, '--cmdline', 'x'.repeat(1024)], /--cmdline: 1024 bytes; the multiboot command line holds at most 1023/],
    // Memory sizes in range once crashed with a stack trace (MiB << 20 overflows 32 bits).
    [['--mem', '3072'], /--mem 3072: expected a whole number from 2 to 2048/],
    [['--mem', '2048', '--mirror', 'off'], /--mem 2048: 2048 MiB of guest memory and 16 MiB the monitor reserves .* make 2064 MiB; a machine may have at most 2048 MiB/],
    [['--mirror', 'hardware', '--mem', '1100'], /make 2216 MiB; a machine may have at most 2048 MiB/],
    [['--mem', '2000', '--spare', '1024', '--mirror', 'off'], /make 3024 MiB; a machine may have at most 2048 MiB/],
  ];
  for (const [args, pattern] of cases) {
    const r = memvisor(...args);
    assert.equal(r.status, 2, `memvisor run ${args.join(' ')}: ${r.stderr}`);
    assertOneLine(r.stderr, pattern);
  }
});

test('run: the largest machine there is room for boots (2032 MiB of guest memory beside the 16 MiB spare pool)', () => {
  const r = memvisor('--mem', '2032', '--mirror', 'off', '--until', 'init: starting sh', '--timeout', '120');
  assert.equal(r.status, 0, r.stderr);
});

test('run: console bytes reach the terminal as the guest sent them (café stays café, 0xFF 0x80 stay raw), as on QEMU', () => {
  const bytes = [0x63, 0x61, 0x66, 0xc3, 0xa9, 0x20, 0xff, 0x80, 0x0a];
  const kernel = tinyKernel('bytes', `mov $0x3f8, %dx\nmov $msg, %esi\n1: lodsb\ntest %al, %al\njz 2f\noutb %al, %dx\njmp 1b\n2: cli\nhlt\nmsg: .byte ${bytes.join(', ')}, 0`);
  const run = spawnSync(process.execPath, [cli, 'run', '--kernel', kernel, '--until', 'café \\xff', '--timeout', '30'], { stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(run.status, 0, run.stderr.toString());
  assert.deepEqual([...run.stdout], bytes, `stdout: ${run.stdout.toString('hex')}`);
  // Typed text is UTF-8 too: MemV6's echo sends the same bytes back.
  const echoed = spawnSync(process.execPath, [cli, 'run', '--mirror', 'off', '--send', 'echo café\\x21\\n', '--until', '^café!', '--timeout', '60'], { stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(echoed.status, 0, echoed.stderr.toString());
  assert.ok(echoed.stdout.includes(Buffer.from('\ncafé!\n', 'utf8')), echoed.stdout.toString('latin1').slice(-200));
});

test('run: a triple fault or a dead guest stops with a register dump and exit 1', () => {
  const triple = tinyKernel('triple', 'lidt idtr\nint $3\nidtr: .word 0\n.long 0');
  let r = memvisor('--kernel', triple, '--timeout', '30');
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /triple fault/);
  assert.match(r.stderr, /eip=[0-9a-f]{8}/);
  const dead = tinyKernel('dead', 'cli\nhlt');
  r = memvisor('--kernel', dead, '--until', 'never', '--timeout', '30');
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /halted with interrupts disabled/);
});

test('run: --until exits 0 on a match and writes --stats; --timeout exits 1', () => {
  const stats = join(dir, 'stats.json');
  let r = memvisor('--until', '\\$ $', '--timeout', '60', '--stats', stats, '--mirror', 'off');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /init: starting sh/);
  const s = JSON.parse(readFileSync(stats, 'utf8')) as Record<string, unknown>;
  assert.equal(s.outcome, 'matched');
  assert.ok((s.instructions as number) > 1e5);
  assert.ok((s.exits as Record<string, number>).interrupts > 0);
  r = memvisor('--until', 'this will never be printed', '--timeout', '1');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /timed out after .* without seeing/);
});

test('run: --snapshot-at saves the booted machine; --restore with --send continues from it', () => {
  const snap = join(dir, 'booted.snap');
  let r = memvisor('--until', '\\$ $', '--snapshot-at', '\\$ $', '--snapshot', snap, '--timeout', '60', '--seed', '1');
  assert.equal(r.status, 0, r.stderr);
  r = memvisor('--restore', snap, '--send', 'echo restored-and-typed\\n', '--until', '^restored-and-typed', '--timeout', '60');
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.doesNotMatch(r.stdout, /MemV6 booting/, 'the restored machine booted again');
  // A file from another format, or with a part of another version, is refused: test/vmm/snapshot.test.ts.
});

test('run: disk images are not modified unless asked', () => {
  const copy = join(dir, 'fs-copy.img');
  copyFileSync(guestDisk, copy);
  const before = sha(copy);
  let r = memvisor('--kernel', guestKernel, '--hdb', copy, '--send', 'echo data > newfile; echo written\\n', '--until', '^written', '--timeout', '60');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(sha(copy), before, 'the default run changed the disk image');
  r = memvisor('--kernel', guestKernel, '--hdb', copy, '--hdb-writable', '--send', 'echo data > newfile; echo written\\n', '--until', '^written', '--timeout', '60');
  assert.equal(r.status, 0, r.stderr);
  assert.notEqual(sha(copy), before, '--hdb-writable did not write through');
});
