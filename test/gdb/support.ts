/**
 * gdb in tests: Debian's gdb in batch mode against `memvisor run --gdb` (a child process,
 * as a user runs it), against QEMU's own stubs (qemu-system-i386 -S, qemu-i386 -g), the
 * oracle for what the protocol means. A missing gdb fails the test with the command that
 * installs it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { repoRoot } from '../support/build.js';
import { parseElf } from '../../src/elf/index.js';

export const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
export const build = join(repoRoot, 'build', 'guest');

export function requireGdb(): void {
  if (spawnSync('gdb', ['--version']).status !== 0) {
    throw new Error('gdb is not installed; the gdb tests drive it in batch mode: apt-get install gdb');
  }
}

/** A TCP port nobody listens on now (for QEMU, which cannot report the one it chose). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, 'localhost', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function finished(child: ChildProcess, timeoutMs: number, what: string): Promise<Finished> {
  let stdout = '', stderr = '';
  child.stdout?.setEncoding('latin1').on('data', (t: string) => { stdout += t; });
  child.stderr?.setEncoding('latin1').on('data', (t: string) => { stderr += t; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not finish within ${timeoutMs / 1000} s\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface DebuggedRun {
  port: number;
  done: Promise<Finished>;
  /** Resolves when the guest's console (memvisor's stdout) first matches `pattern`. */
  console(pattern: RegExp): Promise<void>;
}

/** Starts `memvisor run ARGS --gdb localhost:0 -S` and resolves once its stub listens. */
export function startMemvisor(args: string[], timeoutMs = 180_000): Promise<DebuggedRun> {
  const child = spawn(process.execPath, [cli, 'run', ...args, '--gdb', 'localhost:0', '-S'], { stdio: ['ignore', 'pipe', 'pipe'], cwd: repoRoot });
  const done = finished(child, timeoutMs, `memvisor run ${args.join(' ')}`);
  return new Promise((resolve, reject) => {
    let early = '';
    const listening = (chunk: Buffer) => {
      early += chunk.toString('latin1');
      const m = /gdb stub on localhost:(\d+)/.exec(early);
      if (!m) return;
      child.stderr!.off('data', listening);
      resolve({ port: Number(m[1]), done, console: (pattern) => consoleShows(child, pattern) });
    };
    child.stderr!.on('data', listening);
    done.then((r) => reject(new Error(`memvisor ended before its stub listened (exit ${r.code}):\n${r.stderr}`)), reject);
  });
}

function consoleShows(child: ChildProcess, pattern: RegExp): Promise<void> {
  let seen = '';
  return new Promise((resolve) => {
    const watch = (chunk: Buffer | string) => {
      seen += chunk.toString();
      if (!pattern.test(seen)) return;
      child.stdout!.off('data', watch);
      resolve();
    };
    child.stdout!.on('data', watch);
  });
}

export interface GdbOptions {
  name: string;
  /** Commands before `target remote` (gdb -ex). */
  before?: string[];
  /** When this resolves, press Ctrl-C once (SIGINT to gdb, which interrupts the target). */
  interrupt?: Promise<void>;
  timeoutMs?: number;
}

/** Runs gdb in batch mode: `target remote` to localhost:PORT, then the script; resolves with everything it printed (stdout and stderr in order). */
export async function gdbBatch(port: number, script: string, options: GdbOptions): Promise<string> {
  // The script lives in a directory of its own for as long as gdb runs (it used to be left
  // in build/, one file per test and process); a timeout's message quotes it instead.
  const dir = mkdtempSync(join(tmpdir(), 'memvisor-gdb-'));
  const file = join(dir, `${options.name}.gdb`);
  writeFileSync(file, script);
  const args = ['-nx', '-batch', ...(options.before ?? []).flatMap((c) => ['-ex', c]), '-ex', `target remote localhost:${port}`, '-x', file];
  try {
    const child = spawn('sh', ['-c', 'exec "$0" "$@" 2>&1', 'gdb', ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: repoRoot });
    void options.interrupt?.then(() => child.kill('SIGINT'));
    const r = await finished(child, options.timeoutMs ?? 120_000, `gdb running the script\n${script}\n`);
    return r.stdout + r.stderr;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A `memvisor run` without a debugger, for comparison. */
export function runPlain(args: string[]): Finished {
  const r = spawnSync(process.execPath, [cli, 'run', ...args], { encoding: 'latin1', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000, cwd: repoRoot });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A `--stats` file. */
export function statsOf(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

/** The parts of a `--stats` file that say what the guest did (not how fast the host was). */
export function guestWork(file: string): unknown {
  const s = statsOf(file);
  return { outcome: s.outcome, instructions: s.instructions, virtualCycles: s.virtualCycles, haltedCycles: s.haltedCycles, exits: s.exits, devices: s.devices };
}

/** MemV6 boots and its shell runs echo once; the run ends at the prompt after it. */
export const ECHO_RUN = ['--seed', '1', '--send', 'echo hi\\n', '--until', 'hi\\n\\$ '];
/** gdb's commands for MemV6 (kernel symbols, memv6-exec, memv6-user, mwatch, memv6-poison). */
export const MEMV6_GDB = ['source guest/memv6.gdb'];

export interface DebugSession {
  /** What gdb printed. */
  gdb: string;
  /** How memvisor ended. */
  run: Finished;
  /** Both, for an assertion's message. */
  context: string;
}

/**
 * `memvisor run ARGS` waiting for gdb, which runs the script (a function of the stub's port
 * if it needs it) with MemV6's commands loaded; Ctrl-C once the console matches
 * `interruptAt`. Resolves when both have ended.
 */
export async function debugMemV6(args: string[], script: string[] | ((port: number) => string[]), name: string, interruptAt?: RegExp): Promise<DebugSession> {
  const run = await startMemvisor(args);
  const lines = typeof script === 'function' ? script(run.port) : script;
  const gdb = await gdbBatch(run.port, lines.join('\n'), { name, before: MEMV6_GDB, interrupt: interruptAt && run.console(interruptAt) });
  const ended = await run.done;
  return { gdb, run: ended, context: `gdb printed:\n${gdb}\nmemvisor stderr:\n${ended.stderr}` };
}

/** The debugged run of `args` (whose --stats went to `stats`) printed the same and did the same work as the run without gdb. */
export function assertSameAsWithoutGdb(session: DebugSession, args: string[], stats: string): void {
  const plainStats = `${stats}.without-gdb.json`;
  const plain = runPlain([...args, '--stats', plainStats]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(session.run.stdout, plain.stdout, `memvisor run ${args.join(' ')}: the console differs with gdb attached`);
  assert.deepEqual(guestWork(stats), guestWork(plainStats), `memvisor run ${args.join(' ')}: the run with gdb did other work than without`);
}

/** Where MemV6's kernel starts (its ELF entry, physical): gdb's first stop. */
export const KERNEL_ENTRY = `0x${parseElf(readFileSync(join(repoRoot, 'build', 'guest', 'kernel'))).entry.toString(16)}`;
