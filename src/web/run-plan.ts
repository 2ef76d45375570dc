/**
 * A run as the web page shares it: mirror mode, seed, fault plan (in the --inject
 * language), the commands typed at successive shell prompts (as --send types them) and
 * when the run ends (--until). It lives in the page's address after `#`, so a link
 * replays the run, on any static host; and it is the `memvisor run` command line that
 * replays it on a terminal, instruction for instruction.
 */
import { MemvisorError } from '../errors.js';
import { parseInjectionSpec } from '../faults/index.js';
import { MIRROR_MODES, type MirrorMode } from '../vmm/index.js';

export interface RunPlan {
  mirror: MirrorMode;
  seed: number;
  faults: string[];
  /** Commands, each typed (with Enter) after the next prompt. */
  send: string[];
  /** A regular expression: the run ends (the machine pauses) when the console matches. */
  until?: string;
}

/** Every mode the command line names, in the order the page offers them; those not in MIRROR_MODES are shown unavailable. */
export const MODES_SHOWN = ['off', 'guest', 'system', 'hardware'] as const;

export const DEFAULT_PLAN: RunPlan = { mirror: 'guest', seed: 1, faults: [], send: [] };

/** The plan in a page address's fragment (`#mode=guest&seed=1&fault=…`); bad values are one clear line. */
export function planFromHash(hash: string): RunPlan {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const mode = params.get('mode') ?? DEFAULT_PLAN.mirror;
  if (!(MIRROR_MODES as readonly string[]).includes(mode)) throw new MemvisorError(`mode=${mode}: this memvisor runs ${MIRROR_MODES.join(', ')}`);
  const seedText = params.get('seed') ?? String(DEFAULT_PLAN.seed);
  const seed = Number(seedText);
  if (!/^[0-9]+$/.test(seedText) || !Number.isSafeInteger(seed) || seed > 0xffffffff) throw new MemvisorError(`seed=${seedText}: expected a whole number from 0 to 4294967295`);
  const faults = params.getAll('fault');
  for (const spec of faults) parseInjectionSpec(spec, seed);
  const until = params.get('until') ?? undefined;
  if (until !== undefined) checkRegularExpression('until', until);
  return { mirror: mode as MirrorMode, seed, faults, send: params.getAll('send'), until };
}

export function planToHash(plan: RunPlan): string {
  const params = new URLSearchParams({ mode: plan.mirror, seed: String(plan.seed) });
  for (const f of plan.faults) params.append('fault', f);
  for (const s of plan.send) params.append('send', s);
  if (plan.until !== undefined) params.set('until', plan.until);
  return `#${params.toString()}`;
}

export function checkRegularExpression(what: string, text: string): RegExp {
  try {
    return new RegExp(text, 'm');
  } catch (e) {
    throw new MemvisorError(`${what}=${text}: not a valid regular expression (${(e as Error).message})`);
  }
}

/** Quoted for a POSIX shell. */
const shellWord = (text: string) => (/^[A-Za-z0-9_.,:=\/+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`);

/** The `memvisor run` command that replays the plan (--send's escapes: a backslash doubled, Enter as \n). */
export function commandLine(plan: RunPlan): string {
  const words = ['npx', 'memvisor', 'run', '--mirror', plan.mirror, '--seed', String(plan.seed)];
  for (const f of plan.faults) words.push('--inject', shellWord(f));
  for (const s of plan.send) words.push('--send', shellWord(`${s.replace(/\\/g, '\\\\')}\\n`));
  if (plan.until !== undefined) words.push('--until', shellWord(plan.until));
  return words.join(' ');
}
