/**
 * `memvisor bench web`: the web page's speed in a real browser. Each run opens the page
 * afresh (a new browser context: a new worker, nothing compiled yet) with a plan in its
 * address (`#mode=…&send=usertests&until=…`) and its "as fast as possible" box ticked,
 * and times page load to the shell prompt and the prompt to the plan's end. The same
 * plan then runs in this Node process, on the same images, as its first run: the two
 * must end on the same instruction, and the ratio says what the browser costs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { MemvisorError } from '../errors.js';
import type { MirrorMode } from '../vmm/index.js';
import { planToHash, type RunPlan } from '../web/run-plan.js';
import { planImages, planMonitor } from '../web/plan-monitor.js';
import { median } from './mips.js';

export interface WebBenchOptions {
  mode: MirrorMode;
  /** A usertests command line, typed at the prompt (the run ends when it prints ALL TESTS PASSED). */
  command: string;
  runs: number;
  chromium: string;
  /** A page served elsewhere (e.g. another build's `memvisor web`); default: this build's, served here. */
  url?: string;
  /** The web root this build serves and the Node run reads its images from. */
  webRoot: string;
  log?: (line: string) => void;
}

export interface WebBenchReport {
  mode: MirrorMode;
  command: string;
  url: string;
  /** Guest instructions at the plan's end (the same on every run and in Node). */
  instructions: number;
  /** Page load to the shell prompt. */
  bootSeconds: number[];
  /** The prompt to the plan's end. */
  workloadSeconds: number[];
  /** The same plan in Node, boot and workload (one run, the process's first), and the instructions at the prompt. */
  node: { boot: number; workload: number; promptInstructions: number } | null;
}

const UNTIL = '^ALL TESTS PASSED|FAILED|^exec .* failed';
const TIMEOUT_MS = 600_000;

export async function benchWeb(options: WebBenchOptions): Promise<WebBenchReport> {
  const log = options.log ?? (() => {});
  if (!existsSync(options.chromium)) throw new MemvisorError(`${options.chromium}: no such browser; bench web needs Debian's chromium (apt-get install -y chromium) or --chromium <path>`);
  const plan: RunPlan = { mirror: options.mode, seed: 1, faults: [], send: [options.command], until: UNTIL };
  let server: Server | null = null;
  let base = options.url;
  if (base === undefined) {
    const { serveWebPage } = await import('../cli/actions/web.js');
    const served = await serveWebPage(0);
    server = served.server;
    base = served.url;
  }
  const report: WebBenchReport = { mode: options.mode, command: options.command, url: base, instructions: 0, bootSeconds: [], workloadSeconds: [], node: null };
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: options.chromium,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  }).catch((e: Error) => {
    server?.close();
    throw new MemvisorError(`${options.chromium}: the browser did not start (${e.message.split('\n')[0]})`);
  });
  try {
    for (let run = 1; run <= options.runs; run++) {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        const started = performance.now();
        await page.goto(`${base}${planToHash(plan)}`, { waitUntil: 'domcontentloaded' });
        await page.check('#fast');
        await page.waitForFunction(() => /\$ $/m.test(window.memvisor.transcript()), undefined, { polling: 10, timeout: TIMEOUT_MS })
          .catch(() => { throw new MemvisorError(`${base}: the page never showed MemV6's prompt${errors.length ? ` (${errors[0]})` : ''}`); });
        const prompt = performance.now();
        await page.waitForFunction(() => window.memvisor.finished() !== null, undefined, { polling: 10, timeout: TIMEOUT_MS })
          .catch(() => { throw new MemvisorError(`${base}: "${options.command}" did not finish within ${TIMEOUT_MS / 1000} s in the page`); });
        const ended = performance.now();
        const finished = (await page.evaluate(() => window.memvisor.finished()))!;
        const tail = (await page.evaluate(() => window.memvisor.transcript())).slice(-300);
        if (finished.outcome !== 'matched' || !/ALL TESTS PASSED/.test(tail)) throw new MemvisorError(`${base}: "${options.command}" ended ${finished.outcome} in the page:\n${tail}`);
        if (report.instructions && finished.instructions !== report.instructions) throw new MemvisorError(`${base}: run ${run} ended at instruction ${finished.instructions}, run 1 at ${report.instructions}: the page is not deterministic`);
        report.instructions = finished.instructions;
        report.bootSeconds.push((prompt - started) / 1000);
        report.workloadSeconds.push((ended - prompt) / 1000);
        log(`browser run ${run}/${options.runs}: prompt after ${((prompt - started) / 1000).toFixed(2)} s, "${options.command}" ${((ended - prompt) / 1000).toFixed(2)} s`);
      } finally {
        await context.close();
      }
    }
  } finally {
    await browser.close();
    server?.close();
  }
  if (options.url === undefined) report.node = await nodeRun(options.webRoot, plan, report.instructions, log);
  return report;
}

/** The plan as the page's worker runs it, in this process, on the images the page loads. */
async function nodeRun(webRoot: string, plan: RunPlan, expected: number, log: (line: string) => void): Promise<NonNullable<WebBenchReport['node']>> {
  const image = (name: string) => new Uint8Array(readFileSync(join(webRoot, 'guest', name)));
  const names = planImages(plan);
  const started = performance.now();
  const monitor = planMonitor(plan, image(names.kernel), image(names.disk));
  let prompt = 0, promptInstructions = 0, console = '';
  const session = monitor.session({
    send: plan.send.map((s) => `${s}\n`), prompt: /\$ $/m, until: new RegExp(plan.until!, 'm'), timeoutMs: TIMEOUT_MS,
    echo: (text) => {
      if (prompt) return;
      console += text;
      if (/\$ $/m.test(console)) { prompt = performance.now(); promptInstructions = monitor.pc.cpu.instructionCount; }
    },
  });
  const result = await session.run();
  const ended = performance.now();
  const instructions = monitor.pc.cpu.instructionCount;
  if (result.outcome !== 'matched') throw new MemvisorError(`"${plan.send[0]}" ended ${result.outcome} in Node`);
  if (instructions !== expected) throw new MemvisorError(`the page ended at instruction ${expected}, Node at ${instructions}: the browser and Node ran differently`);
  const boot = (prompt - started) / 1000;
  log(`node run: prompt after ${boot.toFixed(2)} s, "${plan.send[0]}" ${((ended - prompt) / 1000).toFixed(2)} s`);
  return { boot, workload: (ended - prompt) / 1000, promptInstructions };
}

export function formatWebReport(r: WebBenchReport): string {
  const work = median(r.workloadSeconds);
  const workload = r.node ? r.instructions - r.node.promptInstructions : 0;
  const mips = (seconds: number) => (r.node ? (workload / seconds / 1e6).toFixed(0) : '-').padStart(8);
  const lines = [
    `the web page (${r.url}), --mirror ${r.mode}: "${r.command}", ${r.instructions} guest instructions from power-on` +
      (r.node ? `, ${workload} of them after the prompt` : ''),
    'engine                 prompt s   workload s      MIPS   workload ratio',
    `browser (median)   ${median(r.bootSeconds).toFixed(2).padStart(11)}  ${work.toFixed(2).padStart(11)}  ${mips(work)}   ${r.node ? `${(work / r.node.workload).toFixed(2)}x Node` : ''}`,
  ];
  if (r.node) lines.push(`Node (first run)   ${r.node.boot.toFixed(2).padStart(11)}  ${r.node.workload.toFixed(2).padStart(11)}  ${mips(r.node.workload)}   1.00x`);
  else lines.push('Node               not run: the page was served from --url, whose images this build may not have');
  return lines.join('\n');
}
