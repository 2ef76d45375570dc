/**
 * Real programs nobody here wrote: Debian's busybox-static (i386) and the glibc corpus
 * (test/apps/corpus, built with gcc -m32 -static against Debian's glibc and stripped), with
 * the inputs they run on, and the comparison of a memvisor run with qemu-i386's.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { repoRoot, scratch, type ProcessSetup, type RunResult } from '../support/build.js';

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
  const dir = scratch(prefix);
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

/** [applet, arguments, stdin, expected exit status]. */
export const APPLETS: Array<[string, string[], string?, number?]> = [
  ['echo', ['hello', 'world']],
  ['cat', ['text.txt']],
  ['sha256sum', ['text.txt', 'nums.txt']],
  ['md5sum', ['text.txt']],
  ['sha1sum', ['nums.txt']],
  ['sort', ['-n', 'nums.txt']],
  ['sort', ['-k2,2', '-k1n', 'nums.txt']],
  ['uniq', ['-c'], 'a\na\nb\nc\nc\nc\n'],
  ['wc', ['text.txt', 'nums.txt']],
  ['head', ['-n', '5', 'text.txt']],
  ['tail', ['-n', '3', 'text.txt']],
  ['tr', ['a-z', 'A-Z'], 'hello, world\n'],
  ['cut', ['-d', ' ', '-f', '2', 'nums.txt']],
  ['grep', ['-n', 'memvisor', 'text.txt']],
  ['grep', ['-r', 'memvisor', 'tree']],
  ['sed', ['-e', 's/the/THE/g', '-e', '/^$/d', 'text.txt']],
  ['awk', ['{ s += $1; n[$2]++ } END { print s, NR, s / NR; print n["item3"] }', 'nums.txt']],
  ['expr', ['3', '*', '14']],
  ['seq', ['1', '3', '20']],
  ['printf', ['%5.2f|%x|%s|%e\\n', '3.14159', '255', 'str', '1e-7']],
  ['od', ['-A', 'x', '-t', 'x1', 'nums.txt']],
  ['base64', ['text.txt']],
  ['factor', ['1234567890', '97', '600851475143']],
  ['dc', ['-e', '2 64 ^ p 10 3 / p 7 k 2 v p']],
  ['bc', [], '2^100\nscale=20\n1/7\nsqrt(2)\n'],
  ['tac', ['nums.txt']],
  ['rev', [], 'abc\ndef\n'],
  ['fold', ['-w', '20', 'text.txt']],
  ['nl', ['nums.txt']],
  ['cmp', ['text.txt', 'nums.txt'], undefined, 1],
  ['diff', ['text.txt', 'nums.txt'], undefined, 1],
  ['ls', ['-1', 'tree/a']],
  ['find', ['tree', '-name', '*.txt']],
  ['du', ['-a', 'tree']],
  ['basename', ['/a/b/c.txt', '.txt']],
  ['dirname', ['/a/b/c.txt']],
  ['false', [], undefined, 1],
  ['xxd', ['nums.txt']],
  ['hexdump', ['-C', 'nums.txt']],
  ['sh', ['-c', 'for i in 1 2 3; do echo $i; done; echo $((6*7)); x=sub; echo ${x}way; test -d tree && echo dir; case $x in s*) echo match;; esac']],
  ['gzip', ['-c', '-9', 'text.txt']],
  ['stat', ['-c', '%s %F %n', 'text.txt', 'tree']],
  ['date', ['-u', '-d', '@1234567890']],
];

/** How each corpus program runs: arguments, stdin, environment; `files` gets a fresh directory per run as its argument. */
export const CORPUS_RUNS: Record<string, { args?: string[]; stdin?: Buffer; env?: string[]; files?: boolean; status?: number }> = {
  doubles: {},
  sorting: {},
  heap: {},
  files: { files: true },
  environ: { args: ['one', 'two words', ''], env: ['HOME=/home/user', 'LANG=C', 'EMPTY=', 'PATH=/usr/bin:/bin'], status: 4 },
  words: { stdin: readFileSync(join(repoRoot, 'README.md')) },
};

export type { ProcessSetup };
