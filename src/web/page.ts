/**
 * The web page (main thread): the console (xterm.js), the memory map, the fault panel,
 * the event log with its counters and chart, and the controls. The machine itself runs
 * in worker.ts; this side only draws what the worker sends and forwards what the user
 * does. The run the page shows is a RunPlan kept in the address (`#mode=…&seed=…&fault=…`),
 * so a link replays it.
 *
 * For scripts and tests the page exposes `window.memvisor`: the console transcript, the
 * latest status and the end of a run.
 */
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { FAULT_KINDS, FAULT_TARGETS } from '../faults/index.js';
import { CYCLES_PER_SECOND } from '../virtual-time.js';
import { FRAME_ROLES, MIRROR_MODES, processLabel, type FrameDetails, type MirrorMode } from '../vmm/index.js';
import { CounterChart, SERIES } from './chart.js';
import { COLUMNS, MemoryMapView, ROLE_COLOURS, ROLE_LABELS, rgb } from './map-view.js';
import type { Counters, FromWorker, LogEntry, Status, ToWorker } from './protocol.js';
import { commandLine, DEFAULT_PLAN, MODES_SHOWN, planFromHash, planToHash, type RunPlan } from './run-plan.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const hex = (frame: number) => `0x${(frame * 4096).toString(16)}`;
const MAX_LOG = 300;

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const send = (message: ToWorker, transfer: Transferable[] = []) => worker.postMessage(message, transfer);

let plan: RunPlan = DEFAULT_PLAN;
let transcript = '';
let status: Status | null = null;
let finished: Extract<FromWorker, { type: 'finished' }> | null = null;
let booted = false;

// ---------------------------------------------------------------- the console

const terminal = new Terminal({ convertEol: true, cursorBlink: true, fontSize: 14, scrollback: 5000, rightClickSelectsWord: true });
const fit = new FitAddon();
terminal.loadAddon(fit);
terminal.open($('terminal'));
fit.fit();
new ResizeObserver(() => fit.fit()).observe($('terminal'));
// What is typed goes to the guest as UTF-8 bytes (the worker encodes it), as a terminal
// gives them to `memvisor run`; what the guest prints comes as bytes (one character each
// in the transcript) and the terminal decodes them as UTF-8, as the user's terminal does.
terminal.onData((text) => send({ type: 'input', text }));
const consoleToTerminal = (bytes: string): Uint8Array => Uint8Array.from(bytes, (c) => c.charCodeAt(0));

// ---------------------------------------------------------------- the memory map

const map = new MemoryMapView($<HTMLCanvasElement>('map'));
const mapCanvas = $<HTMLCanvasElement>('map');
let hovered: number | null = null;

$('legend').append(...FRAME_ROLES.map((role) => {
  const li = document.createElement('li');
  li.textContent = ROLE_LABELS[role];
  li.style.setProperty('--swatch', rgb(ROLE_COLOURS[role]));
  return li;
}));

function showFrame(frame: number | null): void {
  if (frame === hovered) return;
  hovered = frame;
  if (frame !== null) send({ type: 'details', hostFrame: frame });
}

mapCanvas.addEventListener('mousemove', (e) => {
  const box = mapCanvas.getBoundingClientRect();
  showFrame(map.frameAt(e.clientX - box.left, e.clientY - box.top));
});
mapCanvas.addEventListener('click', (e) => {
  const box = mapCanvas.getBoundingClientRect();
  const frame = map.frameAt(e.clientX - box.left, e.clientY - box.top);
  if (frame !== null) breakFrame(frame);
});
mapCanvas.addEventListener('keydown', (e) => {
  const moves: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -COLUMNS, ArrowDown: COLUMNS };
  if (e.key === 'Enter' && map.cursor !== null) { breakFrame(map.cursor); e.preventDefault(); return; }
  if (!(e.key in moves) || map.frames === 0) return;
  e.preventDefault();
  map.cursor = map.moveCursor(moves[e.key]!);
  map.paint();
  showFrame(map.cursor);
});
$<HTMLInputElement>('zoom').addEventListener('input', (e) => map.setZoom(Number((e.target as HTMLInputElement).value)));
map.setZoom(Number($<HTMLInputElement>('zoom').value));
$<HTMLInputElement>('fold').addEventListener('change', (e) => map.setFold((e.target as HTMLInputElement).checked));
$<HTMLSelectElement>('process').addEventListener('change', (e) => {
  const value = (e.target as HTMLSelectElement).value;
  map.select(value === '' ? null : Number(value));
});

function breakFrame(frame: number): void {
  if (!booted) return;
  send({ type: 'inject-frame', hostFrame: frame, kind: $<HTMLSelectElement>('kind').value });
}

function describeFrame(d: FrameDetails): void {
  const lines = [
    `host frame ${hex(d.hostFrame)} (${d.region}): ${ROLE_LABELS[d.role]}`,
    d.guestFrame === null ? 'backs no guest page' : `${d.region === 'hardware mirror' ? 'copy of' : 'guest frame'} ${hex(d.guestFrame)}`,
    ...d.owners.map((o) => `${o.process}: ${o.kind} page at va 0x${o.va.toString(16)}, twin ${o.twinHostFrame === null ? 'none' : `host frame ${hex(o.twinHostFrame)}`}`),
    ...(d.hardwareTwin === null ? [] : [`hardware mirror pair: host frame ${hex(d.hardwareTwin)}`]),
    ...(d.history.length ? ['history:', ...d.history.map((h) => `  ${h}`)] : []),
  ];
  const box = $('frame-details');
  box.replaceChildren(...lines.map((text) => Object.assign(document.createElement('p'), { textContent: text })));
}

function updateProcesses(spaces: Extract<FromWorker, { type: 'map' }>['spaces']): void {
  const select = $<HTMLSelectElement>('process');
  const current = select.value;
  const options = spaces.map((s) => [String(s.directory), `${processLabel(s)}${s.running ? ' (running)' : ''}: ${s.native.length} pages, ${s.twins.filter((t) => t !== null).length} twins`]);
  const known = [...select.options].slice(1).map((o) => [o.value, o.textContent]);
  if (JSON.stringify(options) === JSON.stringify(known)) return;
  select.replaceChildren(new Option('all', ''), ...options.map(([value, label]) => new Option(label, value)));
  select.value = options.some(([value]) => value === current) ? current : '';
  if (select.value !== current) map.select(null);
}

// ---------------------------------------------------------------- faults

for (const kind of FAULT_KINDS) $<HTMLSelectElement>('kind').append(new Option(kind, kind));
for (const target of FAULT_TARGETS.filter((t) => t !== 'address')) $<HTMLSelectElement>('target').append(new Option(target, target));

/** The spec the form describes, in the --inject language (the worker adds the time). */
function specFromForm(): string {
  const kind = $<HTMLSelectElement>('kind').value;
  const parts = [`target=${$<HTMLSelectElement>('target').value}`, `count=${$<HTMLInputElement>('count').value}`];
  if (kind === 'flip' || kind === 'stuck') parts.push(`bits=${$<HTMLInputElement>('bits').value}`);
  return `${kind}:${parts.join(',')}`;
}

for (const id of ['kind', 'target', 'count', 'bits']) $(id).addEventListener('input', () => { $<HTMLInputElement>('spec').value = specFromForm(); });
$<HTMLInputElement>('spec').value = specFromForm();
$('break').addEventListener('submit', (e) => {
  e.preventDefault();
  send({ type: 'inject', spec: $<HTMLInputElement>('spec').value.trim(), within: Number($<HTMLSelectElement>('when').value) });
});
$('clear-faults').addEventListener('click', () => setPlan({ ...plan, faults: [] }));

// ---------------------------------------------------------------- the plan, controls and status

for (const mode of MODES_SHOWN) {
  const available = (MIRROR_MODES as readonly string[]).includes(mode);
  const option = new Option(available ? mode : `${mode} (not yet)`, mode);
  option.disabled = !available;
  $<HTMLSelectElement>('mode').append(option);
}

function setPlan(next: RunPlan): void {
  plan = next;
  history.replaceState(null, '', planToHash(plan));
  $<HTMLSelectElement>('mode').value = plan.mirror;
  $<HTMLInputElement>('seed').value = String(plan.seed);
  $('plan').replaceChildren(...(plan.faults.length ? plan.faults : ['(none)']).map((f) => Object.assign(document.createElement('li'), { textContent: f })));
  $('command').textContent = commandLine(plan);
}

function boot(next: RunPlan): void {
  setPlan(next);
  booted = false;
  finished = null;
  transcript = '';
  terminal.reset();
  chart.reset();
  $('log').replaceChildren();
  $('finished').hidden = true;
  $('error').hidden = true;
  setStatusText(`Booting MemV6 (mirroring: ${plan.mirror}, seed ${plan.seed})…`);
  send({ type: 'boot', plan });
}

$('machine').addEventListener('submit', (e) => {
  e.preventDefault();
  boot({ ...plan, mirror: $<HTMLSelectElement>('mode').value as MirrorMode, seed: Number($<HTMLInputElement>('seed').value) });
});
// Switching the mode replays the same plan (seed, faults, commands) in the other mode.
$('mode').addEventListener('change', () => $<HTMLFormElement>('machine').requestSubmit());
$('pause').addEventListener('click', () => send({ type: status?.running ? 'pause' : 'resume' }));
$('step').addEventListener('click', () => send({ type: 'step' }));
$<HTMLInputElement>('fast').addEventListener('change', (e) => send({ type: 'pace', pace: !(e.target as HTMLInputElement).checked }));
$('save').addEventListener('click', () => send({ type: 'snapshot' }));
$<HTMLInputElement>('restore').addEventListener('change', async (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (!file) return;
  terminal.reset();
  transcript = '';
  send({ type: 'restore', name: file.name, bytes: await file.arrayBuffer(), seed: plan.seed });
});
$('share').addEventListener('click', async () => {
  try {
    await navigator.clipboard.writeText(location.href);
    setStatusText('Link copied: it replays this mode, seed and fault plan.');
  } catch {
    prompt('Copy this link: it replays this mode, seed and fault plan.', location.href);
  }
});

const chart = new CounterChart($<HTMLCanvasElement>('chart'));
$('chart-legend').append(...SERIES.map((s) => {
  const li = document.createElement('li');
  li.textContent = s.label;
  li.style.setProperty('--swatch', s.colour);
  return li;
}));

const COUNTER_LABELS: Record<keyof Counters, string> = {
  injected: 'injected', activated: 'activated', recovered: 'recovered by the monitor', recoveredByGuest: 'recovered by MemV6',
  machineChecks: 'machine checks', killed: 'processes killed',
};

function setStatusText(text: string): void {
  $('status').textContent = text;
}

function showStatus(s: Status): void {
  status = s;
  setStatusText(`${s.running ? 'Running' : 'Paused'} · mirroring ${s.mirror} · ${s.instructions.toLocaleString('en')} instructions · ` +
    `${(s.cycles / CYCLES_PER_SECOND).toFixed(2)} s of guest time · ${s.mips.toFixed(1)} MIPS`);
  $('pause').textContent = s.running ? 'Pause' : 'Resume';
  $<HTMLButtonElement>('step').disabled = s.running;
  const dl = $('counters');
  dl.replaceChildren(...(Object.keys(COUNTER_LABELS) as Array<keyof Counters>).flatMap((k) => {
    const dt = Object.assign(document.createElement('dt'), { textContent: COUNTER_LABELS[k] });
    const dd = Object.assign(document.createElement('dd'), { textContent: String(s.counters[k]) });
    dd.dataset.counter = k;
    return [dt, dd];
  }));
  chart.add(s.cycles, s.counters);
}

function addLog(entries: LogEntry[]): void {
  const log = $('log');
  for (const e of entries) {
    const li = document.createElement('li');
    li.className = e.kind;
    const kind = Object.assign(document.createElement('span'), { className: 'kind', textContent: e.kind });
    li.append(kind, `cycle ${e.cycle.toLocaleString('en')}: ${e.text}`);
    log.append(li);
  }
  while (log.children.length > MAX_LOG) log.firstElementChild!.remove();
  log.scrollTop = log.scrollHeight;
}

function download(name: string, bytes: ArrayBuffer): void {
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

worker.onmessage = (event: MessageEvent<FromWorker>) => {
  const m = event.data;
  switch (m.type) {
    case 'progress': {
      $('loading').hidden = m.loaded >= m.total;
      $<HTMLProgressElement>('loading-bar').value = m.loaded / m.total;
      $('loading-text').textContent = `Loading ${m.name}: ${(m.loaded / 2 ** 20).toFixed(1)} of ${(m.total / 2 ** 20).toFixed(1)} MiB`;
      return;
    }
    case 'booted':
      booted = true;
      if (m.restored) {
        setPlan({ ...plan, mirror: m.mirror, faults: [], send: [], until: undefined });
        transcript = m.consoleHistory;
        terminal.write(consoleToTerminal(m.consoleHistory));
      }
      for (const id of ['pause', 'save', 'inject']) $<HTMLButtonElement>(id).disabled = false;
      terminal.focus();
      return;
    case 'console':
      transcript += m.text;
      terminal.write(consoleToTerminal(m.text));
      return;
    case 'status': showStatus(m.status); return;
    case 'log': addLog(m.entries); return;
    case 'map': {
      map.setData(m);
      updateProcesses(m.spaces);
      const mib = (frames: number) => (frames * 4096) / 2 ** 20;
      const regions = [`guest memory (${mib(m.guestFrames)} MiB)`, `the spare pool (${mib(m.spareEnd - m.guestFrames)} MiB)`];
      if (m.roles.length > m.spareEnd) regions.push(`the hardware mirror's copy (${mib(m.roles.length - m.spareEnd)} MiB)`);
      $('regions').textContent = `A row is ${(COLUMNS * 4096) / 1024} KiB. Top to bottom, between solid lines: ${regions.join(', ')}; a dashed line marks folded rows.`;
      if (hovered !== null) send({ type: 'details', hostFrame: hovered });
      return;
    }
    case 'details': if (m.details.hostFrame === hovered) describeFrame(m.details); return;
    case 'injected':
      $('error').hidden = true;
      setPlan({ ...plan, faults: [...plan.faults, m.spec] });
      return;
    case 'finished': {
      finished = m;
      const box = $('finished');
      box.hidden = false;
      box.textContent = `Run ended (${m.outcome}): ${m.message}, after ${m.instructions.toLocaleString('en')} instructions (${m.cycles.toLocaleString('en')} cycles).`;
      box.dataset.instructions = String(m.instructions);
      return;
    }
    case 'snapshot': download(m.name, m.bytes); return;
    case 'error': showError(m.message); return;
  }
};

declare global {
  interface Window {
    memvisor: { transcript(): string; status(): Status | null; finished(): Extract<FromWorker, { type: 'finished' }> | null; plan(): RunPlan };
  }
}
window.memvisor = { transcript: () => transcript, status: () => status, finished: () => finished, plan: () => plan };

function showError(message: string): void {
  const box = $('error');
  box.hidden = false;
  box.textContent = message;
}

let initial = DEFAULT_PLAN, problem: string | null = null;
try {
  initial = planFromHash(location.hash);
} catch (e) {
  problem = `${(e as Error).message} (booting the default plan instead)`;
}
boot(initial);
if (problem) showError(problem);
