/**
 * `--inject SPEC`: what to break, where, when and how often, as one seeded,
 * replayable description. Grammar:
 *
 *   KIND[:key=value[,key=value...]]
 *
 *   KIND    poison        the frame goes bad: any access raises a machine check
 *           corrupt-line  one 64-byte line goes bad (poison at line granularity)
 *           flip          bits flip silently (no machine check: the SDC model)
 *           stuck         bits stick at a value (permanent, silent)
 *   target  user-native | user-mirror | both | kernel | page-table | any   (default user-native)
 *   addr    an explicit guest-physical address (hex or decimal) instead of a target class
 *   count   how many frames (default 1)
 *   bits    for flip/stuck: bits per frame (default 1)
 *   seed    the seed of this injection's choices (default: the run's --seed)
 *   at      virtual cycle to inject at; or `random` (default), uniform in `window`
 *   window  A-B range of virtual cycles for at=random (default 0-100000000)
 *
 * Virtual time counts executed instructions plus the cycles a halted processor skips
 * (src/machine/device.ts), so a cycle number is an instant of the run, halts included.
 *   match   inject when the console prints this text (no commas; takes precedence over at)
 *
 * Everything the spec alone can get wrong is refused here with one line; checks that
 * need the machine (address beyond guest memory, more pages than exist) are in
 * `checkInjectionFitsMachine`, called before the guest starts.
 */
import { MemvisorError } from '../errors.js';

export const FAULT_KINDS = ['poison', 'corrupt-line', 'flip', 'stuck'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const FAULT_TARGETS = ['user-native', 'user-mirror', 'both', 'kernel', 'page-table', 'any', 'address'] as const;
export type FaultTarget = (typeof FAULT_TARGETS)[number];

export type FaultTrigger =
  | { kind: 'cycle'; at: number }
  | { kind: 'random'; from: number; to: number }
  | { kind: 'console'; text: string };

export interface InjectionSpec {
  /** The text the user gave, for logs and replay. */
  source: string;
  kind: FaultKind;
  target: FaultTarget;
  /** Only for target 'address'. */
  address?: number;
  count: number;
  bits: number;
  seed: number;
  trigger: FaultTrigger;
}

export const INJECTION_KEYS = ['target', 'addr', 'count', 'bits', 'seed', 'at', 'window', 'match'] as const;
const DEFAULT_WINDOW: [number, number] = [0, 100_000_000];

/** `defaultTrigger`: when the spec names no time (no at=, window= or match=); otherwise uniformly in the default window. */
export function parseInjectionSpec(source: string, defaultSeed = 0, defaultTrigger?: FaultTrigger): InjectionSpec {
  const bad = (why: string): never => {
    throw new MemvisorError(`--inject '${source}': ${why}`);
  };
  const colon = source.indexOf(':');
  const kindText = (colon < 0 ? source : source.slice(0, colon)).trim();
  if (!(FAULT_KINDS as readonly string[]).includes(kindText)) {
    bad(`unknown fault kind '${kindText}' (expected ${FAULT_KINDS.join(', ')})`);
  }
  const values = new Map<string, string>();
  if (colon >= 0) {
    for (const part of source.slice(colon + 1).split(',')) {
      if (part.trim() === '') continue;
      const eq = part.indexOf('=');
      if (eq < 0) bad(`'${part}' is not key=value`);
      const key = part.slice(0, eq).trim();
      if (!(INJECTION_KEYS as readonly string[]).includes(key)) bad(`unknown key '${key}' (expected ${INJECTION_KEYS.join(', ')})`);
      if (values.has(key)) bad(`'${key}' given twice`);
      values.set(key, part.slice(eq + 1).trim());
    }
  }

  const number = (key: string, min: number, max: number): number | undefined => {
    const text = values.get(key);
    if (text === undefined) return undefined;
    const value = /^0x[0-9a-f]+$/i.test(text) ? parseInt(text, 16) : /^[0-9]+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(value)) bad(`${key}=${text} is not a number`);
    if (value < min || value > max) bad(`${key}=${text} is out of range (${min}..${max})`);
    return value;
  };

  let target: FaultTarget = 'user-native';
  let address: number | undefined;
  if (values.has('addr')) {
    if (values.has('target') && values.get('target') !== 'address') bad('give either target= or addr=, not both');
    address = number('addr', 0, 0xffffffff);
    target = 'address';
  } else if (values.has('target')) {
    const text = values.get('target')!;
    if (text === 'address') bad('target=address needs addr=ADDRESS instead');
    if (!(FAULT_TARGETS as readonly string[]).includes(text)) {
      bad(`unknown target '${text}' (expected ${FAULT_TARGETS.filter((t) => t !== 'address').join(', ')}, or addr=ADDRESS)`);
    }
    target = text as FaultTarget;
  }

  const count = number('count', 1, 1_000_000) ?? 1;
  if (target === 'address' && count !== 1) bad('an explicit addr= names one frame: count must be 1');
  const bits = number('bits', 1, 4096 * 8) ?? 1;
  if (values.has('bits') && (kindText === 'poison' || kindText === 'corrupt-line')) {
    bad(`bits= applies to flip and stuck, not ${kindText}`);
  }
  const seed = number('seed', 0, 0xffffffff) ?? defaultSeed;

  let trigger: FaultTrigger;
  const match = values.get('match');
  if (match !== undefined) {
    if (match === '') bad('match= needs text');
    if (values.has('at') || values.has('window')) bad('match= cannot be combined with at= or window=');
    trigger = { kind: 'console', text: match };
  } else if (defaultTrigger !== undefined && !values.has('at') && !values.has('window')) {
    trigger = defaultTrigger;
  } else if (values.has('at') && values.get('at') !== 'random') {
    if (values.has('window')) bad('window= applies only to at=random');
    trigger = { kind: 'cycle', at: number('at', 0, Number.MAX_SAFE_INTEGER)! };
  } else {
    let [from, to] = DEFAULT_WINDOW;
    const window = values.get('window');
    if (window !== undefined) {
      const m = /^([0-9]+)-([0-9]+)$/.exec(window);
      if (!m) bad(`window=${window} is not FROM-TO (virtual cycles)`);
      from = Number(m![1]);
      to = Number(m![2]);
      if (!(from <= to) || !Number.isSafeInteger(to)) bad(`window=${window} is empty or too large`);
    }
    trigger = { kind: 'random', from, to };
  }

  return { source, kind: kindText as FaultKind, target, address, count, bits, seed, trigger };
}

/** Checks a spec against the machine it will run on; call before the guest starts. */
export function checkInjectionFitsMachine(spec: InjectionSpec, guestBytes: number): void {
  const pages = Math.floor(guestBytes / 4096);
  if (spec.target === 'address' && spec.address! >= guestBytes) {
    throw new MemvisorError(
      `--inject '${spec.source}': address 0x${spec.address!.toString(16)} is outside guest memory (0..0x${(guestBytes - 1).toString(16)})`,
    );
  }
  if (spec.count > pages) {
    throw new MemvisorError(`--inject '${spec.source}': count=${spec.count} is more than the ${pages} pages of guest memory`);
  }
}
