/**
 * `memvisor campaign report`: merges the shards of one campaign and says, per arm (mirror
 * mode × fault): how many runs ended in each outcome class, the fraction of activated
 * faults recovered transparently with its 95 % Wilson interval, the rate of silent data
 * corruption with its upper bound (the rule of three when none was seen), and how fast
 * the runs went. Writes report.json, report.svg (Vega-Lite) and a self-contained
 * report.html.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { renderChart } from '../charts.js';
import { MemvisorError } from '../errors.js';
import { INPUT, readInputText } from '../input-file.js';
import { OUTCOMES_WORST_FIRST, wilsonInterval, type Outcome } from '../faults/index.js';
import type { RunRecord } from './experiment.js';
import { runCount, type CampaignPlan, readPlan } from './plan.js';
import { PLAN_FILE, readRecords } from './runner.js';

export interface ArmReport {
  arm: number;
  label: string;
  mode: string;
  fault: string;
  recovery: string;
  scrubEvery: number;
  runs: number;
  /** Runs the host could not finish (exception, wall-clock limit): not in any class. */
  hostFailures: number;
  counts: Record<Outcome, number>;
  /** Runs in which the guest read data a fault had destroyed. */
  activated: number;
  transparent: { count: number; fraction: number; low: number; high: number };
  sdc: { count: number; rate: number; upper: number };
  meanWallMs: number;
}

export interface CampaignReport {
  campaign: string;
  workload: string;
  plannedRuns: number;
  presentRuns: number;
  arms: ArmReport[];
  throughput: { runs: number; wallSeconds: number; runsPerMinute: number; threads: number; shards: number };
  generated: string;
}

/** A campaign's results from one or more directories (shards, possibly from different machines). */
type RunsMeta = { runs: number; wallSeconds: number; threads: number };

/** One line of a results file's .meta companion (runs, wall time and threads of one `campaign run`). */
function parseMeta(path: string, line: string): RunsMeta {
  try {
    const m = JSON.parse(line) as RunsMeta;
    if (typeof m === 'object' && m !== null && Number.isFinite(m.runs) && Number.isFinite(m.wallSeconds) && Number.isFinite(m.threads)) return m;
  } catch { /* described below */ }
  throw new MemvisorError(`${path}: not a campaign results .meta file (a line is not {runs, wallSeconds, threads})`);
}

export function loadResults(dirs: string[]): { plan: CampaignPlan; records: RunRecord[]; meta: Array<{ runs: number; wallSeconds: number; threads: number }> } {
  if (dirs.length === 0) throw new MemvisorError('campaign report: name at least one results directory');
  let plan: CampaignPlan | null = null;
  const byIndex = new Map<number, RunRecord>();
  const meta: Array<{ runs: number; wallSeconds: number; threads: number }> = [];
  for (const dir of dirs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new MemvisorError(`${dir}: not a directory of campaign results`);
    const planPath = join(dir, PLAN_FILE);
    if (!existsSync(planPath)) throw new MemvisorError(`${dir}: no ${PLAN_FILE} (not the --out directory of a campaign run)`);
    const p = readPlan(planPath);
    if (plan && p.id !== plan.id) throw new MemvisorError(`${dir}: results of campaign ${p.id}, but ${dirs[0]} holds campaign ${plan.id}`);
    if (!plan || runCount(p) > runCount(plan)) plan = p;  // a campaign grown since: the largest plan
    for (const name of readdirSync(dir).sort()) {
      if (/^runs-\d+-of-\d+\.jsonl$/.test(name)) {
        for (const r of readRecords(join(dir, name), p.id)) {
          const known = byIndex.get(r.index);
          if (known && (known.outcome !== r.outcome || known.status !== r.status || known.instructions !== r.instructions)) {
            throw new MemvisorError(`${join(dir, name)}: run ${r.index} has another result than in an earlier file (${known.outcome ?? known.status} vs ${r.outcome ?? r.status})`);
          }
          byIndex.set(r.index, r);
        }
      } else if (/^runs-\d+-of-\d+\.jsonl\.meta$/.test(name)) {
        for (const line of readInputText(join(dir, name), INPUT.campaignResults).split('\n')) if (line) meta.push(parseMeta(join(dir, name), line));
      }
    }
  }
  const records = [...byIndex.values()].sort((a, b) => a.index - b.index);
  return { plan: plan!, records, meta };
}

export function makeReport(plan: CampaignPlan, records: RunRecord[], meta: Array<{ runs: number; wallSeconds: number; threads: number }>): CampaignReport {
  const arms = plan.arms.map((arm, armIndex): ArmReport => {
    const mine = records.filter((r) => r.arm === armIndex);
    const ok = mine.filter((r) => r.status === 'ok' && r.outcome !== null);
    const counts = Object.fromEntries(OUTCOMES_WORST_FIRST.map((o) => [o, 0])) as Record<Outcome, number>;
    for (const r of ok) counts[r.outcome!]++;
    const activated = ok.filter((r) => r.activated > 0).length;
    const transparent = ok.filter((r) => r.activated > 0 && r.outcome === 'recovered-transparent').length;
    const interval = wilsonInterval(transparent, activated);
    const sdc = counts.sdc;
    const label = `${arm.mode} · ${arm.fault}${arm.recovery === 'guest' ? ' · guest recovery' : ''}${arm.scrubEvery ? ` · scrub ${arm.scrubEvery}` : ''}`;
    return {
      arm: armIndex, label, mode: arm.mode, fault: arm.fault, recovery: arm.recovery, scrubEvery: arm.scrubEvery,
      runs: mine.length, hostFailures: mine.length - ok.length, counts, activated,
      transparent: { count: transparent, fraction: activated ? transparent / activated : 0, low: interval.low, high: interval.high },
      sdc: { count: sdc, rate: ok.length ? sdc / ok.length : 0, upper: ok.length === 0 ? 1 : sdc === 0 ? 3 / ok.length : wilsonInterval(sdc, ok.length).high },
      meanWallMs: mine.length ? mine.reduce((s, r) => s + r.wallMs, 0) / mine.length : 0,
    };
  });
  const runs = meta.reduce((s, m) => s + m.runs, 0), wallSeconds = meta.reduce((s, m) => s + m.wallSeconds, 0);
  return {
    campaign: plan.id, workload: plan.workload.name, plannedRuns: runCount(plan), presentRuns: records.length, arms,
    throughput: { runs, wallSeconds, runsPerMinute: wallSeconds ? (runs / wallSeconds) * 60 : 0, threads: Math.max(0, ...meta.map((m) => m.threads)), shards: meta.length },
    generated: new Date().toISOString(),
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function formatReport(r: CampaignReport): string {
  const lines = [`campaign ${r.campaign} (workload ${r.workload}): ${r.presentRuns} of ${r.plannedRuns} runs`];
  if (r.presentRuns < r.plannedRuns) lines.push(`  incomplete: ${r.plannedRuns - r.presentRuns} runs missing (run the missing shards, or resume)`);
  for (const a of r.arms) {
    lines.push('', `${a.label}: ${a.runs} runs${a.hostFailures ? `, ${a.hostFailures} the host could not finish` : ''}`);
    lines.push(`  ${OUTCOMES_WORST_FIRST.filter((o) => a.counts[o]).map((o) => `${o} ${a.counts[o]}`).join(', ') || 'no runs'}`);
    lines.push(`  activated ${a.activated}; recovered transparently ${a.transparent.count} = ${pct(a.transparent.fraction)} (95% Wilson ${pct(a.transparent.low)}–${pct(a.transparent.high)})`);
    lines.push(`  silent data corruption ${a.sdc.count} of ${a.runs - a.hostFailures} (${pct(a.sdc.rate)}; 95% upper bound ${pct(a.sdc.upper)}${a.sdc.count === 0 ? ', rule of three' : ''})`);
  }
  const t = r.throughput;
  if (t.wallSeconds) lines.push('', `throughput: ${t.runs} runs in ${t.wallSeconds.toFixed(0)} s of shard time (${t.shards} shard runs, up to ${t.threads} threads): ${t.runsPerMinute.toFixed(1)} runs per minute`);
  return lines.join('\n');
}

export function chartSpec(r: CampaignReport): Record<string, unknown> {
  const values = r.arms.flatMap((a) => OUTCOMES_WORST_FIRST.filter((o) => a.counts[o]).map((o) => ({
    arm: a.label, outcome: o, runs: a.counts[o], order: OUTCOMES_WORST_FIRST.indexOf(o),
  })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Fault-injection outcomes per arm (campaign ${r.campaign}, ${r.presentRuns} runs)`,
    width: 560,
    height: { step: 28 },
    data: { values },
    mark: 'bar',
    encoding: {
      y: { field: 'arm', type: 'nominal', title: null, sort: null },
      x: { aggregate: 'sum', field: 'runs', type: 'quantitative', stack: 'normalize', title: 'share of runs', axis: { format: '%' } },
      color: { field: 'outcome', type: 'nominal', sort: [...OUTCOMES_WORST_FIRST], scale: { domain: [...OUTCOMES_WORST_FIRST],
        range: ['#b2182b', '#d6604d', '#f4a582', '#fddbc7', '#e0e0e0', '#bababa', '#92c5de', '#2166ac', '#4393c3', '#d1e5f0'] } },
      order: { field: 'order', type: 'quantitative' },
    },
  };
}

const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function htmlReport(r: CampaignReport, svg: string): string {
  const rows = r.arms.map((a) => `<tr><td>${escapeHtml(a.label)}</td><td>${a.runs}</td>${OUTCOMES_WORST_FIRST.map((o) => `<td>${a.counts[o]}</td>`).join('')}` +
    `<td>${a.activated}</td><td>${pct(a.transparent.fraction)} (${pct(a.transparent.low)}–${pct(a.transparent.high)})</td><td>${a.sdc.count} (≤ ${pct(a.sdc.upper)})</td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>memvisor campaign ${r.campaign}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:right}td:first-child{text-align:left}</style></head>
<body><h1>Campaign ${r.campaign}</h1>
<p>Workload <b>${escapeHtml(r.workload)}</b>: ${r.presentRuns} of ${r.plannedRuns} runs. Generated ${r.generated}.</p>
${svg}
<table><thead><tr><th>arm</th><th>runs</th>${OUTCOMES_WORST_FIRST.map((o) => `<th>${o}</th>`).join('')}<th>activated</th><th>recovered transparently (95% Wilson)</th><th>SDC (95% upper bound)</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<pre>${escapeHtml(formatReport(r))}</pre>
</body></html>
`;
}

export async function renderReport(r: CampaignReport): Promise<{ svg: string; html: string }> {
  const svg = await renderChart(chartSpec(r));
  return { svg, html: htmlReport(r, svg) };
}
