/**
 * A hostile guest whose one `rep lodsb` reads 4 GiB of unassigned memory (element by
 * element on the host, about a millisecond per 4096) must not hold memvisor: the CPU
 * yields to the host between chunks once a slice has run for its host time, so
 * --timeout ends the run on time (it once ran for hours inside one slice), and a run that
 * yielded is the same run as one that never did (issue 22 item 4).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildTestKernel, repoRoot, scratch } from '../support/build.js';
import { runMemvisor, TEST_RTC } from '../support/machine.js';
import { createMonitor } from '../../src/vmm/index.js';

const dir = scratch('machine-longrep');
const ESI = 6, ECX = 1;

test('a guest in a 4 GiB rep lodsb from unassigned memory stops at --timeout, and yielding does not change its run', { timeout: 300_000 }, async (t) => {
  const kernel = buildTestKernel(join(repoRoot, 'test', 'machine', 'longrep', 'longrep.c'), join(dir, 'longrep.elf'));

  const timed = await runMemvisor({ kernel, until: /long rep ended/, timeoutMs: 2000 });
  assert.equal(timed.outcome, 'timeout', `outcome ${timed.outcome}:\n${timed.transcript}`);
  assert.match(timed.transcript, /long rep starts/);
  // Liveness, not speed: without yielding, the first slice alone takes the host about 1000 s.
  assert.ok(timed.wallSeconds < 60, `--timeout 2 s took ${timed.wallSeconds.toFixed(1)} s to end the run`);

  // The same number of cycles with yields inside slices (a session) and without (one pc.run).
  const limited = await runMemvisor({ kernel, until: /long rep ended/, timeoutMs: 600_000, session: { maxCycles: 3000 } });
  assert.equal(limited.outcome, 'limit', limited.transcript);
  const cycles = limited.pc.now();
  const plain = createMonitor({ machine: { boot: { kernel, memoryMiB: 128, rtcStart: TEST_RTC } }, mirror: 'off' });
  plain.pc.run(cycles);
  const state = (pc: typeof plain.pc) =>
    `cycle ${pc.now()}, ${pc.cpu.instructionCount} instructions, esi ${(pc.cpu.reg[ESI]! >>> 0).toString(16)}, ecx ${(pc.cpu.reg[ECX]! >>> 0).toString(16)}`;
  assert.equal(state(limited.pc), state(plain.pc), 'a run that yielded to the host ended elsewhere');
  assert.ok((limited.pc.cpu.reg[ECX]! >>> 0) < 0xffffffff - 1000 * 4096, `the rep barely ran: ${state(limited.pc)}`);
  t.diagnostic(`${state(limited.pc)}; --timeout 2 s ended the run after ${timed.wallSeconds.toFixed(1)} s`);
});
