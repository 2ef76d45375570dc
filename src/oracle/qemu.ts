/**
 * Runs a guest on qemu-system-i386 (the independent oracle for MemV6 and the test
 * kernels, and the reference engine of `memvisor bench boot`) with the serial port on a
 * pipe, optionally types text once a prompt appears, and resolves with everything the
 * guest printed once `until` matches. Disk images are copied first, so a run never
 * changes its inputs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, basename } from 'node:path';
import { PromptedInput } from '../machine/prompted-input.js';

export interface QemuRun {
  /** Multiboot kernel; without one, QEMU's firmware boots hda's boot sector. */
  kernel?: string;
  /** Disk images: hda (IDE primary master) and hdb (primary slave). Copied before use. */
  hda?: string;
  hdb?: string;
  memMiB?: number;
  /** The multiboot kernel's command line (-append). */
  cmdline?: string;
  /** Text typed on the serial console, each item after the next match of `prompt` (as `run --send`). */
  send?: string[];
  prompt?: RegExp;
  until: RegExp;
  timeoutMs: number;
  /** Extra arguments, e.g. ['-monitor', 'unix:...']. */
  extraArgs?: string[];
  /** Called with each piece of console output as it arrives (for timestamps). */
  onOutput?: (text: string) => void;
}

export interface QemuResult {
  output: string;
  matched: boolean;
  /** Wall time from starting QEMU to the match (or to giving up). */
  seconds: number;
}

export function qemuSystemAvailable(): boolean {
  return spawnSync('qemu-system-i386', ['--version']).status === 0;
}

export function qemuUserAvailable(): boolean {
  return spawnSync('qemu-i386', ['--version']).status === 0;
}

/** QEMU processes still running: killed if this process exits or is stopped by a signal. */
const running = new Set<ChildProcess>();
/** Their scratch directories (disk copies): removed then too. */
const scratches = new Set<string>();
let cleanupInstalled = false;

/**
 * QEMU with `-serial stdio` does not exit when its standard input closes, so a run cut short
 * (`timeout`, `kill`, a closed terminal) would leave it running for good: at exit, and at
 * SIGTERM, SIGINT or SIGHUP (then re-raised, so this process still ends by the signal), the
 * QEMU processes still running are killed and their scratch directories removed.
 */
function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  const killAll = () => {
    for (const child of running) child.kill('SIGKILL');
    running.clear();
    for (const dir of scratches) rmSync(dir, { recursive: true, force: true });
    scratches.clear();
  };
  process.once('exit', killAll);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    if (process.listenerCount(signal) > 0) continue;  // someone else decides what the signal does
    process.once(signal, () => {
      killAll();
      process.kill(process.pid, signal);
    });
  }
}

export async function runQemuSystem(run: QemuRun): Promise<QemuResult> {
  installCleanup();
  const scratch = mkdtempSync(join(tmpdir(), 'memvisor-qemu-'));
  scratches.add(scratch);
  const args = ['-machine', 'pc', '-display', 'none', '-monitor', 'none', '-serial', 'stdio',
    '-no-reboot', '-m', String(run.memMiB ?? 256), ...(run.kernel ? ['-kernel', run.kernel] : []),
    ...(run.cmdline ? ['-append', run.cmdline] : [])];
  const disks: Array<[string | undefined, number]> = [[run.hda, 0], [run.hdb, 1]];
  for (const [image, index] of disks) {
    if (!image) continue;
    const copy = join(scratch, `${index}-${basename(image)}`);
    copyFileSync(image, copy);
    args.push('-drive', `file=${copy},if=ide,index=${index},media=disk,format=raw`);
  }
  args.push(...(run.extraArgs ?? []));
  const started = performance.now();
  const qemu = spawn('qemu-system-i386', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(qemu);
  qemu.on('exit', () => running.delete(qemu));
  let output = '';
  const input = new PromptedInput(run.send ?? [], run.prompt);
  try {
    return await new Promise<QemuResult>((resolve) => {
      const finish = (matched: boolean) => {
        clearTimeout(timer);
        qemu.kill('SIGKILL');
        resolve({ output, matched, seconds: (performance.now() - started) / 1000 });
      };
      const timer = setTimeout(() => finish(false), run.timeoutMs);
      qemu.stdout.setEncoding('latin1');
      qemu.stdout.on('data', (chunk: string) => {
        output += chunk;
        run.onOutput?.(chunk);
        if (run.until.test(output)) return finish(true);
        // One chunk may show more than one prompt, and QEMU may print nothing more until typed at.
        for (let text = input.next(output); text !== null; text = input.next(output)) qemu.stdin.write(text);
      });
      qemu.stderr.on('data', (chunk: Buffer) => { output += chunk.toString('latin1'); });
      qemu.on('exit', () => finish(run.until.test(output)));
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    scratches.delete(scratch);
  }
}
