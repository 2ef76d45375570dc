/** What `memvisor run` does (its options and help: ../commands/run.ts). */
import { writeFileSync, renameSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { useBlockCache } from '../../block-cache.js';
import { MemvisorError } from '../../errors.js';
import { MAX_HOST_MEMORY_MIB, MIN_MEMORY_MIB, type BootConfig } from '../../machine/boot.js';
import { REPRODUCIBLE_EPOCH } from '../../virtual-time.js';
import type { PC } from '../../machine/pc.js';
import type { Session, SessionResult } from '../../machine/session.js';
import { createMonitor, machineMemoryMiB, MEMV6_IMAGES, type MirrorMode, type MonitorOptions, type RecoveryMode } from '../../vmm/index.js';
import { parseInjectionSpec } from '../../faults/index.js';
import { GdbStub, listenForDebugger, parseGdbAddress, type GdbAddress } from '../../gdb/index.js';
import { builtFile } from '../../paths.js';
import { regularExpression, unescapeText, wholeNumber } from '../parse.js';
import { afterFirstPrompt, differenceFromGolden, endOf, readGolden } from '../../campaign/experiment.js';

interface RunOptions {
  kernel?: string; cmdline?: string; hda?: string; hdb?: string; mem?: string; mirror?: string;
  seed?: string; rtc?: string; inject?: string[]; send?: string[]; prompt: string; until?: string;
  timeout?: string; stats?: string; snapshotAt?: string; snapshot?: string; restore?: string;
  hdaWritable?: boolean; hdbWritable?: boolean; commit?: boolean; debugExit?: boolean;
  spare?: string; recovery?: string; scrubEvery?: string; interpreter?: boolean; jsBlocks?: boolean; maxCycles?: string; golden?: string;
  gdb?: string; s?: boolean; S?: boolean;
}

/** The run's seed (0 without --seed). */
function runSeed(options: RunOptions): number {
  return options.seed === undefined ? 0 : wholeNumber('--seed', options.seed, 0, 0xffffffff);
}

/** Where a debugger connects (--gdb, or -s as QEMU spells localhost:1234); null without one. */
function gdbAddress(options: RunOptions): GdbAddress | null {
  if (options.gdb !== undefined && options.s) throw new MemvisorError('give --gdb [HOST:]PORT or -s, not both');
  const address = options.gdb !== undefined ? parseGdbAddress(options.gdb) : options.s ? { host: 'localhost', port: 1234 } : null;
  if (options.S && !address) throw new MemvisorError('-S waits for a debugger: give --gdb [HOST:]PORT or -s as well');
  return address;
}

function rtcStart(options: RunOptions): number {
  const text = options.rtc ?? (options.seed !== undefined ? undefined : 'now');
  // A fixed power-on date for reproducible runs (--seed) unless --rtc says otherwise.
  if (text === undefined) return REPRODUCIBLE_EPOCH;
  if (text === 'now') return Math.floor(Date.now() / 1000);
  const t = Date.parse(text);
  if (!Number.isFinite(t)) throw new MemvisorError(`--rtc ${text}: expected "now" or a date such as 2026-01-01T00:00:00Z`);
  return Math.floor(t / 1000);
}

function bootConfig(options: RunOptions, mirror: string): Omit<BootConfig, 'spareMiB'> {
  const defaultGuest = !options.kernel && !options.hda;
  return {
    kernel: options.kernel ?? (defaultGuest ? builtFile(MEMV6_IMAGES.kernel(mirror as MirrorMode)) : undefined),
    cmdline: options.cmdline,
    hda: options.hda,
    hdb: options.hdb ?? (defaultGuest ? builtFile(MEMV6_IMAGES.disk(mirror as MirrorMode)) : undefined),
    hdaWritable: options.hdaWritable,
    hdbWritable: options.hdbWritable,
    memoryMiB: options.mem === undefined ? machineMemoryMiB(mirror as MirrorMode) : wholeNumber('--mem', options.mem, MIN_MEMORY_MIB, MAX_HOST_MEMORY_MIB),
    rtcStart: rtcStart(options),
    debugExit: options.debugExit,
  };
}

/** What the user asked of the monitor, checked before anything is built. */
function monitorOptions(options: RunOptions): MonitorOptions {
  const seed = runSeed(options);
  if (options.recovery !== undefined && options.recovery !== 'monitor' && options.recovery !== 'guest') {
    throw new MemvisorError(`--recovery ${options.recovery}: expected monitor or guest`);
  }
  const common = {
    faults: (options.inject ?? []).map((text) => parseInjectionSpec(text, seed)),
    recovery: options.recovery as RecoveryMode | undefined,
    scrubEvery: options.scrubEvery === undefined ? undefined : wholeNumber('--scrub-every', options.scrubEvery, 1000, Number.MAX_SAFE_INTEGER),
    spareMiB: options.spare === undefined ? undefined : wholeNumber('--spare', options.spare, 0, 1024),
    mirror: options.mirror as MirrorMode | undefined,
    interpreter: options.interpreter,
    jsBlocks: options.jsBlocks,
  };
  if (options.restore) {
    if (options.kernel || options.hda || options.hdb) throw new MemvisorError('--restore continues a saved machine: it takes no --kernel, --hda or --hdb');
    return { machine: { restore: options.restore }, ...common };
  }
  return { machine: { boot: bootConfig(options, options.mirror ?? 'guest') }, ...common };
}

function writeStats(path: string, stats: Record<string, unknown>): void {
  const temporary = `${path}.partial`;
  try {
    writeFileSync(temporary, `${JSON.stringify(stats, null, 2)}\n`);
    renameSync(temporary, path);
  } catch (e) {
    throw new MemvisorError(`--stats ${path}: cannot write (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** Raw terminal: keys go to the guest's UART; Ctrl-A X quits, Ctrl-A H helps, Ctrl-A Ctrl-A sends Ctrl-A. */
function attachTerminal(session: Session): () => void {
  const stdin = process.stdin;
  const tty = stdin.isTTY === true;
  if (tty) stdin.setRawMode(true);
  let escape = false;
  const onData = (chunk: Buffer) => {
    if (!tty) return session.input(chunk);
    const keys: number[] = [];
    for (const b of chunk) {
      if (escape) {
        escape = false;
        if (b === 0x78 || b === 0x58) { session.quit(); return; }
        if (b === 0x68 || b === 0x48) process.stderr.write('\r\nC-a x  quit memvisor\r\nC-a h  this help\r\nC-a C-a  send C-a to the guest\r\n');
        else if (b === 0x01) keys.push(0x01);
        continue;
      }
      if (b === 0x01) escape = true; else keys.push(b);
    }
    session.input(keys);
  };
  stdin.on('data', onData);
  stdin.on('error', () => {});
  return () => {
    stdin.off('data', onData);
    if (tty) stdin.setRawMode(false);
    stdin.pause();
  };
}

function describeEnd(pc: PC, result: SessionResult, options: RunOptions): { code: number; message?: string } {
  const seconds = result.wallSeconds.toFixed(1);
  const dump = () => `\n${pc.cpu.describe()}`;
  switch (result.outcome) {
    case 'matched': return { code: 0 };
    case 'quit': return { code: 0 };
    case 'timeout': return { code: 1, message: `timed out after ${seconds} s${options.until ? ` without seeing /${options.until}/` : ''}` };
    case 'limit': return { code: 1, message: 'virtual time limit reached' };
    case 'stopped':
    case 'finished': {
      const stop = result.stop!;
      if (stop.kind === 'debug-exit') return { code: options.until ? 1 : stop.code, message: options.until ? `${stop.message} before /${options.until}/ matched` : undefined };
      if (stop.kind === 'reset') return { code: options.until ? 1 : 0, message: stop.message };
      return { code: 1, message: `${stop.message}${dump()}` };
    }
  }
}

export async function run(options: RunOptions): Promise<void> {
  if (options.snapshotAt && !options.snapshot) throw new MemvisorError('--snapshot-at needs --snapshot FILE');
  if (options.snapshot && !options.snapshotAt) throw new MemvisorError('--snapshot needs --snapshot-at REGEX (when to take it)');
  const until = options.until === undefined ? undefined : regularExpression('--until', options.until);
  const snapshotAt = options.snapshotAt === undefined ? undefined : regularExpression('--snapshot-at', options.snapshotAt);
  const prompt = regularExpression('--prompt', options.prompt);
  const timeoutMs = options.timeout === undefined ? undefined : wholeNumber('--timeout', options.timeout, 1, 10_000_000) * 1000;
  const limitCycle = options.maxCycles === undefined ? undefined : wholeNumber('--max-cycles', options.maxCycles, 1, Number.MAX_SAFE_INTEGER);
  const golden = options.golden === undefined ? undefined : readGolden(options.golden);
  const debugAt = gdbAddress(options);
  const plan = monitorOptions(options);
  // The blocks earlier processes wrote, and this one's kept for the next (../../block-cache.ts).
  useBlockCache();
  const monitor = createMonitor(plan);
  const pc = monitor.pc;
  if (limitCycle !== undefined && limitCycle <= pc.now()) throw new MemvisorError(`--max-cycles ${limitCycle}: the machine is already at cycle ${pc.now()}`);
  const interactive = process.stdin.isTTY === true;
  // memvisor's own lines start on a line of their own when the console shares the terminal
  // and the guest left its cursor mid-line (after a shell prompt, say).
  let midLine = false;
  const say = (line: string): void => {
    if (midLine && process.stdout.isTTY) process.stderr.write(interactive ? '\r\n' : '\n');
    midLine = false;
    process.stderr.write(`${interactive ? '\r' : ''}memvisor: ${line}\n`);
  };
  const stub = debugAt && new GdbStub(monitor, { seed: runSeed(options), waitForDebugger: options.S === true, log: (line) => say(`gdb: ${line}`) });
  const session = monitor.session({
    until, send: options.send?.map(unescapeText), prompt, timeoutMs, snapshotAt, snapshotFile: options.snapshot,
    echo: (text) => { process.stdout.write(Buffer.from(text, 'latin1')); if (text.length > 0) midLine = !text.endsWith('\n'); }, pace: interactive,
    maxCycles: limitCycle === undefined ? undefined : limitCycle - pc.now(),
  });
  if (interactive) process.stderr.write('memvisor: guest console on this terminal; Ctrl-A X quits, Ctrl-A H for help\r\n');
  const server = stub && await listenForDebugger(debugAt!, stub);
  if (server) {
    const port = (server.address() as AddressInfo).port;  // --gdb HOST:0 lets the system choose
    say(`gdb stub on ${debugAt!.host}:${port}${options.S ? '; the guest waits for a debugger to continue it' : ''}`);
  }
  const detach = attachTerminal(session);
  let result: SessionResult;
  try {
    result = await session.run();
  } catch (e) {
    stub?.finish(1);
    throw e;
  } finally {
    detach();
    server?.close();
  }
  // Against a campaign's fault-free run: was the output (and the disk) right?
  const guest = monitor.settings.profile.consoleReports(result.output);
  const difference = golden === undefined ? undefined
    : differenceFromGolden(golden, afterFirstPrompt(session.transcript, prompt), pc.ide.drives[1]?.data ?? null, endOf(result) !== 'completed' || guest.killed > 0, prompt, monitor.settings.profile);
  const same = difference === undefined ? undefined : difference === null;
  if (difference) say(`against the fault-free run: ${difference}`);
  if (options.stats) writeStats(options.stats, monitor.report(result, same));
  for (const line of monitor.summary(result, same)) say(line);
  if (options.commit) for (const d of pc.ide.drives) d?.commit();
  for (const d of pc.ide.drives) d?.close();
  const end = describeEnd(pc, result, options);
  stub?.finish(end.code);
  if (end.message) say(end.message);
  process.exitCode = end.code;
}
