/**
 * How a fault-injection run ends. When several apply, the worst wins, in the order
 * below (worst first), so one bad event can never be hidden behind a good one.
 */
export const OUTCOMES_WORST_FIRST = [
  'sdc',                     // a "successful" run whose output or data differ from the golden run, nothing detected
  'crash',                   // guest panic, triple fault, unexpected trap with no explicit fatal decision
  'hang',                    // not done within the time bound
  'fail-stop',               // declared unrecoverable with an explicit diagnostic (safe)
  'recovered-degraded',      // outputs correct, but something was lost (a process killed, redundancy gone)
  'latent',                  // outputs correct, but an audit finds mirror != native or a bad frame still mapped
  'recovered-by-guest',      // the guest's machine-check handler repaired the page from its mirror, nothing lost
  'recovered-transparent',   // the monitor replaced the frame and refilled it from the twin; the guest saw nothing
  'masked',                  // the bad data never reached the guest: it was overwritten before use
  'not-activated',           // the fault was never consumed
] as const;

export type Outcome = (typeof OUTCOMES_WORST_FIRST)[number];

const severity = new Map<Outcome, number>(
  OUTCOMES_WORST_FIRST.map((outcome, index) => [outcome, OUTCOMES_WORST_FIRST.length - index]),
);

/** The worst of the outcomes observed in one run ('not-activated' when there are none). */
export function worstOutcome(outcomes: Iterable<Outcome>): Outcome {
  let worst: Outcome = 'not-activated';
  for (const outcome of outcomes) {
    if (severity.get(outcome)! > severity.get(worst)!) worst = outcome;
  }
  return worst;
}

export function isOutcome(text: string): text is Outcome {
  return severity.has(text as Outcome);
}

/**
 * Wilson score interval for a proportion (successes of trials) at 95% confidence:
 * honest for rare outcomes, where the normal approximation is not (0 of n gives an
 * upper bound near 3/n, not 0).
 */
export function wilsonInterval(successes: number, trials: number, z = 1.959964): { low: number; high: number } {
  if (trials === 0) return { low: 0, high: 1 };
  const p = successes / trials;
  const z2 = z * z;
  const centre = (p + z2 / (2 * trials)) / (1 + z2 / trials);
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / (1 + z2 / trials);
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** What the monitor observed in one run, from which its outcome class follows. */
export interface RunObservations {
  /** The workload finished, the time limit came first, or the machine stopped by itself. */
  end: 'completed' | 'timeout' | 'machine-stopped';
  /** Machine checks the processor was given (a stop after one is a declared, explicit stop). */
  machineChecks: number;
  /** Reads of lost data, and poisoned frames rewritten before any read. */
  activated: number;
  overwritten: number;
  recoveredByMonitor: number;
  /** What the guest reported: pages it recovered from a mirror, processes it killed. */
  recoveredByGuest: number;
  killedByGuest: number;
  /** Page pairs the scrubber found different. */
  detectedUncorrectable: number;
  /** The workload's output equals the fault-free golden run's; undefined without a golden run. */
  matchesGolden?: boolean;
}

/** The outcome class of one run: the worst of everything that applies. */
export function classifyRun(o: RunObservations): Outcome {
  const seen: Outcome[] = [];
  // Silent means undetected: when MemV6 killed a process for lost data, the output may
  // well differ (a parent reports its killed child), but the error was announced.
  if (o.end === 'completed' && o.matchesGolden === false && o.killedByGuest === 0) seen.push('sdc');
  if (o.end === 'timeout') seen.push('hang');
  if (o.end === 'machine-stopped') seen.push(o.machineChecks > 0 ? 'fail-stop' : 'crash');
  if (o.killedByGuest > 0) seen.push('recovered-degraded');
  if (o.detectedUncorrectable > 0) seen.push('latent');
  if (o.recoveredByGuest > 0) seen.push('recovered-by-guest');
  if (o.recoveredByMonitor > 0) seen.push('recovered-transparent');
  if (o.activated + o.overwritten > 0) seen.push('masked');
  return worstOutcome(seen);
}
