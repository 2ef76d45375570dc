/** Fault models, seeded injection plans and their scheduling, and run outcomes (see DESIGN "Faults"). */
export { SeededRandom } from './random.js';
export { OUTCOMES_WORST_FIRST, worstOutcome, isOutcome, wilsonInterval, classifyRun } from './outcome.js';
export type { Outcome, RunObservations } from './outcome.js';
export { FAULT_KINDS, FAULT_TARGETS, parseInjectionSpec, checkInjectionFitsMachine } from './spec.js';
export type { FaultKind, FaultTarget, FaultTrigger, InjectionSpec } from './spec.js';
export { FaultInjector, landsAtSystemCall, type Candidates, type FaultTargets } from './injector.js';
export { applyFault } from './models.js';
