/** Fault models, seeded injection plans and run outcomes (see DESIGN "Faults"). */
export { SeededRandom } from './random.js';
export { OUTCOMES_WORST_FIRST, worstOutcome, isOutcome, wilsonInterval } from './outcome.js';
export type { Outcome } from './outcome.js';
export { FAULT_KINDS, FAULT_TARGETS, parseInjectionSpec, checkInjectionFitsMachine } from './spec.js';
export type { FaultKind, FaultTarget, FaultTrigger, InjectionSpec } from './spec.js';
