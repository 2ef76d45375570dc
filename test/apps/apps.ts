/**
 * Real programs nobody here wrote: Debian's busybox-static (i386) and the glibc corpus
 * (test/apps/corpus, built with gcc -m32 -static against Debian's glibc and stripped), with
 * the inputs they run on, and the comparison of a memvisor run with qemu-i386's.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { repoRoot, type ProcessSetup, type RunResult } from '../support/build.js';

/** Where .ci/run puts busybox from Debian's busybox-static:i386 package. */
export const BUSYBOX = join(repoRoot, 'build', 'apps', 'busybox');

/** Busybox is required, not optional: missing, the test fails with the commands that fetch it. */
export function requireBusybox(): string {
  if (!existsSync(BUSYBOX)) {
    throw new Error(`${BUSYBOX} is missing: mkdir -p build/apps && cd build/apps && apt-get download busybox-static:i386 && ` +
      `dpkg-deb --fsys-tarfile busybox-static_*_i386.deb | tar -xO ./bin/busybox > busybox && chmod +x busybox (see .ci/run)`);
  }
  return BUSYBOX;
}

export const CORPUS_DIR = join(repoRoot, 'test', 'apps', 'corpus');

/** Builds every corpus program into `dir` as a stripped static i386 glibc binary; returns name → path. */
export function buildCorpus(dir: string): Map<string, string> {
  const built = new Map<string, string>();
  for (const file of readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.c')).sort()) {
    const name = file.slice(0, -2), out = join(dir, name);
    const run = spawnSync('gcc', ['-m32', '-static', '-O2', '-s', '-D_FILE_OFFSET_BITS=64', '-o', out, join(CORPUS_DIR, file), '-lm'], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`gcc -m32 -static failed for ${file} (is gcc-multilib installed?):\n${run.stderr}`);
    built.set(name, out);
  }
  return built;
}

/** A directory of inputs: a text file, numbers, a small tree of files. */
export function makeInputs(prefix: string): string {
  const dir = mkdtempSync(join(process.env.TMPDIR ?? '/tmp', `memvisor-${prefix}-`));
  writeFileSync(join(dir, 'text.txt'), readFileSync(join(repoRoot, 'README.md')));
  writeFileSync(join(dir, 'nums.txt'), Array.from({ length: 500 }, (_, i) => `${(i * 7919) % 1009} item${i % 37}`).join('\n') + '\n');
  mkdirSync(join(dir, 'tree', 'a', 'b'), { recursive: true });
  for (let i = 0; i < 10; i++) writeFileSync(join(dir, 'tree', i % 2 ? 'a' : join('a', 'b'), `f${i}.txt`), `file ${i}\nmemvisor line ${i * i}\n`);
  return dir;
}

/** Differences between qemu-i386's run and memvisor's (empty: the same stdout and exit status), as lines. */
export function differences(expected: RunResult, actual: RunResult, wantStatus: number): string[] {
  const out: string[] = [];
  if (expected.status !== wantStatus) out.push(`qemu-i386 exited ${expected.status}, the case expects ${wantStatus}: ${expected.stderr.trim().slice(0, 300)}`);
  if (actual.status !== expected.status) out.push(`exit status: qemu-i386 ${expected.status}, memvisor ${actual.status}: ${actual.stderr.trim().slice(0, 300)}`);
  if (!actual.stdout.equals(expected.stdout)) {
    const at = [...expected.stdout.keys()].findIndex((i) => expected.stdout[i] !== actual.stdout[i]);
    const from = at < 0 ? Math.min(expected.stdout.length, actual.stdout.length) : at;
    out.push(`stdout differs at byte ${from} (qemu-i386 ${expected.stdout.length} bytes, memvisor ${actual.stdout.length}): ` +
      `qemu ${JSON.stringify(expected.stdout.subarray(from, from + 60).toString('latin1'))} memvisor ${JSON.stringify(actual.stdout.subarray(from, from + 60).toString('latin1'))}`);
  }
  return out;
}

export type { ProcessSetup };
