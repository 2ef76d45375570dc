/**
 * `memvisor run`: boot a guest on the emulated PC with its serial console on this
 * terminal. Without --kernel/--hda it boots MemV6 (build/guest/kernel with fs.img as hdb).
 * Exit status: 0 when --until matched (or the guest ended normally), 1 on timeout,
 * guest panic or triple fault, 2 on bad input.
 */
import { writeFileSync, renameSync } from 'node:fs';
import type { Command } from 'commander';
import { MemvisorError } from '../../errors.js';
import { bootMachine, type BootConfig } from '../../machine/boot.js';
import { CYCLE_NS } from '../../machine/device.js';
import type { PC } from '../../machine/pc.js';
import { Session, type SessionResult } from '../../machine/session.js';
import { followMirrors, type MirrorStats } from '../../vmm/mirror.js';
import { MemoryErrors, type MemoryErrorStats } from '../../vmm/memory-errors.js';
import { HardwareMirror } from '../../vmm/hardware-mirror.js';
import { checkInjectionFitsMachine, parseInjectionSpec } from '../../faults/index.js';
import { loadSnapshot } from '../../machine/snapshot.js';
import { builtFile } from '../../paths.js';
import { collect, regularExpression, unescapeText, wholeNumber } from '../parse.js';

interface RunOptions {
  kernel?: string; cmdline?: string; hda?: string; hdb?: string; mem: string; mirror: string;
  seed?: string; rtc?: string; inject?: string[]; send?: string[]; prompt: string; until?: string;
  timeout?: string; stats?: string; snapshotAt?: string; snapshot?: string; restore?: string;
  hdaWritable?: boolean; hdbWritable?: boolean; commit?: boolean; debugExit?: boolean;
  spare: string; recovery: string; scrubEvery?: string; interpreter?: boolean;
}

/** A fixed power-on date for reproducible runs (--seed) unless --rtc says otherwise. */
const REPRODUCIBLE_DATE = Date.UTC(2026, 0, 1) / 1000;

function rtcStart(options: RunOptions): number {
  const text = options.rtc ?? (options.seed !== undefined ? undefined : 'now');
  if (text === undefined) return REPRODUCIBLE_DATE;
  if (text === 'now') return Math.floor(Date.now() / 1000);
  const t = Date.parse(text);
  if (!Number.isFinite(t)) throw new MemvisorError(`--rtc ${text}: expected "now" or a date such as 2026-01-01T00:00:00Z`);
  return Math.floor(t / 1000);
}

function bootConfig(options: RunOptions): BootConfig {
  const defaultGuest = !options.kernel && !options.hda;
  const memoryMiB = wholeNumber('--mem', options.mem, 2, 3072);
  return {
    kernel: options.kernel ?? (defaultGuest ? builtFile('kernel') : undefined),
    cmdline: options.cmdline,
    hda: options.hda,
    // MemV6 with mirroring runs the image whose programs are all translated.
    hdb: options.hdb ?? (defaultGuest ? builtFile(options.mirror === 'guest' ? 'fs-mirrored.img' : 'fs.img') : undefined),
    hdaWritable: options.hdaWritable,
    hdbWritable: options.hdbWritable,
    memoryMiB,
    rtcStart: rtcStart(options),
    debugExit: options.debugExit,
    // --mirror hardware reserves a second copy of guest memory beyond the spare pool.
    spareMiB: wholeNumber('--spare', options.spare, 0, 1024) + (options.mirror === 'hardware' ? memoryMiB : 0),
  };
}

const count = (text: string, pattern: RegExp) => (text.match(pattern) ?? []).length;

function writeStats(path: string, pc: PC, result: SessionResult, mirrors: MirrorStats | null, errors: MemoryErrorStats | null): void {
  const instructions = pc.cpu.instructionCount;
  const cycles = pc.now();
  const stats = {
    outcome: result.outcome,
    stop: result.stop,
    instructions,
    virtualCycles: cycles,
    virtualSeconds: (cycles * CYCLE_NS) / 1e9,
    haltedCycles: pc.exits.haltedCycles,
    wallSeconds: Number(result.wallSeconds.toFixed(3)),
    mips: Number((instructions / Math.max(result.wallSeconds, 1e-9) / 1e6).toFixed(2)),
    cpu: { blocksCompiled: pc.cpu.blocks.stats.compiled, blocksDropped: pc.cpu.blocks.stats.invalidated },
    exits: {
      ioRead: pc.exits.ioRead, ioWrite: pc.exits.ioWrite, mmioRead: pc.exits.mmioRead, mmioWrite: pc.exits.mmioWrite,
      interrupts: pc.exits.interrupts, halts: pc.exits.halts,
    },
    devices: {
      diskSectorsRead: pc.ide.sectorsRead, diskSectorsWritten: pc.ide.sectorsWritten, diskCommands: pc.ide.commands,
      consoleBytes: pc.uart.transmitted, pitInterrupts: pc.pit.irqs,
    },
    mirroring: mirrors,
    memoryErrors: errors,
    // What the guest said about it on its console.
    guest: {
      recoveredFromMirror: count(result.output, /recovered from its mirror/g),
      killed: count(result.output, /which has no healthy copy: killing it/g),
      panics: count(result.output, /^panic: /gm),
      divergences: count(result.output, /^mirror: pid /gm),
    },
  };
  const temporary = `${path}.partial`;
  try {
    writeFileSync(temporary, `${JSON.stringify(stats, null, 2)}\n`);
    renameSync(temporary, path);
  } catch (e) {
    throw new MemvisorError(`--stats ${path}: cannot write (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function mirrorSummary(m: MirrorStats): string {
  if (m.mirroredSwitches === 0) return `guest mirroring: no mirrored process ran (${m.plainSwitches} switches to unmirrored ones)`;
  return `guest mirroring: ${m.mirroredSwitches} switches to mirrored processes (peak ${m.peakMirroredPages} mirror pages of ` +
    `${m.peakUserPages} user pages), ${m.plainSwitches} to unmirrored ones, ${m.sharedFrames} mirror pages sharing a frame`;
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

export function register(program: Command): void {
  program
    .command('run')
    .description('boot a guest on the emulated PC (default: MemV6) with its serial console on this terminal')
    .option('--kernel <file>', 'multiboot ELF kernel (default: build/guest/kernel when no --hda is given)')
    .option('--cmdline <text>', 'multiboot command line for the kernel')
    .option('--hda <file>', 'IDE primary master disk image; boots its boot sector when there is no --kernel')
    .option('--hdb <file>', 'IDE primary slave disk image (default with MemV6: build/guest/fs.img)')
    .option('--mem <MiB>', 'guest memory', '128')
    .option('--mirror <mode>', 'off | guest (MemV6 mirrors translated processes) | hardware (the monitor duplicates every write) | system', 'guest')
    .option('--seed <n>', 'seed for everything random; also fixes the RTC date so runs repeat exactly')
    .option('--rtc <date>', 'RTC date at power-on: "now" or an ISO date (default: now, or 2026-01-01 with --seed)')
    .option('--inject <spec>', 'inject a memory fault (repeatable), e.g. poison:target=user-native,count=10,seed=1', collect)
    .option('--spare <MiB>', 'host memory reserved at start for recovered pages', '16')
    .option('--scrub-every <cycles>', 'compare mirrored pages of the running process at its first system call after every this many cycles')
    .option('--recovery <who>', 'monitor (transparent, default) or guest (every machine check goes to the guest)', 'monitor')
    .option('--send <text>', 'type text on the console after the next prompt (repeatable; \\n is Enter)', collect)
    .option('--prompt <regex>', 'what --send waits for', '\\$ $')
    .option('--until <regex>', 'exit 0 when the console matches; 1 on timeout, panic or triple fault')
    .option('--timeout <seconds>', 'give up after this much wall time (exit 1)')
    .option('--stats <file>', 'write run statistics as JSON')
    .option('--snapshot-at <regex>', 'save a snapshot when the console first matches')
    .option('--snapshot <file>', 'where --snapshot-at saves')
    .option('--restore <file>', 'continue from a snapshot instead of booting')
    .option('--hda-writable', 'write guest changes through to the hda file (default: kept in memory)')
    .option('--hdb-writable', 'write guest changes through to the hdb file (default: kept in memory)')
    .option('--commit', 'at exit, write the guest\'s disk changes back to the image files')
    .option('--debug-exit', 'add QEMU\'s isa-debug-exit device at port 0xF4 (value v exits with 2v+1)')
    .option('--interpreter', 'run the CPU on its interpreter alone (no compiled blocks): slower, same results')
    .allowExcessArguments(false)
    .action(async (options: RunOptions) => {
      if (!['off', 'guest', 'system', 'hardware'].includes(options.mirror)) {
        throw new MemvisorError(`--mirror ${options.mirror}: expected off, guest, system or hardware`);
      }
      if (options.mirror === 'system') {
        throw new MemvisorError('--mirror system: not available yet (use guest, hardware or off)');
      }
      if (options.mirror === 'hardware' && options.restore) throw new MemvisorError('--mirror hardware cannot be combined with --restore yet');
      const seed = options.seed === undefined ? 0 : wholeNumber('--seed', options.seed, 0, 0xffffffff);
      if (options.recovery !== 'monitor' && options.recovery !== 'guest') throw new MemvisorError(`--recovery ${options.recovery}: expected monitor or guest`);
      const injections = (options.inject ?? []).map((text) => parseInjectionSpec(text, seed));
      if (options.snapshotAt && !options.snapshot) throw new MemvisorError('--snapshot-at needs --snapshot FILE');
      if (options.snapshot && !options.snapshotAt) throw new MemvisorError('--snapshot needs --snapshot-at REGEX (when to take it)');
      const until = options.until === undefined ? undefined : regularExpression('--until', options.until);
      const snapshotAt = options.snapshotAt === undefined ? undefined : regularExpression('--snapshot-at', options.snapshotAt);
      const prompt = regularExpression('--prompt', options.prompt);
      const timeoutMs = options.timeout === undefined ? undefined : wholeNumber('--timeout', options.timeout, 1, 10_000_000) * 1000;

      let pc: PC;
      let history = '';
      let consumed = 0;
      if (options.restore) {
        if (options.kernel || options.hda || options.hdb) throw new MemvisorError('--restore continues a saved machine: it takes no --kernel, --hda or --hdb');
        ({ pc, console: history, consumed } = loadSnapshot(options.restore));
      } else {
        pc = bootMachine(bootConfig(options));
      }
      if (options.interpreter) pc.cpu.blocks.threshold = 0;
      const mirrors = options.mirror === 'guest' ? followMirrors(pc.mem, (hook) => { pc.cr3Listeners.push(hook); }) : null;
      const hardware = options.mirror === 'hardware' ? new HardwareMirror(pc) : null;
      let errors: MemoryErrors | null = null;
      const scrubEvery = options.scrubEvery === undefined ? 0 : wholeNumber('--scrub-every', options.scrubEvery, 1000, Number.MAX_SAFE_INTEGER);
      if (injections.length || scrubEvery) {
        for (const spec of injections) checkInjectionFitsMachine(spec, pc.mem.guestSize);
        errors = new MemoryErrors(pc, injections, options.recovery, pc.kernelFrames ?? [0x100, 0x200], scrubEvery, hardware);
        pc.addDevice(errors);
      }
      const interactive = process.stdin.isTTY === true;
      const session = new Session(pc, {
        until, send: options.send?.map(unescapeText), prompt, timeoutMs, snapshotAt, snapshotFile: options.snapshot,
        echo: (text) => process.stdout.write(text), pace: interactive, history, consumed,
        onConsole: errors ? (transcript) => errors!.consoleText(transcript) : undefined,
      });
      if (interactive) process.stderr.write('memvisor: guest console on this terminal; Ctrl-A X quits, Ctrl-A H for help\r\n');
      const detach = attachTerminal(session);
      let result: SessionResult;
      try {
        result = await session.run();
      } finally {
        detach();
      }
      if (options.stats) writeStats(options.stats, pc, result, mirrors, errors?.stats ?? null);
      if (errors) {
        const e = errors.stats;
        process.stderr.write(`${interactive ? '\r\n' : ''}memvisor: memory errors: ${e.injected} injected, ${e.activated} consumed, ` +
          `${e.recoveredByMonitor} recovered by the monitor, ${e.machineChecks} machine checks for the guest, ${e.overwritten} overwritten before use` +
          `${e.noTarget ? `, ${e.noTarget} found nothing to hit` : ''}` +
          `${e.scrubs ? `; scrubber: ${e.scrubs} passes, ${e.scrubbedPages} page pairs compared, ${e.detectedUncorrectable} detected-uncorrectable` : ''}\n`);
      }
      if (mirrors) process.stderr.write(`${interactive ? '\r\n' : ''}memvisor: ${mirrorSummary(mirrors)}\n`);
      if (options.commit) for (const d of pc.ide.drives) d?.commit();
      for (const d of pc.ide.drives) d?.close();
      const end = describeEnd(pc, result, options);
      if (end.message) process.stderr.write(`\n${interactive ? '\r' : ''}memvisor: ${end.message}\n`);
      process.exitCode = end.code;
    });
}
