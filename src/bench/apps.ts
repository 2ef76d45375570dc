/**
 * `memvisor bench apps`: real workloads — busybox applets from Debian's busybox-static
 * (i386, stripped, static glibc) on generated inputs of a few MiB — on memvisor exec and on
 * qemu-i386: the same output and exit status is required; reported are the guest
 * instructions, memvisor's wall time and MIPS, and qemu-i386's wall time. Then the same
 * busybox translated (the address-map mode: it has no relocations) on `exec --mirror`:
 * the same output again, native and mirror identical at exit, and the overhead in guest
 * instructions and wall time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseElf } from '../elf/index.js';
import { translateElf } from '../sbt/index.js';
import { runCaptured } from '../exec/index.js';
import { MemvisorError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { median } from './mips.js';

/** Where the README's set-up puts Debian's busybox-static for i386. */
export const DEFAULT_BUSYBOX = join(packageRoot, 'build', 'apps', 'busybox');

export interface AppWorkload {
  name: string;
  args: string[];
  /** A file of the input directory given on stdin. */
  stdin?: string;
}

export const APP_WORKLOADS: AppWorkload[] = [
  { name: 'sha256sum 2 MiB', args: ['sha256sum', 'data.bin'] },
  { name: 'md5sum 2 MiB', args: ['md5sum', 'data.bin'] },
  { name: 'sort -n 20k lines', args: ['sort', '-n', 'lines.txt'] },
  { name: 'gzip -c 1 MiB text', args: ['gzip', '-c', 'text.txt'] },
  { name: 'gunzip -c', args: ['gunzip', '-c'], stdin: 'text.txt.gz' },
  { name: 'awk sum by key', args: ['awk', '{ s[$2] += $1 } END { for (k in s) n++; print n, s["key7"] }', 'lines.txt'] },
  { name: 'grep -r tree (2 MiB)', args: ['grep', '-rc', 'needle', 'tree'] },
  { name: 'sed substitute', args: ['sed', 's/[aeiou]/_/g', 'text.txt'] },
];

export interface AppResult {
  name: string;
  instructions: number;
  memvisorSeconds: number;
  qemuSeconds: number | null;
  outputBytes: number;
  /** The translated busybox on exec --mirror (absent with translated: false). */
  translatedInstructions?: number;
  translatedSeconds?: number;
}

/** A deterministic input directory: binary data, numbered lines, English-like text (and its gzip), a tree of files. */
function makeInputs(): string {
  const dir = mkdtempSync(join(tmpdir(), 'memvisor-bench-apps-'));
  let seed = 2026;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8;
  writeFileSync(join(dir, 'data.bin'), Uint8Array.from({ length: 2 << 20 }, () => next() & 0xff));
  writeFileSync(join(dir, 'lines.txt'), Array.from({ length: 20000 }, () => `${next() % 100000} key${next() % 50}`).join('\n') + '\n');
  const words = ['the', 'memory', 'mirror', 'page', 'frame', 'copy', 'guest', 'fault', 'and', 'of', 'translated', 'block', 'needle'];
  const text: string[] = [];
  for (let size = 0; size < 1 << 20;) {
    const line = Array.from({ length: 4 + (next() % 10) }, () => words[next() % words.length]).join(' ');
    text.push(line);
    size += line.length + 1;
  }
  writeFileSync(join(dir, 'text.txt'), text.join('\n') + '\n');
  writeFileSync(join(dir, 'text.txt.gz'), gzipSync(readFileSync(join(dir, 'text.txt'))));
  for (let d = 0; d < 16; d++) {
    mkdirSync(join(dir, 'tree', `d${d}`), { recursive: true });
    for (let f = 0; f < 8; f++) writeFileSync(join(dir, 'tree', `d${d}`, `f${f}.txt`), text.slice((d * 8 + f) * 100, (d * 8 + f) * 100 + 1400).join('\n'));
  }
  return dir;
}

export function benchApps(options: { busybox?: string; runs: number; log?: (line: string) => void; translated?: boolean }): AppResult[] {
  const busybox = options.busybox ?? DEFAULT_BUSYBOX;
  if (!existsSync(busybox)) {
    throw new MemvisorError(`${busybox} is missing: fetch Debian's busybox-static for i386 as the README's set-up shows, or pass --busybox`);
  }
  const log = options.log ?? (() => {});
  const elf = parseElf(readFileSync(busybox), busybox);
  const dir = makeInputs();
  try {
    let translated: ReturnType<typeof parseElf> | null = null;
    if (options.translated !== false) {
      const started = process.hrtime.bigint();
      // Named busybox* so that busybox takes argv[1] as the applet.
      const path = join(dir, 'busybox.translated');
      const { output, report } = translateElf(readFileSync(busybox), { path: busybox });
      writeFileSync(path, output);
      translated = parseElf(output, path);
      log(`translated ${busybox} (${report.mode}): ${report.instructions} instructions, code ${report.growth}x, ` +
        `${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s`);
    }
    return APP_WORKLOADS.map((w) => {
      const input = w.stdin ? readFileSync(join(dir, w.stdin)) : new Uint8Array(0);
      const memvisorTimes: number[] = [], qemuTimes: number[] = [];
      let instructions = 0, output: Buffer = Buffer.alloc(0), status: number | null = 0;
      for (let run = 0; run < options.runs; run++) {
        let at = 0;
        const result = runCaptured(elf, { args: [busybox, ...w.args], cwd: dir, env: ['LANG=C'], strict: true,
          stdin: (max) => input.subarray(at, (at = Math.min(input.length, at + max))) });
        if (instructions && result.instructions !== instructions) throw new MemvisorError(`${w.name}: ${result.instructions} instructions, another run ${instructions}`);
        ({ instructions, stdout: output, exitCode: status } = result);
        memvisorTimes.push(result.seconds);
      }
      let qemuSeconds: number | null = null;
      for (let run = 0; run < options.runs; run++) {
        const started = process.hrtime.bigint();
        const q = spawnSync('qemu-i386', [busybox, ...w.args], { cwd: dir, env: { LANG: 'C' }, input, maxBuffer: 256 << 20 });
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        if (q.error) break; // qemu-i386 missing: memvisor's figures alone
        if (q.status !== status || !q.stdout.equals(output)) {
          throw new MemvisorError(`${w.name}: memvisor and qemu-i386 disagree (exit ${status} vs ${q.status}, ${output.length} vs ${q.stdout.length} bytes of output)`);
        }
        qemuTimes.push(seconds);
      }
      if (qemuTimes.length) qemuSeconds = median(qemuTimes);
      const memvisorSeconds = median(memvisorTimes);
      log(`${w.name}: ${instructions} instructions, ${memvisorSeconds.toFixed(3)} s` + (qemuSeconds === null ? '' : `, qemu-i386 ${qemuSeconds.toFixed(3)} s`));
      const result: AppResult = { name: w.name, instructions, memvisorSeconds, qemuSeconds, outputBytes: output.length };
      if (translated) {
        const times: number[] = [];
        for (let run = 0; run < options.runs; run++) {
          let at = 0;
          const t = runCaptured(translated, { args: [translated.path, ...w.args], cwd: dir, env: ['LANG=C'], strict: true, mirror: true,
            stdin: (max) => input.subarray(at, (at = Math.min(input.length, at + max))) });
          if (t.exitCode !== status || !t.stdout.equals(output)) {
            throw new MemvisorError(`${w.name}: translated busybox disagrees (exit ${t.exitCode} vs ${status}, ${t.stdout.length} vs ${output.length} bytes of output): ${t.stderr.toString().trim().slice(0, 200)}`);
          }
          if (t.mirror!.bytes !== 0) throw new MemvisorError(`${w.name}: translated busybox: ${t.mirror!.bytes} bytes differ between native and mirror at exit`);
          result.translatedInstructions = t.instructions;
          times.push(t.seconds);
        }
        result.translatedSeconds = median(times);
        log(`${w.name} translated: ${result.translatedInstructions} instructions, ${result.translatedSeconds.toFixed(3)} s`);
      }
      return result;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatAppsReport(results: AppResult[]): string {
  const withTranslated = results.some((r) => r.translatedInstructions !== undefined);
  const lines = [`${'workload'.padEnd(24)}${'instructions'.padStart(14)}${'memvisor s'.padStart(12)}${'MIPS'.padStart(8)}${'qemu-i386 s'.padStart(13)}${'ratio'.padStart(8)}` +
    (withTranslated ? `${'translated instr.'.padStart(19)}${'(+%)'.padStart(9)}${'mirror s'.padStart(10)}${'(x)'.padStart(7)}` : '')];
  for (const r of results) {
    lines.push(`${r.name.padEnd(24)}${r.instructions.toLocaleString('en-US').padStart(14)}${r.memvisorSeconds.toFixed(3).padStart(12)}` +
      `${(r.instructions / r.memvisorSeconds / 1e6).toFixed(1).padStart(8)}` +
      (r.qemuSeconds === null ? `${'-'.padStart(13)}${'-'.padStart(8)}` : `${r.qemuSeconds.toFixed(3).padStart(13)}${`${(r.memvisorSeconds / r.qemuSeconds).toFixed(1)}x`.padStart(8)}`) +
      (r.translatedInstructions === undefined ? '' : `${r.translatedInstructions.toLocaleString('en-US').padStart(19)}` +
        `${('+' + ((r.translatedInstructions / r.instructions - 1) * 100).toFixed(1) + '%').padStart(9)}${r.translatedSeconds!.toFixed(3).padStart(10)}` +
        `${((r.translatedSeconds! / r.memvisorSeconds).toFixed(2) + 'x').padStart(7)}`));
  }
  lines.push('every workload printed the same bytes and exit status on memvisor and qemu-i386 (qemu-i386 times include its start-up)');
  if (withTranslated) lines.push('translated: busybox translated without relocations (address map), run on exec --mirror: the same bytes, native and mirror identical at exit');
  if (results.some((r) => r.qemuSeconds === null)) lines.push('(qemu-i386 not installed: - in its columns)');
  return lines.join('\n');
}
