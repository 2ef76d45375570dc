/**
 * The machine of the web page, in a Web Worker: the same monitor as `memvisor run`, built
 * by createMonitor from the kernel and disk the page serves (fetched once, with
 * progress), driven a slice at a time by the same Session, so the same plan gives the
 * same run, instruction for instruction. Between slices it answers the page (keys,
 * pause and step, faults, frame details, snapshots); guest time is paced to wall time,
 * as on an interactive terminal, unless the page asks for full speed.
 */
import { MemvisorError } from '../errors.js';
import { parseInjectionSpec } from '../faults/index.js';
import { DEFAULT_PROMPT, type Outcome, type Session } from '../machine/session.js';
import { SnapshotFile } from '../machine/snapshot.js';
import { createMonitor, type MemoryEvent, type Monitor } from '../vmm/index.js';
import type { Counters, FromWorker, LogEntry, ToWorker } from './protocol.js';
import { checkRegularExpression, type RunPlan } from './run-plan.js';
import { planImages, planMonitor } from './plan-monitor.js';

const scope = self as unknown as {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
};
const post = (message: FromWorker, transfer: Transferable[] = []) => scope.postMessage(message, transfer);

/** Wall time one turn of the run loop may take before the worker reads its messages. */
const TURN_MS = 30;
const STATUS_EVERY_MS = 100;
const MAP_EVERY_MS = 200;

interface Machine {
  monitor: Monitor;
  session: Session;
  seed: number;
  /** Console text not yet sent, and memory events already sent. */
  console: string;
  eventsSent: number;
  /** Guest diagnostic lines are found in complete lines: where the next one starts. */
  lineStart: number;
}

let machine: Machine | null = null;
let running = false;
let pace = true;
let paceFrom = { cycle: 0, wall: 0 };
let timer: ReturnType<typeof setTimeout> | null = null;
/** A turn is waiting on `soon` (a cancelled one's message finds this false and does nothing). */
let queued = false;
const soon = new MessageChannel();
soon.port1.onmessage = () => {
  if (queued) turn();
};
let lastStatus = 0, lastMap = 0;
let lastRate = { wall: 0, instructions: 0, mips: 0 };
const images = new Map<string, Uint8Array>();

/** An image the page serves beside it (guest/NAME), fetched once, with progress. */
async function image(name: string): Promise<Uint8Array> {
  const known = images.get(name);
  if (known) return known;
  const url = new URL(`guest/${name}`, new URL('.', location.href));
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new MemvisorError(`${url.pathname}: the server answered ${response.status} ${response.statusText}`);
  const total = Number(response.headers.get('content-length') ?? 0);
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    post({ type: 'progress', name, loaded, total: Math.max(total, loaded) });
  }
  const bytes = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) { bytes.set(c, at); at += c.length; }
  images.set(name, bytes);
  return bytes;
}

/** The machine the worker runs from now on; its status and map are published at once. */
function attach(monitor: Monitor, seed: number, plan: Pick<RunPlan, 'send' | 'until'>): void {
  const until = plan.until === undefined ? undefined : checkRegularExpression('until', plan.until);
  const state: Machine = { monitor, session: null as unknown as Session, seed, console: '', eventsSent: monitor.events.events.length, lineStart: 0 };
  state.session = monitor.session({
    send: plan.send.map((s) => `${s}\n`), prompt: new RegExp(DEFAULT_PROMPT, 'm'), until,
    echo: (text) => { state.console += text; },
  });
  state.lineStart = state.session.transcript.length;
  machine = state;
  lastRate = { wall: performance.now(), instructions: monitor.pc.cpu.instructionCount, mips: 0 };
  // The new machine's status and map go out before 'booted', so the page never shows a
  // restored console beside the previous machine's mode and counters.
  publish(true);
}

async function boot(plan: RunPlan): Promise<void> {
  stop();
  machine = null;
  const names = planImages(plan);
  const [kernel, disk] = await Promise.all([image(names.kernel), image(names.disk)]);
  attach(planMonitor(plan, kernel, disk), plan.seed, plan);
  post({ type: 'booted', mirror: plan.mirror, seed: plan.seed, restored: false, consoleHistory: '' });
  start();
}

/** Continues a snapshot (the page's or the command line's); faults added from now on take `seed`. */
function restore(name: string, bytes: Uint8Array, seed: number): void {
  const monitor = createMonitor({ machine: { restore: SnapshotFile.decode(bytes, name) } });
  stop();
  attach(monitor, seed, { send: [] });
  post({ type: 'booted', mirror: monitor.settings.mirror, seed, restored: true, consoleHistory: machine!.session.transcript });
  start();
}

function start(): void {
  running = true;
  paceFrom = { cycle: machine!.monitor.pc.now(), wall: performance.now() };
  schedule(0);
}

function stop(): void {
  running = false;
  cancel();
}

/**
 * The next turn, `ms` from now. With no delay it goes through a message channel, not
 * setTimeout: browsers clamp a timer set from a timer to 4 ms once they nest, which left
 * the worker idle 4 ms of every 34 (8 % of a usertests run in chromium's profile).
 * Messages from the page still come in between turns.
 */
function schedule(ms: number): void {
  cancel();
  if (ms > 0) timer = setTimeout(turn, ms);
  else {
    queued = true;
    soon.port2.postMessage(null);
  }
}

function cancel(): void {
  if (timer !== null) clearTimeout(timer);
  timer = null;
  queued = false;
}

/** One turn of the run loop: slices until TURN_MS of wall time has passed, or the guest is ahead of wall time. */
function turn(): void {
  timer = null;
  queued = false;
  if (!running || !machine) return;
  const m = machine;
  const began = performance.now();
  while (performance.now() - began < TURN_MS) {
    if (pace) {
      const ahead = m.session.guestMsSince(paceFrom.cycle) - (performance.now() - paceFrom.wall);
      if (ahead > 0) {
        publish(false);
        schedule(Math.min(ahead, 50));
        return;
      }
    }
    const outcome = m.session.step();
    if (outcome) {
      finish(outcome);
      return;
    }
  }
  publish(false);
  schedule(0);
}

function finish(outcome: Outcome): void {
  stop();
  const m = machine!;
  const pc = m.monitor.pc;
  const message = outcome === 'matched' ? 'the console matched the plan\'s end' : pc.stopReason?.message ?? outcome;
  publish(true);
  post({ type: 'finished', outcome, instructions: pc.cpu.instructionCount, cycles: pc.now(), message });
}

function counters(m: Machine): Counters {
  const e = m.monitor.memoryErrors();
  const guest = m.monitor.settings.profile.consoleReports(m.session.transcript);
  return {
    injected: e.injected, activated: e.activated, recovered: e.recoveredByMonitor, recoveredByGuest: guest.recoveredFromMirror,
    machineChecks: e.machineChecks, killed: guest.killed,
  };
}

const logEntry = (e: MemoryEvent): LogEntry => ({ cycle: e.cycle, kind: e.kind, text: e.text });

/** Sends what changed: console text now, the rest at most STATUS_EVERY_MS / MAP_EVERY_MS apart (or now, when `all`). */
function publish(all: boolean): void {
  const m = machine;
  if (!m) return;
  if (m.console) {
    post({ type: 'console', text: m.console });
    m.console = '';
  }
  const now = performance.now();
  if (all || now - lastStatus >= STATUS_EVERY_MS) {
    lastStatus = now;
    const entries = m.monitor.events.since(m.eventsSent).map(logEntry);
    m.eventsSent += entries.length;
    entries.push(...guestLines(m));
    if (entries.length) post({ type: 'log', entries });
    const pc = m.monitor.pc, instructions = pc.cpu.instructionCount;
    if (now - lastRate.wall >= 500) lastRate = { wall: now, instructions, mips: (instructions - lastRate.instructions) / (now - lastRate.wall) / 1e3 };
    post({ type: 'status', status: { running, mirror: m.monitor.settings.mirror, seed: m.seed, instructions, cycles: pc.now(), mips: running ? lastRate.mips : 0, counters: counters(m) } });
  }
  if (all || now - lastMap >= MAP_EVERY_MS) {
    lastMap = now;
    const map = m.monitor.frameMap();
    post({ type: 'map', roles: map.roles, guestFrames: map.guestFrames, spareEnd: map.spareEnd, spaces: map.spaces }, [map.roles.buffer]);
  }
}

/** The guest's own diagnostics among the console lines completed since the last call (what MemV6 did about an error). */
function guestLines(m: Machine): LogEntry[] {
  const transcript = m.session.transcript;
  const end = transcript.lastIndexOf('\n') + 1;
  if (end <= m.lineStart) return [];
  const lines = transcript.slice(m.lineStart, end).split('\n');
  m.lineStart = end;
  const cycle = m.monitor.pc.now();
  return lines.map((l) => l.replace(/\r$/, '')).filter((l) => m.monitor.settings.profile.diagnosticLine.test(l)).map((text) => ({ cycle, kind: 'guest' as const, text }));
}

/** A spec without a time lands within the next `within` cycles (uniformly, seeded), from now. */
function timed(spec: string, within: number, now: number): string {
  if (/(^|[:,])\s*(at|window|match)\s*=/.test(spec)) return spec;
  const sep = spec.includes(':') ? ',' : ':';
  return within > 0 ? `${spec}${sep}window=${now}-${now + within}` : `${spec}${sep}at=${now}`;
}

function inject(spec: string): void {
  const m = machine!;
  m.monitor.inject([parseInjectionSpec(spec, m.seed)]);
  post({ type: 'injected', spec });
  if (!running) publish(true);
}

function handle(message: ToWorker): void {
  switch (message.type) {
    case 'boot': void boot(message.plan).catch(report); return;
    case 'restore': restore(message.name, new Uint8Array(message.bytes), message.seed); return;
    case 'pace': pace = message.pace; if (running) start(); return;
  }
  const m = machine;
  if (!m) return;
  switch (message.type) {
    case 'input': m.session.input(new TextEncoder().encode(message.text)); return;
    case 'pause': stop(); publish(true); return;
    case 'resume': if (!running) start(); return;
    case 'step': {
      if (running) return;
      const outcome = m.session.step();
      if (outcome) finish(outcome); else publish(true);
      return;
    }
    case 'inject': inject(timed(message.spec, message.within, m.monitor.pc.now())); return;
    case 'inject-frame': {
      const d = m.monitor.frameDetails(message.hostFrame);
      if (d.region !== 'guest memory' && d.region !== 'spare pool') throw new MemvisorError(`host frame 0x${(message.hostFrame * 4096).toString(16)} is the hardware mirror's copy: faults are aimed at guest memory`);
      if (d.guestFrame === null) throw new MemvisorError(`host frame 0x${(message.hostFrame * 4096).toString(16)} holds no guest page (${d.role})`);
      inject(`${message.kind}:addr=0x${(d.guestFrame * 4096).toString(16)},at=${m.monitor.pc.now()}`);
      return;
    }
    case 'details': post({ type: 'details', details: m.monitor.frameDetails(message.hostFrame) }); return;
    case 'snapshot': {
      const bytes = m.monitor.snapshot(m.session.consoleState());
      post({ type: 'snapshot', name: `memvisor-${m.monitor.settings.mirror}-${m.monitor.pc.now()}.snap`, bytes: bytes.buffer as ArrayBuffer }, [bytes.buffer]);
      return;
    }
  }
}

function report(e: unknown): void {
  if (e instanceof MemvisorError) post({ type: 'error', message: e.message });
  else post({ type: 'error', message: `internal error: ${e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e)}` });
}

scope.onmessage = (event) => {
  try {
    handle(event.data);
  } catch (e) {
    report(e);
  }
};
