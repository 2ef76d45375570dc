/**
 * A campaign on a real Slurm cluster: Debian's slurm-wlm and munge (installed by npm test, test/support/oracles.ts),
 * a one-node cluster started on this machine with its own configuration and ports, the
 * campaign submitted as a job array (`sbatch --array`, deploy/slurm/campaign.sbatch), and
 * the merged result compared with the same campaign run locally: same seeds, same records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { hostname, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { repoRoot, scratch } from '../support/build.js';

const dir = scratch('slurm');
const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const INSTALL = 'apt-get install -y slurm-wlm munge';

function have(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function requireSlurm(): void {
  const missing = ['slurmctld', 'slurmd', 'sbatch', 'sinfo', 'munged', 'munge'].filter((c) => !have(c));
  assert.deepEqual(missing, [], `Slurm is not installed (${missing.join(', ')} missing): run \`${INSTALL}\``);
  assert.equal(process.getuid?.(), 0, 'the Slurm test starts a cluster and must run as root');
}

/** munged running (Debian's key from the package), as its own user. */
function startMunge(): void {
  if (spawnSync('sh', ['-c', 'munge -n | unmunge'], { stdio: 'ignore' }).status === 0) return;
  execFileSync('sh', ['-c', 'mkdir -p /run/munge && chown munge:munge /run/munge && runuser -u munge -- /usr/sbin/munged']);
  for (let i = 0; i < 50; i++) {
    if (spawnSync('sh', ['-c', 'munge -n | unmunge'], { stdio: 'ignore' }).status === 0) return;
    execFileSync('sleep', ['0.1']);
  }
  assert.fail('munged did not start');
}

interface Cluster { env: NodeJS.ProcessEnv; stop(): void; log(): string }

/** A one-node cluster with its own state, log and ports (nothing of the machine's Slurm set-up is touched). */
function startCluster(): Cluster {
  const home = join(dir, 'cluster');
  for (const d of ['state', 'spool', 'log']) mkdirSync(join(home, d), { recursive: true });
  const port = 20000 + (process.pid % 20000);
  const node = hostname();
  const conf = join(home, 'slurm.conf');
  writeFileSync(conf, [
    'ClusterName=memvisor-test', `SlurmctldHost=${node}`, 'SlurmUser=root', 'AuthType=auth/munge',
    'ProctrackType=proctrack/linuxproc', 'TaskPlugin=task/none', 'SelectType=select/cons_tres', 'SelectTypeParameters=CR_CPU',
    'MpiDefault=none', 'ReturnToService=2', 'JobAcctGatherType=jobacct_gather/none', 'AccountingStorageType=accounting_storage/none',
    `StateSaveLocation=${home}/state`, `SlurmdSpoolDir=${home}/spool`,
    `SlurmctldPidFile=${home}/slurmctld.pid`, `SlurmdPidFile=${home}/slurmd.pid`,
    `SlurmctldLogFile=${home}/log/slurmctld.log`, `SlurmdLogFile=${home}/log/slurmd.log`,
    `SlurmctldPort=${port}`, `SlurmdPort=${port + 1}`,
    `NodeName=${node} CPUs=${availableParallelism()} State=UNKNOWN`,
    'PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP', '',
  ].join('\n'));
  const env = { ...process.env, SLURM_CONF: conf };
  execFileSync('slurmctld', ['-f', conf], { env });
  execFileSync('slurmd', ['-f', conf], { env });
  // Each daemon is asked to end and waited for (up to 10 s): slurmctld saves its state on
  // the way out, and the scratch directory removed under it failed with ENOTEMPTY.
  const stop = () => {
    for (const pid of ['slurmd.pid', 'slurmctld.pid']) {
      const file = join(home, pid);
      if (!existsSync(file)) continue;
      const id = readFileSync(file, 'utf8').trim();
      spawnSync('kill', [id]);
      for (let i = 0; i < 100 && spawnSync('kill', ['-0', id], { stdio: 'ignore' }).status === 0; i++) execFileSync('sleep', ['0.1']);
    }
  };
  for (let i = 0; i < 100; i++) {
    const r = spawnSync('sinfo', ['-h', '-o', '%t'], { env, encoding: 'utf8' });
    if (r.status === 0 && /idle/.test(r.stdout)) return { env, stop, log: () => readFileSync(join(home, 'log', 'slurmctld.log'), 'utf8').slice(-2000) };
    execFileSync('sleep', ['0.2']);
  }
  stop();
  assert.fail('the Slurm node did not come up');
}

const records = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean)
  .map((l) => JSON.parse(l) as { index: number; outcome: string | null; status: string; instructions: number; fault: string; activated: number })
  .map((r) => ({ index: r.index, outcome: r.outcome, status: r.status, instructions: r.instructions, fault: r.fault, activated: r.activated }));

test('slurm: a campaign submitted as a job array on a one-node cluster merges to the same records as a local run', (t) => {
  requireSlurm();
  startMunge();
  const plan = join(dir, 'campaign.json');
  let r = spawnSync(process.execPath, [cli, 'campaign', 'plan', '-o', plan, '--mode', 'guest,off', '--runs', '3', '--seed', '11',
    '--send', 'forktest; echo workload-done\\n', '--until', '^workload-done'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const cluster = startCluster();
  try {
    const results = join(dir, 'cluster-results');
    r = spawnSync('sbatch', ['--array=0-2', '--wait', '--chdir', repoRoot, '--output', join(dir, 'shard-%a.out'),
      join(repoRoot, 'deploy', 'slurm', 'campaign.sbatch'), plan, results], { env: cluster.env, encoding: 'utf8', timeout: 1_200_000 });
    const outputs = [0, 1, 2].map((i) => { const f = join(dir, `shard-${i}.out`); return existsSync(f) ? readFileSync(f, 'utf8') : '(no output)'; }).join('\n');
    assert.equal(r.status, 0, `sbatch: ${r.stdout}${r.stderr}\n${outputs}\n${cluster.log()}`);
    const merged = join(dir, 'cluster.jsonl');
    r = spawnSync(process.execPath, [cli, 'campaign', 'merge', results, '-o', merged], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const local = join(dir, 'local-results');
    r = spawnSync(process.execPath, [cli, 'campaign', 'run', plan, '--out', local, '--threads', '2'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const fromCluster = records(merged);
    assert.equal(fromCluster.length, 6, outputs);
    assert.deepEqual(fromCluster, records(join(local, 'runs-0-of-1.jsonl')).sort((a, b) => a.index - b.index));
    for (const shard of [0, 1, 2]) assert.ok(existsSync(join(results, `runs-${shard}-of-3.jsonl`)), `shard ${shard} wrote no results`);
    t.diagnostic(`3 array tasks; outcomes ${fromCluster.map((x) => x.outcome).join(', ')}`);
  } finally {
    cluster.stop();
  }
});
