/**
 * The usertests benchmark: its parser on recorded output, the overhead arithmetic, the
 * chart (valid SVG, one bar per sub-test), and a short smoke run of the command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  LineRecorder, overheadChartSpec, overheads, renderChart, subtestsFromLines, WALL_TARGET, type Subtest, type UsertestsReport,
} from '../../src/bench/usertests.js';
import { repoRoot, scratch } from '../support/build.js';
import { requireQemuSystem } from '../support/qemu.js';

/** Console output recorded from a MemV6 usertests run (a kernel message in the middle). */
const RECORDED = [
  '$ usertests', 'usertests starting', 'printf ok', 'strings ok',
  'pid 143 usertests: trap 14 err 4 eip 0x2d826 addr 0x35000--kill proc', 'sbrkgrow ok', 'ALL TESTS PASSED',
];

test('bench usertests: sub-tests are measured between consecutive ok lines, other lines ignored', () => {
  let instructions = 0;
  const recorder = new LineRecorder(() => instructions);
  const counts = [100, 1000, 1500, 4000, 9000, 9500, 9600];
  RECORDED.forEach((line, i) => {
    instructions = counts[i]!;
    recorder.text(`${line}\r\n`);
  });
  const subtests = subtestsFromLines(recorder.lines);
  assert.deepEqual(subtests.map((s) => [s.name, s.instructions]), [['printf', 500], ['strings', 2500], ['sbrkgrow', 5500]]);
});

test('bench usertests: overhead per sub-test, its average and maximum', () => {
  const base: Subtest[] = [{ name: 'a', instructions: 100, ms: 10 }, { name: 'b', instructions: 200, ms: 10 }, { name: 'c', instructions: 50, ms: 5 }];
  const mirrored: Subtest[] = [{ name: 'a', instructions: 110, ms: 12 }, { name: 'b', instructions: 260, ms: 10 }];
  const o = overheads(base, mirrored, 'instructions');
  assert.deepEqual(o.rows.map((r) => [r.name, r.percent]), [['a', 10], ['b', 30]]);
  assert.equal(o.average, 20);
  assert.equal(o.maximum, 30);
  assert.equal(o.maximumName, 'b');
  assert.equal(overheads(base, mirrored, 'ms').average, 10);
  // Wall times below the minimum are timer noise and are left out.
  assert.deepEqual(overheads(base, mirrored, 'ms', 11).rows, []);
});

test('bench usertests: the chart is SVG with one bar per sub-test and the published average drawn', async () => {
  const names = ['printf', 'strings', 'sbrkgrow', 'bigfile', 'pipebig'];
  const rows = names.map((name, i) => ({ name, base: 100, mirrored: 110 + i * 10, percent: 10 + i * 10 }));
  const report = { instructions: { rows, average: 30, maximum: 50, maximumName: 'pipebig' }, published: { average: 43, maximum: 60 } } as unknown as UsertestsReport;
  const svg = await renderChart(overheadChartSpec(report));
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  const bars = svg.match(/aria-roledescription="bar"/g) ?? [];
  assert.equal(bars.length, names.length);
  for (const name of names) assert.match(svg, new RegExp(`sub-test: ${name};`));
  assert.match(svg, /published average 43%/);
});

/** The block cache on disk these tests' processes use (src/block-cache.ts): a new one, not the user's. */
const blockCache = join(scratch('bench-usertests-blocks'), 'cache');
const benchEnv = { ...process.env, MEMVISOR_BLOCK_CACHE: blockCache };

test('bench usertests: a short run on memvisor writes the table, results.json and the chart', () => {
  const out = scratch('bench-usertests');
  const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'bench', 'usertests', '--tests', 'printf,getpid,forkwait', '--out', out],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000, env: benchEnv });
  assert.equal(r.status, 0, r.stderr);
  // A new block cache: the first run's blocks are all its own, and are left on disk for the next process.
  assert.match(r.stdout, /\(the first run, in a new process, 0 of its \d+ blocks \(off\) from the block cache on disk;/);
  assert.ok(readdirSync(blockCache).some((f) => /^blocks-[0-9a-f]+\.bin$/.test(f)), 'no block cache file was written');
  assert.match(r.stdout, /^forkwait +\d+ +\d+ +[+-]\d+\.\d%/m);
  assert.match(r.stdout, /guest instructions: average overhead/);
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as UsertestsReport;
  assert.deepEqual(results.instructions.rows.map((row) => row.name), ['printf', 'getpid', 'forkwait']);
  assert.ok(results.guest.mirroring!.peakMirroredPages > 0, 'the translated run had no mirror pages');
  // Off mode runs as `memvisor run --mirror off` does: no counting at CR3 loads.
  assert.equal(results.off.mirroring, null);
  // The system column: the same programs on the translated kernel, costing more than guest mode.
  assert.match(r.stdout, /^system mode \(kernel translated too\), guest instructions: average overhead/m);
  assert.deepEqual(results.systemInstructions.rows.map((row) => row.name), ['printf', 'getpid', 'forkwait']);
  assert.ok(results.system.mirroring!.peakMirroredPages > 0, 'the system-mode run had no mirror pages');
  assert.ok(results.system.instructions > results.guest.instructions, 'system mode ran fewer instructions than guest mode');
  assert.match(readFileSync(join(out, 'overhead.svg'), 'utf8'), /^<svg/);
  const bad = spawnSync(process.execPath, [join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'bench', 'usertests', '--tests', 'nosuchtest'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--tests: no usertests sub-test named "nosuchtest"/);
});

test('bench usertests --qemu: memvisor\'s runs and QEMU\'s alternate round by round, each mode in a process of its own, and each round\'s ratio is printed', () => {
  requireQemuSystem();
  const out = scratch('bench-usertests-qemu');
  // --cold: memvisor's processes leave the block cache (which the test above filled) alone.
  const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'bench', 'usertests', '--qemu', '--cold', '--runs', '2', '--tests', 'printf,getpid', '--out', out],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000, env: benchEnv });
  assert.equal(r.status, 0, r.stderr);
  // On a shared machine whose speed drifts, a ratio is fair only between runs of the same minutes.
  const order = r.stderr.split('\n').map((line) => /^(memvisor --mirror off|qemu-system-i386) run (\d)\/2/.exec(line)).filter((m) => m !== null)
    .map((m) => `${m[1]} ${m[2]}`);
  assert.deepEqual(order, ['memvisor --mirror off 1', 'qemu-system-i386 1', 'memvisor --mirror off 2', 'qemu-system-i386 2']);
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as UsertestsReport;
  const ours = results.off.runWallSeconds!, theirs = results.qemu!.offRuns;
  assert.equal(ours.length, 2);
  assert.equal(theirs.length, 2);
  assert.equal(ours[0], results.off.wallSeconds, 'the first run is not the one reported as the first');
  // Each mode in a process of its own, kept for its later rounds: every mode's first run is a
  // new process's, and its later runs reuse only the blocks of its own mode.
  const modes = ['off', 'guest', 'system', 'hardware'] as const;
  for (const mode of modes) assert.deepEqual(results[mode].runPids, [results[mode].pid, results[mode].pid], `--mirror ${mode}: its two runs were not in one process`);
  assert.equal(new Set(modes.map((mode) => results[mode].pid)).size, modes.length, 'two modes ran in one process');
  const expected = ours.map((s, k) => `${(s / theirs[k]!).toFixed(2)}x`).join(' ');
  assert.match(r.stdout, new RegExp(`^round by round \\(each QEMU run right after memvisor's\\): off ${expected}, guest \\d+\\.\\d\\dx \\d+\\.\\d\\dx$`, 'm'));
  // The wall-time target, judged on the first run and on the median against QEMU's median.
  const met = (s: number) => (s / results.qemu!.offSeconds <= WALL_TARGET ? 'met' : 'NOT met');
  assert.match(r.stdout, new RegExp(`^  target: --mirror off in <= ${WALL_TARGET}x QEMU's wall time: ${met(ours[0]!)} in the first run ` +
    `\\(no blocks from disk: a cold start\\), ${met(results.off.medianWallSeconds!)} in the median$`, 'm'));
  assert.ok(results.off.blocksCompiled > 0);
  assert.equal(results.off.blocksFromDisk, 0, '--cold took blocks from the disk cache');
});

test('bench usertests on a terminal: the bar counts every engine\'s sub-tests to its end, the log lines printed above it', () => {
  requireQemuSystem();
  const out = scratch('bench-usertests-tty');
  // script(1) gives the command a terminal, as a user's shell does.
  const command = [process.execPath, join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'bench', 'usertests', '--qemu', '--tests', 'printf', '--out', out]
    .map((a) => `'${a}'`).join(' ');
  const r = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  // One sub-test on memvisor's four modes and QEMU's two disks: six steps, the last one shown.
  assert.match(r.stdout, /usertests \S+ 6\/6 sub-tests \| qemu-system-i386, translated printf/);
  assert.doesNotMatch(r.stdout, /\b([7-9]|\d\d)\/6 sub-tests/, 'the bar counted past its end');
  for (const line of ['memvisor --mirror off run 1/1', 'memvisor --mirror hardware run 1/1', 'qemu-system-i386 run 1/1']) {
    assert.ok(r.stdout.includes(line), `"${line}" is missing from what the terminal shows`);
  }
});

/** The processes below `pid`, with their command lines. */
function descendants(pid: number): Array<{ pid: number; command: string }> {
  const ps = spawnSync('ps', ['-e', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' }).stdout.trim().split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line)!).map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), command: m[3]! }));
  const found: Array<{ pid: number; command: string }> = [];
  const walk = (parent: number) => {
    for (const p of ps.filter((q) => q.ppid === parent)) {
      found.push(p);
      walk(p.pid);
    }
  };
  walk(pid);
  return found;
}

test('bench usertests: a mode\'s process ended from outside is one line and a non-zero exit, and nothing is written', async () => {
  const out = join(scratch('bench-usertests-killed'), 'results');
  const child = spawn(process.execPath, [join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'bench', 'usertests', '--tests', 'printf,getpid', '--runs', '2', '--out', out],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let killed = '';
  const ended = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
    // Once the off mode's first run is in, its process waits for round two: end it as the
    // kernel's out-of-memory killer would.
    if (killed === '' && /--mirror off run 1\/2/.test(stderr)) {
      const mode = descendants(child.pid!).find((p) => p.command.includes('usertests-mode.js'));
      assert.ok(mode, 'no process of its own for the off mode');
      killed = String(mode.pid);
      process.kill(mode.pid, 'SIGKILL');
    }
  });
  child.stdout.resume();
  const code = await ended;
  assert.ok(killed !== '', `the off mode never finished its first run:\n${stderr}`);
  assert.equal(code, 2, stderr);
  assert.match(stderr, /^memvisor: the process running usertests with --mirror off was ended by SIGKILL$/m);
  assert.doesNotMatch(stderr, /^\s+at /m, 'a stack trace');
  assert.ok(!existsSync(join(out, 'results.json')), 'results.json was written');
  assert.deepEqual(descendants(child.pid!), [], 'processes were left running');
});
