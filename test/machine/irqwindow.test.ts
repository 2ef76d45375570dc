/**
 * The interrupt-window test kernel (test/machine/irqwindow): where an interrupt made
 * pending while IF=0 is taken when the kernel opens short windows (sti; nop×k; cli, popf,
 * iret, MOV SS in the STI shadow), timers firing into windows of 1-8 instructions, a
 * spin lock that reads the local APIC ID, and the idle loop of a kernel that never halts.
 * qemu-system-i386 and memvisor, on each CPU tier, must print the same, every check ok;
 * the three tiers must also end in the same state, instruction for instruction.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { buildTestKernel, CPU_TIERS, repoRoot, scratch, useTier } from '../support/build.js';
import { runMemvisor, writePatternDisk } from '../support/machine.js';
import { requireQemuSystem, runQemuSystem } from '../support/qemu.js';

const dir = scratch('irqwindow');
const QEMU_TRIES = 3;

test('interrupt windows: the test kernel prints the same on qemu-system-i386 and on every memvisor CPU tier, all checks ok', async (t) => {
  requireQemuSystem();
  const kernel = buildTestKernel(join(repoRoot, 'test', 'machine', 'irqwindow', 'irqwindow.c'), join(dir, 'irqwindow.elf'));
  const hda = writePatternDisk(join(dir, 'hda.img'), 64 * 1024);
  // QEMU ran the timers in host time: on a busy host it lost ticks (the timer checks
  // failed) and, now and then, its PIT channel 0 read the same count for good, so the timer
  // test's wait for 10 PIT periods never ended (caught with six QEMUs beside a CPU hog on 2
  // cores: periods_seen 0 and last_count 7228 in two looks 4 s apart, through QEMU's
  // monitor; 2026-12-05, a clean-clone CI run failed all three tries). With `-icount
  // shift=auto` QEMU's clock follows the instructions it runs: beside three CPU hogs on 2
  // cores, 55 of 55 runs finished against 23 of 25 without it. What the test compares
  // (where an interrupt is taken, counts within ranges) does not depend on the clock's
  // source. The oracle still gets three tries of 20 s; memvisor (virtual time) gets one.
  let qemu: Awaited<ReturnType<typeof runQemuSystem>> | undefined;
  let expected = '';
  for (let attempt = 1; attempt <= QEMU_TRIES; attempt++) {
    qemu = await runQemuSystem({
      kernel, hda, memMiB: 64, until: /DONE\r?\n/, timeoutMs: 20_000,
      extraArgs: ['-device', 'isa-debug-exit,iobase=0xf4,iosize=4', '-icount', 'shift=auto'],
    });
    const full = qemu.output.replace(/\r/g, '');
    expected = full.slice(full.indexOf('memvisor interrupt-window tests'));
    if (qemu.matched && !/=FAIL/.test(expected)) break;
    t.diagnostic(`QEMU try ${attempt} of ${QEMU_TRIES}: ${qemu.matched ? 'a check failed' : 'did not finish in 20 s'}; last line: ${expected.trim().split('\n').pop()}`);
  }
  assert.ok(qemu!.matched, `the interrupt-window kernel did not finish on QEMU in ${QEMU_TRIES} tries:\n${qemu!.output}`);
  assert.doesNotMatch(expected, /=FAIL/, `a check failed on QEMU in each of ${QEMU_TRIES} tries:\n${expected}`);
  const states = new Map<string, string>();
  for (const [tier, threshold, engine] of CPU_TIERS) {
    const ours = await runMemvisor({
      kernel, hda, memoryMiB: 64, debugExit: true, until: /DONE\n/, timeoutMs: 120_000,
      setup: ({ pc }) => useTier(pc.cpu, threshold, engine),
    });
    assert.equal(ours.output.replace(/\r/g, ''), expected, `memvisor (${tier}) differs from QEMU`);
    const pc = ours.pc;
    const state = `${pc.cpu.instructionCount} instructions, ${pc.exits.interrupts} interrupts, ${pc.exits.halts} halts, ` +
      `memory ${createHash('sha256').update(pc.mem.ram).digest('hex').slice(0, 16)}`;
    states.set(tier, state);
    t.diagnostic(`${tier}: ${state}, ${pc.exits.mmioRead} MMIO reads, ${ours.wallSeconds.toFixed(2)} s`);
  }
  assert.equal(new Set(states.values()).size, 1, `the CPU tiers ended in different states:\n${[...states].join('\n')}`);
  t.diagnostic(`${expected.split('\n').length - 2} lines compared; QEMU ${qemu!.seconds.toFixed(2)} s`);
});
