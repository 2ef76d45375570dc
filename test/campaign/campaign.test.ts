/**
 * Campaigns end to end on a small workload: plan → run (worker threads) → report; shards
 * give the same records as one local run; a campaign killed mid-run resumes with no run
 * lost or duplicated; any record's printed command replays its outcome; bad input is one
 * line and exit 2 with nothing written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, scratch } from '../support/build.js';

const dir = scratch('campaign');
const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

function memvisor(args: string[], cwd = repoRoot): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 900_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface RunRecord {
  index: number; arm: number; status: string; outcome: string | null; activated: number; instructions: number; command: string; fault: string; wallMs: number;
}

const records = (path: string): RunRecord[] => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunRecord);
/** What must be equal wherever a run ran (host time and the golden file's path left out). */
const essence = (r: RunRecord) => ({ index: r.index, arm: r.arm, status: r.status, outcome: r.outcome, activated: r.activated, instructions: r.instructions, fault: r.fault });

/** A short workload with processes, pipes and files; three arms. */
function plan(name: string, runs: number, extra: string[] = []): string {
  const file = join(dir, `${name}.json`);
  const r = memvisor(['campaign', 'plan', '-o', file, '--mode', 'guest,off', '--fault', 'poison:target=user-native', '--fault', 'poison:target=both',
    '--runs', String(runs), '--seed', '7', '--send', 'forktest; echo a b c | wc; echo workload-done\\n', '--until', '^workload-done', '--name', 'fork+pipe', ...extra]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /4 arm\(s\) × \d+ runs/);
  return file;
}

test('campaign: plan, run on worker threads, report; two shards give the records of one local run', async (t) => {
  const file = plan('small', 3);
  const local = join(dir, 'small-local');
  let r = memvisor(['campaign', 'run', file, '--out', local, '--threads', '2']);
  assert.equal(r.status, 0, r.stderr);
  const all = records(join(local, 'runs-0-of-1.jsonl'));
  assert.equal(all.length, 12);
  assert.deepEqual(all.map((x) => x.index).sort((a, b) => a - b), [...Array(12).keys()]);
  assert.ok(all.every((x) => x.status === 'ok'), JSON.stringify(all.filter((x) => x.status !== 'ok')));
  for (const name of ['campaign.json', 'golden-guest.json', 'golden-off.json']) assert.ok(existsSync(join(local, name)), name);

  // The same campaign as two shards in two directories (as two cluster nodes would).
  for (const shard of ['0/2', '1/2']) {
    r = memvisor(['campaign', 'run', file, '--out', join(dir, `small-shard-${shard[0]}`), '--shard', shard, '--threads', '1']);
    assert.equal(r.status, 0, r.stderr);
  }
  const merged = join(dir, 'small-merged.jsonl');
  r = memvisor(['campaign', 'merge', join(dir, 'small-shard-0'), join(dir, 'small-shard-1'), '-o', merged]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(records(merged).map(essence), all.sort((a, b) => a.index - b.index).map(essence));

  r = memvisor(['campaign', 'report', join(dir, 'small-shard-0'), join(dir, 'small-shard-1'), '--out', join(dir, 'small-report')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /12 of 12 runs/);
  assert.match(r.stdout, /guest · poison:target=user-native: 3 runs/);
  assert.match(r.stdout, /95% Wilson/);
  const report = JSON.parse(readFileSync(join(dir, 'small-report', 'report.json'), 'utf8')) as { arms: Array<{ runs: number; counts: Record<string, number> }> };
  assert.equal(report.arms.length, 4);
  assert.deepEqual(report.arms.map((a) => a.runs), [3, 3, 3, 3]);
  assert.match(readFileSync(join(dir, 'small-report', 'report.svg'), 'utf8'), /^<svg/);
  assert.match(readFileSync(join(dir, 'small-report', 'report.html'), 'utf8'), /<svg[\s\S]*<table>/);
  t.diagnostic(all.map((x) => `${x.index}:${x.outcome}`).join(' '));

  // Planned again with more runs, it is the same campaign, grown: the runs already made are kept.
  const madeBefore = readFileSync(join(local, 'runs-0-of-1.jsonl'), 'utf8');
  const grown = plan('small-grown', 4);
  assert.equal((JSON.parse(readFileSync(grown, 'utf8')) as { id: string }).id, (JSON.parse(readFileSync(file, 'utf8')) as { id: string }).id);
  r = memvisor(['campaign', 'run', grown, '--out', local, '--threads', '2']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /resuming: 12 runs/);
  const more = records(join(local, 'runs-0-of-1.jsonl'));
  assert.deepEqual(more.map((x) => x.index).sort((a, b) => a - b), [...Array(16).keys()]);
  assert.ok(readFileSync(join(local, 'runs-0-of-1.jsonl'), 'utf8').startsWith(madeBefore), 'the runs made before are kept as they were');
  r = memvisor(['campaign', 'report', local, '--out', join(dir, 'small-grown-report')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /16 of 16 runs/);
});

test('campaign: a run killed mid-way resumes with no record lost or duplicated, and a half-written line repaired', async () => {
  const file = plan('resume', 4);
  const out = join(dir, 'resume-out');
  const results = join(out, 'runs-0-of-1.jsonl');
  // Start it, and kill it (no clean-up at all) once two runs are recorded.
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'campaign', 'run', file, '--out', out, '--threads', '2'], { stdio: 'ignore' });
    const timer = setInterval(() => {
      if (existsSync(results) && records(results).length >= 2) {
        clearInterval(timer);
        child.kill('SIGKILL');
      }
    }, 100);
    child.on('exit', () => { clearInterval(timer); resolve(); });
    child.on('error', reject);
  });
  const before = records(results);
  assert.ok(before.length >= 2 && before.length < 16, `${before.length} records before the kill`);
  appendFileSync(results, '{"campaign":"half-writ');  // as if killed in the middle of a write
  const r = memvisor(['campaign', 'run', file, '--out', out, '--threads', '2']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`resuming: ${before.length} runs`));
  const after = records(results);
  assert.deepEqual(after.map((x) => x.index).sort((a, b) => a - b), [...Array(16).keys()], 'every run exactly once');
  assert.deepEqual(after.slice(0, before.length), before, 'the records written before the kill are kept as they were');
});

/**
 * Rounds of MemV6's `spin` (under guest mirroring, as the campaign below runs it) that
 * take about `seconds` of host time on this machine as it is now: two runs timed and the
 * difference taken, so booting and warming up are left out. A fixed count stopped
 * working each time the CPU got faster (20,000 rounds once took 10 s; 60,000 later took
 * less). At most 200,000 rounds (33 billion instructions): the fault-free run must end
 * inside its limit of 40 billion cycles.
 */
function spinRoundsFor(seconds: number): number {
  const timed = (rounds: number) => {
    const started = performance.now();
    const r = memvisor(['run', '--mirror', 'guest', '--send', `spin ${rounds}\\n`, '--until', '^spin: done']);
    assert.equal(r.status, 0, r.stderr);
    return (performance.now() - started) / 1000;
  };
  const perRound = Math.max(timed(20_000) - timed(5_000), 0.1) / 15_000;
  return Math.min(Math.ceil(seconds / perRound), 200_000);
}

test('campaign: a run past the wall-clock limit is recorded as a host timeout, and the campaign goes on', () => {
  // The workload takes 2.5 times the limit of host time: the golden run finishes, the
  // runs are stopped at the limit.
  const LIMIT = 3;
  const rounds = spinRoundsFor(2.5 * LIMIT);
  const file = join(dir, 'slow.json');
  let r = memvisor(['campaign', 'plan', '-o', file, '--mode', 'guest', '--runs', '2', '--send', `spin ${rounds}\\n`, '--until', '^spin: done', '--wall-limit', String(LIMIT)]);
  assert.equal(r.status, 0, r.stderr);
  r = memvisor(['campaign', 'run', file, '--out', join(dir, 'slow-out'), '--threads', '2']);
  assert.equal(r.status, 0, r.stderr);
  const all = records(join(dir, 'slow-out', 'runs-0-of-1.jsonl'));
  assert.deepEqual(all.map((x) => [x.status, x.outcome]), [['host-timeout', null], ['host-timeout', null]], `spin ${rounds}`);
  assert.ok(all.every((x) => /memvisor run .*--inject/.test(x.command)), 'a host failure still says how to replay the run');
  // The limit counts from when a run starts, not from when it was queued: quick runs on one
  // thread that take longer than the limit together, and none of them times out. 60 take
  // about 1.8 times the limit on the development VM; on a faster machine, as many more as
  // take twice the limit at the rate just seen.
  const queued = (runs: number, out: string) => {
    const file = join(dir, 'queued.json');
    let q = memvisor(['campaign', 'plan', '-o', file, '--mode', 'guest', '--runs', String(runs), '--wall-limit', String(LIMIT)]);
    assert.equal(q.status, 0, q.stderr);
    q = memvisor(['campaign', 'run', file, '--out', out, '--threads', '1']);
    assert.equal(q.status, 0, q.stderr);
    const quick = records(join(out, 'runs-0-of-1.jsonl'));
    assert.equal(quick.length, runs);
    // The runs' own time, one after the other (start-up and the golden run left out).
    return { quick, seconds: quick.reduce((sum, x) => sum + x.wallMs, 0) / 1000 };
  };
  let { quick, seconds } = queued(60, join(dir, 'queued-out'));
  if (seconds < 1.5 * LIMIT) ({ quick, seconds } = queued(Math.min(Math.ceil((60 * 2 * LIMIT) / seconds), 2000), join(dir, 'queued-more')));
  assert.ok(seconds > LIMIT, `the runs were too quick to show anything (${quick.length} in ${seconds.toFixed(1)} s)`);
  assert.deepEqual(quick.filter((x) => x.status !== 'ok').map((x) => x.index), []);
});

test('campaign: each record\'s printed command replays its outcome (a sample of each class)', async (t) => {
  const out = join(dir, 'small-local');
  const all = records(join(out, 'runs-0-of-1.jsonl'));
  const byClass = new Map<string, RunRecord>();
  for (const x of all) if (x.outcome && !byClass.has(x.outcome)) byClass.set(x.outcome, x);
  assert.ok(byClass.size >= 2, `only ${[...byClass.keys()].join(', ')}`);
  for (const [outcome, x] of byClass) {
    const stats = join(dir, `replay-${x.index}.json`);
    const args = x.command.match(/'(?:[^']|'\\'')*'|\S+/g)!.map((a) => a.startsWith("'") ? a.slice(1, -1).replace(/'\\''/g, "'") : a);
    assert.deepEqual(args.slice(0, 3), ['npx', 'memvisor', 'run']);
    const r = memvisor([...args.slice(2), '--stats', stats]);
    assert.ok(existsSync(stats), `run ${x.index}: ${r.stderr}`);
    const s = JSON.parse(readFileSync(stats, 'utf8')) as { faultOutcome: string; instructions: number };
    assert.equal(s.faultOutcome, outcome, `run ${x.index} replayed as ${s.faultOutcome}:\n${x.command}\n${r.stderr}`);
    assert.match(r.stderr, new RegExp(`outcome: ${outcome}`));
  }
  t.diagnostic(`replayed: ${[...byClass.keys()].join(', ')}`);
});

test('campaign: bad input is one line and exit 2, and nothing is written', () => {
  const good = plan('good', 1);
  const text = readFileSync(good, 'utf8');
  const bad = (name: string, content: string) => { const f = join(dir, name); writeFileSync(f, content); return f; };
  const cases: Array<[string[], RegExp]> = [
    [['campaign', 'plan', '-o', join(dir, 'x.json'), '--mode', 'turbo'], /--mode turbo: expected off, guest, system, hardware/],
    [['campaign', 'plan', '-o', join(dir, 'x.json'), '--fault', 'melt'], /unknown fault kind 'melt'/],
    [['campaign', 'plan', '-o', join(dir, 'x.json'), '--fault', 'poison:seed=4'], /'seed=' is set by the campaign/],
    [['campaign', 'run', bad('notjson.json', '{oops')], /notjson\.json: not a campaign file \(not JSON\)/],
    [['campaign', 'run', bad('other.json', '{"format":"something"}')], /other\.json: not a memvisor campaign file/],
    [['campaign', 'run', bad('edited.json', text.replace('"seed": 7', '"seed": 8'))], /edited\.json: the campaign id does not match its content/],
    [['campaign', 'run', bad('badmode.json', text.replace(/"mode": "off"/, '"mode": "warp"'))], /badmode\.json: unknown mode 'warp'/],
    [['campaign', 'run', good, '--shard', '3/2'], /--shard 3\/2: I must be below N/],
    [['campaign', 'run', good, '--shard', 'a/b'], /--shard a\/b: expected I\/N/],
    [['campaign', 'run', join(dir, 'missing.json')], /missing\.json: cannot read the campaign file \(ENOENT\)/],
    [['campaign', 'report', join(dir, 'small-local'), join(dir, 'queued-out')], /queued-out: results of campaign [0-9a-f]+, but .* holds campaign [0-9a-f]+/],
    [['campaign', 'report', join(dir, 'nowhere')], /nowhere: not a directory of campaign results/],
  ];
  for (const [args, pattern] of cases) {
    const before = readdirSync(dir).length;
    const r = memvisor(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(readdirSync(dir).length, before, `${args.join(' ')} wrote something`);
  }
});

test('campaign: a system-mode arm (the translated kernel) with kernel and page-table faults: every run completes and none ends worse than recovered transparently', async (t) => {
  const file = join(dir, 'system.json');
  let r = memvisor(['campaign', 'plan', '-o', file, '--mode', 'system', '--fault', 'poison:target=kernel,count=20', '--fault', 'poison:target=page-table,count=5',
    '--runs', '2', '--seed', '11', '--send', 'forktest; echo a b c | wc; echo workload-done\\n', '--until', '^workload-done', '--name', 'system']);
  assert.equal(r.status, 0, r.stderr);
  const out = join(dir, 'system-run');
  r = memvisor(['campaign', 'run', file, '--out', out, '--threads', '2']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(join(out, 'golden-system.json')));
  const all = records(join(out, 'runs-0-of-1.jsonl'));
  assert.equal(all.length, 4);
  const good = new Set(['recovered-transparent', 'masked', 'not-activated']);
  for (const x of all) {
    assert.equal(x.status, 'ok', JSON.stringify(x));
    assert.ok(good.has(x.outcome!), `run ${x.index} ended ${x.outcome}: ${x.command}`);
  }
  assert.ok(all.some((x) => x.outcome === 'recovered-transparent'), JSON.stringify(all.map((x) => x.outcome)));
  t.diagnostic(all.map((x) => `${x.fault}: ${x.outcome} (${x.activated} activated)`).join('; '));
});
