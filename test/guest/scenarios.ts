/**
 * What MemV6's user space must do, written once and run on any machine that can boot
 * MemV6 with its file system: qemu-system-i386 today (the independent oracle),
 * memvisor's own emulator later. A `GuestConsole` boots a fresh copy of the disk,
 * types each `send` item after the next shell prompt, and returns everything the
 * guest printed once `until` matches.
 */
import assert from 'node:assert/strict';
import { usertestsNames } from '../../src/bench/names.js';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const guestKernel = join(repoRoot, 'build', 'guest', 'kernel');
export const guestDisk = join(repoRoot, 'build', 'guest', 'fs.img');

export interface ConsoleSession {
  send: string[];
  until: RegExp;
  timeoutMs: number;
}

export interface ConsoleTranscript {
  output: string;
  matched: boolean;
}

export type GuestConsole = (session: ConsoleSession) => Promise<ConsoleTranscript>;

/** The shell's prompt. Not anchored: QEMU's console arrives in chunks, and one may hold a prompt and more after it. */
export const SHELL_PROMPT = /\$ /;

export { usertestsNames } from '../../src/bench/names.js';

function tail(output: string, lines = 40): string {
  return output.split('\n').slice(-lines).join('\n');
}

/** usertests passes: every sub-test prints `NAME ok`, then `ALL TESTS PASSED`. */
export async function checkUsertests(boot: GuestConsole, timeoutMs = 300_000): Promise<string> {
  const { output, matched } = await boot({
    send: ['usertests\n'],
    until: /ALL TESTS PASSED|FAILED|panic/,
    timeoutMs,
  });
  assert.ok(matched, `usertests did not finish within ${timeoutMs / 1000} s; last output:\n${tail(output)}`);
  assert.doesNotMatch(output, /FAILED|panic/, `usertests failed:\n${tail(output)}`);
  assert.match(output, /^ALL TESTS PASSED\r?$/m);
  const passed = new Set([...output.matchAll(/^([a-z0-9]+) ok\r?$/gm)].map((m) => m[1]!));
  const names = usertestsNames();
  assert.ok(names.length >= 40, `usertests has only ${names.length} sub-tests`);
  const lines = output.split('\n');
  for (const name of names) {
    if (passed.has(name)) continue;
    // The lines that name it (JSON-quoted): a sub-test that did not run, or console output that went astray?
    const stem = name.slice(0, 6);
    const near = lines.flatMap((line, i) => (line.includes(stem) ? [`  ${i + 1}: ${JSON.stringify(line)}`] : []));
    assert.fail(`no "${name} ok" line in the output; the lines with "${stem}":\n${near.join('\n') || '  (none)'}`);
  }
  return output;
}

/** The shell: a pipeline, a redirection with `;`, and a background job. */
export async function checkShell(boot: GuestConsole, timeoutMs = 60_000): Promise<string> {
  const { output, matched } = await boot({
    send: [
      'echo hello world | wc\n',
      'echo abc > sh.out; cat sh.out\n',
      'echo bg &\n',
      '(echo x; echo yz) | grep y > sh.out; cat < sh.out; rm sh.out; echo done\n',
    ],
    until: /(^|\n)done\r?\n|panic/,
    timeoutMs,
  });
  assert.ok(matched, `the shell session did not finish; last output:\n${tail(output)}`);
  assert.doesNotMatch(output, /panic|cannot|syntax error/, tail(output));
  // The lines the commands printed (typed input is echoed as "$ command").
  assert.match(output, /(^|\n)1 2 12 ?\r?\n/, 'pipeline: echo hello world | wc');
  assert.match(output, /(^|\n)abc\r?\n/, 'redirection: echo abc > sh.out; cat sh.out');
  // The background job prints whenever it is scheduled: on a machine paced by wall time
  // (QEMU) that may be in the middle of the echo of the next command typed.
  assert.match(output.slice(output.indexOf('echo bg &') + 'echo bg &'.length), /bg\r?\n/, 'background job: echo bg &');
  assert.match(output, /(^|\n)yz\r?\n/, 'group, pipe and input redirection');
  assert.doesNotMatch(output, /(^|\n)x\r?\n/, 'grep let through a line without y');
  return output;
}

/** The utilities: ls, mkdir, ln, rm, cat, grep, kill, and the stress programs. */
export async function checkUtilities(boot: GuestConsole, timeoutMs = 120_000): Promise<string> {
  const { output, matched } = await boot({
    send: [
      'mkdir ut.d; echo one two > ut.d/f; ln ut.d/f ut.g; ls ut.d\n',
      'rm ut.d/f; rm ut.d; cat ut.g; grep t.o ut.g; rm ut.g; cat ut.g\n',
      'stressfs; forktest; zombie; kill 99999\n',
      'echo done\n',
    ],
    until: /(^|\n)done\r?\n|panic/,
    timeoutMs,
  });
  assert.ok(matched, `the utilities session did not finish; last output:\n${tail(output)}`);
  assert.doesNotMatch(output, /panic/, tail(output));
  assert.match(output, /(^|\n)f {13} 2 \d+ 8\r?\n/, 'ls: the file f (type 2, 8 bytes)');
  assert.match(output, /(^|\n)\. {13} 1 \d+ \d+\r?\n/, 'ls: the entry .');
  assert.ok((output.match(/^one two\r?$/gm) ?? []).length >= 2, 'cat and grep of the linked file');
  assert.match(output, /cat: cannot open ut\.g/, 'cat of the removed file');
  assert.match(output, /stressfs ok/, tail(output));
  assert.match(output, /fork test OK/, tail(output));
  assert.match(output, /kill: no process 99999/, tail(output));
  return output;
}

/** A program built with xv6's own conventions runs unchanged. */
export async function checkXv6Compat(boot: GuestConsole, timeoutMs = 60_000): Promise<string> {
  const { output, matched } = await boot({
    send: ['xv6compat\n'],
    until: /xv6compat (ok|FAILED)|panic/,
    timeoutMs,
  });
  assert.ok(matched, `xv6compat did not finish; last output:\n${tail(output)}`);
  assert.match(output, /xv6compat ok/, tail(output));
  return output;
}
