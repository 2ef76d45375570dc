/**
 * The monitor's shape: listeners run in the order of LISTENER_ORDER whoever attaches
 * first; the one composition point attaches what each mode needs and nothing else; the
 * outcome classes follow from what the monitor observed, the worst first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Listeners } from '../../src/cpu/listeners.js';
import { classifyRun, type RunObservations } from '../../src/faults/index.js';
import { createMonitor } from '../../src/vmm/index.js';
import { guestDisk, guestKernel } from '../guest/scenarios.js';
import { TEST_RTC } from '../support/machine.js';

test('listeners run in ascending order whatever the order they were added in; true stops the list', () => {
  const calls: string[] = [];
  const list = new Listeners<[number]>();
  assert.equal(list.dispatch, null, 'an empty list costs a null test');
  list.add(20, 'second', (n) => { calls.push(`second ${n}`); });
  const removeFirst = list.add(10, 'first', (n) => { calls.push(`first ${n}`); });
  assert.deepEqual(list.names, ['first', 'second']);
  list.dispatch!(1);
  assert.deepEqual(calls, ['first 1', 'second 1']);
  list.add(15, 'handler', () => true);
  calls.length = 0;
  assert.equal(list.dispatch!(2), true);
  assert.deepEqual(calls, ['first 2'], 'a listener that handles the event stops the ones after it');
  removeFirst();
  assert.deepEqual(list.names, ['handler', 'second']);
  assert.throws(() => list.add(20, 'clash', () => {}), /second and clash both have order 20/);
});

test('createMonitor attaches each part where LISTENER_ORDER says, and only what the mode needs', () => {
  const boot = { kernel: guestKernel, hdb: guestDisk, memoryMiB: 32, rtcStart: TEST_RTC };
  const guest = createMonitor({ machine: { boot }, mirror: 'guest' });
  assert.deepEqual(guest.pc.cpu.cr3Listeners.names, ['address spaces', 'mirror statistics']);
  assert.deepEqual(guest.pc.cpu.softwareInterruptListeners.names, ['scrubber', 'fault landing']);
  assert.deepEqual(guest.pc.defects.consumedListeners.names, ['monitor recovery', 'memory events']);
  assert.deepEqual(guest.injector.injectedListeners.names, ['memory events']);
  assert.deepEqual(guest.pc.mem.writeListeners.names, [], 'guest mode hooks no writes');
  const hardware = createMonitor({ machine: { boot }, mirror: 'hardware', recovery: 'guest' });
  assert.deepEqual(hardware.pc.mem.writeListeners.names, ['hardware mirror']);
  assert.deepEqual(hardware.pc.defects.consumedListeners.names, ['memory events'], 'with --recovery guest every consumed error is a machine check');
  assert.deepEqual(hardware.pc.cpu.cr3Listeners.names, ['address spaces']);
  // Host memory: guest + spare (+ a second copy of the guest for the hardware mirror).
  assert.equal(guest.pc.mem.ram.length, (32 + 16) << 20);
  assert.equal(hardware.pc.mem.ram.length, (32 + 16 + 32) << 20);
  assert.equal(hardware.hardware!.base, (32 + 16) << 8);
  assert.equal(hardware.spare.left, 16 << 8);
});

test('outcome classes: the worst observation wins, in the documented order', () => {
  const quiet: RunObservations = { end: 'completed', machineChecks: 0, activated: 0, overwritten: 0, recoveredByMonitor: 0, recoveredByGuest: 0, killedByGuest: 0, detectedUncorrectable: 0 };
  assert.equal(classifyRun(quiet), 'not-activated');
  assert.equal(classifyRun({ ...quiet, overwritten: 1 }), 'masked');
  assert.equal(classifyRun({ ...quiet, activated: 3, recoveredByMonitor: 3 }), 'recovered-transparent');
  assert.equal(classifyRun({ ...quiet, activated: 3, machineChecks: 1, recoveredByGuest: 1 }), 'recovered-by-guest');
  assert.equal(classifyRun({ ...quiet, activated: 3, machineChecks: 1, recoveredByGuest: 1, recoveredByMonitor: 2 }), 'recovered-by-guest');
  assert.equal(classifyRun({ ...quiet, activated: 2, recoveredByMonitor: 1, detectedUncorrectable: 1 }), 'latent');
  assert.equal(classifyRun({ ...quiet, activated: 2, recoveredByMonitor: 1, killedByGuest: 1 }), 'recovered-degraded');
  assert.equal(classifyRun({ ...quiet, end: 'machine-stopped', machineChecks: 1, activated: 1 }), 'fail-stop');
  assert.equal(classifyRun({ ...quiet, end: 'machine-stopped' }), 'crash');
  assert.equal(classifyRun({ ...quiet, end: 'timeout', activated: 1, recoveredByMonitor: 1 }), 'hang');
  assert.equal(classifyRun({ ...quiet, activated: 1, recoveredByMonitor: 1, matchesGolden: false }), 'sdc');
  assert.equal(classifyRun({ ...quiet, activated: 1, recoveredByMonitor: 1, matchesGolden: true }), 'recovered-transparent');
});
