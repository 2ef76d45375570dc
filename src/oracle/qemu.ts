/**
 * Runs a guest on qemu-system-i386 (the independent oracle for MemV6 and the test
 * kernels, and the reference engine of `memvisor bench boot`) with the serial port on a
 * pipe, optionally types text once a prompt appears, and resolves with everything the
 * guest printed once `until` matches. Disk images are copied first, so a run never
 * changes its inputs.
 */
import { spawn, spawnSync } from 'node:child_process';
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

export async function runQemuSystem(run: QemuRun): Promise<QemuResult> {
  const scratch = mkdtempSync(join(tmpdir(), 'memvisor-qemu-'));
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
  }
}
