/**
 * The machine a run plan boots, as the page's worker builds it: MemV6's images for the
 * plan's mode (the page fetches them, `bench web` reads the same files), the mode's
 * memory size, the reproducible RTC date and the plan's faults. (Apart from run-plan.ts,
 * which the page itself loads, so that the page does not bundle the machine.)
 */
import { parseInjectionSpec } from '../faults/index.js';
import { REPRODUCIBLE_EPOCH } from '../virtual-time.js';
import { createMonitor, machineMemoryMiB, MEMV6_IMAGES, type Monitor } from '../vmm/index.js';
import type { RunPlan } from './run-plan.js';

/** The image file names the plan's mode boots. */
export const planImages = (plan: RunPlan) => ({ kernel: MEMV6_IMAGES.kernel(plan.mirror), disk: MEMV6_IMAGES.disk(plan.mirror) });

export function planMonitor(plan: RunPlan, kernel: Uint8Array, disk: Uint8Array): Monitor {
  const names = planImages(plan);
  return createMonitor({
    machine: { boot: { kernel: { name: names.kernel, bytes: kernel }, hdb: { name: names.disk, bytes: disk }, memoryMiB: machineMemoryMiB(plan.mirror), rtcStart: REPRODUCIBLE_EPOCH } },
    mirror: plan.mirror,
    faults: plan.faults.map((f) => parseInjectionSpec(f, plan.seed)),
  });
}
