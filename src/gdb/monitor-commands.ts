/**
 * gdb's `monitor` commands (the qRcmd packet): what only the monitor can show or do, a
 * page's twin, the guest-physical → host map, a fault planned now, the run's memory
 * statistics. Each answers with text for gdb's console.
 */
import { MemvisorError } from '../errors.js';
import { parseInjectionSpec } from '../faults/index.js';
import { viewTwin, type FrameView, type Monitor } from '../vmm/index.js';

const hex = (n: number, digits = 1) => `0x${(n >>> 0).toString(16).padStart(digits, '0')}`;

const HELP = [
  'memvisor monitor commands:',
  '  monitor mirror ADDR [LEN]  the page at linear ADDR and its twin: frames, bytes, whether they are equal',
  '  monitor p2m [FRAME]        guest frame -> host frame (without FRAME: every frame the monitor replaced)',
  '  monitor inject SPEC        plan a fault now, in --inject\'s language (e.g. poison:addr=0x1234000)',
  '  monitor stats              instructions, virtual time, memory errors and recoveries so far',
  '  monitor help               this list',
];

function number(text: string | undefined, what: string): number {
  const value = text === undefined ? NaN : /^0x[0-9a-f]+$/i.test(text) ? parseInt(text, 16) : /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < 0 || value > 0xffffffff) throw new MemvisorError(`${what}: expected a number (decimal or 0x hex), got '${text ?? ''}'`);
  return value;
}

function frameLine(label: string, f: FrameView): string {
  const where = f.va === null ? `${label} (no address)` : `${label} ${hex(f.va, 8)}`;
  return `${where}: guest-physical ${hex(f.guestPhys, 8)}, host frame ${hex(f.hostFrame)}${f.poisoned ? ' (poisoned)' : ''}: ` +
    Array.from(f.bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

function mirror(monitor: Monitor, args: string[]): string[] {
  const va = number(args[0], 'monitor mirror ADDR');
  const view = viewTwin(monitor, va, args[1] === undefined ? 16 : number(args[1], 'monitor mirror LEN'));
  if (typeof view === 'string') return [view];
  const lines = [frameLine('native', view.native), `twin: ${view.how}`];
  if (view.twin) {
    lines.push(frameLine('mirror', view.twin));
    const same = view.native.bytes.every((b, i) => b === view.twin!.bytes[i]);
    lines.push(same ? `equal: ${view.native.bytes.length} bytes` : 'DIFFERENT: native and mirror bytes differ');
  }
  return lines;
}

function p2m(monitor: Monitor, args: string[]): string[] {
  const { mem, defects } = monitor.pc;
  const describe = (page: number) => {
    const host = mem.p2m[page]!;
    const notes = [host !== page ? 'replaced by the monitor' : '', defects.isPoisoned(host) ? 'poisoned' : ''].filter(Boolean);
    return `guest frame ${hex(page)} -> host frame ${hex(host)}${notes.length ? ` (${notes.join(', ')})` : ''}`;
  };
  if (args[0] !== undefined) {
    const page = number(args[0], 'monitor p2m FRAME');
    if (page >= mem.p2m.length) return [`guest frame ${hex(page)} is beyond guest memory (${mem.p2m.length} frames)`];
    return [describe(page)];
  }
  const moved: string[] = [];
  for (let page = 0; page < mem.p2m.length; page++) if (mem.p2m[page] !== page) moved.push(describe(page));
  return moved.length ? moved : [`all ${mem.p2m.length} guest frames are at their own host frames`];
}

function inject(monitor: Monitor, text: string, seed: number): string[] {
  if (text === '') throw new MemvisorError('monitor inject SPEC: give a fault, e.g. poison:addr=0x1234000');
  const now = monitor.pc.now();
  const spec = parseInjectionSpec(text, seed, { kind: 'cycle', at: now });
  monitor.inject([spec]);
  const when = spec.trigger.kind === 'cycle' ? `at cycle ${spec.trigger.at}` : spec.trigger.kind === 'random'
    ? `between cycles ${spec.trigger.from} and ${spec.trigger.to}` : `when the console shows '${spec.trigger.text}'`;
  const landing = spec.target.startsWith('user') || spec.target === 'both' ? ' (faults in user pages land at the next system call)' : '';
  return [`planned ${spec.source} ${when}${landing}; now is cycle ${now}`];
}

function stats(monitor: Monitor): string[] {
  const { pc } = monitor;
  const e = monitor.memoryErrors();
  const lines = [
    `instructions ${pc.cpu.instructionCount}, virtual cycles ${pc.now()}, mirror mode ${monitor.settings.mirror}, recovery by ${monitor.settings.recovery}`,
    `memory errors: ${e.injected} injected, ${e.activated} consumed, ${e.recoveredByMonitor} recovered by the monitor, ` +
      `${e.machineChecks} machine checks, ${e.overwritten} overwritten before use, ${e.spareFramesLeft} spare frames left`,
  ];
  if (monitor.mirrorStatistics) lines.push(monitor.mirrorStatistics.summary());
  for (const entry of e.log) lines.push(`log: ${entry}`);
  return lines;
}

/** Runs one `monitor` command; the lines to print (a mistake is a line too, never an exception). */
export function monitorCommand(monitor: Monitor, command: string, seed: number): string[] {
  const [name = 'help', ...args] = command.trim().split(/\s+/);
  try {
    switch (name) {
      case 'mirror': return mirror(monitor, args);
      case 'p2m': return p2m(monitor, args);
      case 'inject': return inject(monitor, command.trim().slice(name.length).trim(), seed);
      case 'stats': return stats(monitor);
      case 'help': return HELP;
      default: return [`unknown monitor command '${name}'`, ...HELP];
    }
  } catch (e) {
    if (e instanceof MemvisorError) return [e.message];
    throw e;
  }
}
