/**
 * Determinism and snapshots on MemV6: two runs with the same inputs are identical
 * instruction for instruction (console, instruction count, virtual time, memory, disks);
 * a machine saved mid-run and restored continues exactly as the original did.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PC } from '../../src/machine/pc.js';
import { CPU_TIERS, scratch, useTier, type BlockEngine } from '../support/build.js';
import { runMemvisor, type MemvisorResult } from '../support/machine.js';
import { guestDisk, guestKernel, SHELL_PROMPT } from '../guest/scenarios.js';

const dir = scratch('determinism');
/** A workload with disk I/O, several processes, pipes and timer interrupts. */
const WORK = ['stressfs; echo x | wc; forktest\n', 'echo finished\n'];
const UNTIL = /(^|\n)finished\r?\n/;

function fingerprint(pc: PC): Record<string, string | number> {
  const hash = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  return {
    instructions: pc.cpu.instructionCount,
    cycles: pc.now(),
    eip: pc.cpu.eip >>> 0,
    memory: hash(pc.mem.ram),
    hdb: hash(pc.ide.drives[1]!.data),
  };
}

function requireGuest(): void {
  for (const file of [guestKernel, guestDisk]) assert.ok(existsSync(file), `${file} is missing: run \`npm install\``);
}

test('determinism: two runs with the same inputs are identical, instruction for instruction', async (t) => {
  requireGuest();
  const run = () => runMemvisor({ kernel: guestKernel, hdb: guestDisk, send: WORK, prompt: SHELL_PROMPT, until: UNTIL, timeoutMs: 120_000 });
  const a = await run();
  const b = await run();
  assert.ok(a.matched && b.matched, a.output);
  assert.match(a.output, /stressfs ok/);
  assert.equal(b.output, a.output);
  assert.deepEqual(fingerprint(b.pc), fingerprint(a.pc));
  t.diagnostic(`${a.pc.cpu.instructionCount} instructions, ${a.pc.exits.interrupts} interrupts in each run`);
});

/**
 * The CPU tiers: the interpreter alone, every block compiled at first sight (JavaScript),
 * the default (WebAssembly blocks, translations made into modules of several), and
 * JavaScript blocks at the default threshold.
 */
const TIERS: ReadonlyArray<readonly [string, number | undefined, BlockEngine]> = [
  ...CPU_TIERS.filter(([, , engine]) => engine !== 'eager wasm'), ['JavaScript blocks', undefined, 'js'],
];

/** The same session on each CPU tier: the same console and state; the runs by tier name, with their wall seconds. */
async function onEveryTier(work: string[], cmdline?: string): Promise<Map<string, { run: MemvisorResult; seconds: number }>> {
  const runs = new Map<string, { run: MemvisorResult; seconds: number }>();
  for (const [tier, threshold, engine] of TIERS) {
    const started = performance.now();
    const run = await runMemvisor({
      kernel: guestKernel, hdb: guestDisk, cmdline, send: work, prompt: SHELL_PROMPT, until: UNTIL, timeoutMs: 300_000,
      setup: ({ pc }) => useTier(pc.cpu, threshold, engine),
    });
    assert.ok(run.matched, `${tier}: ${run.output}`);
    runs.set(tier, { run, seconds: (performance.now() - started) / 1000 });
  }
  const wasm = runs.get('default')!.run.pc.cpu.blocks.wasm!.stats;
  assert.ok(wasm.translated > 100 && wasm.dispatches > 10_000, `the WebAssembly tier ran too little: ${JSON.stringify(wasm)}`);
  assert.equal(runs.get('JavaScript blocks')!.run.pc.cpu.blocks.wasm, null, 'JavaScript blocks: no WebAssembly tier');
  const [[firstTier, { run: first }], ...rest] = [...runs];
  for (const [tier, { run }] of rest) {
    assert.equal(run.output, first.output, `${tier}: the console differs from ${firstTier}'s`);
    assert.deepEqual(fingerprint(run.pc), fingerprint(first.pc), `${tier}: the state differs from ${firstTier}'s`);
  }
  return runs;
}

test('CPU tiers: the interpreter alone, eager blocks, WebAssembly and JavaScript blocks give the same run, instruction for instruction', async (t) => {
  requireGuest();
  // WORK plus sub-tests where user code faults (page faults, bad pointers) inside compiled blocks.
  const work = [WORK[0]!, 'usertests stackguard unmapped badptr kernelread sbrkfork pipebig\n', ...WORK.slice(1)];
  const runs = await onEveryTier(work);
  const { run, seconds } = runs.get('default')!;
  assert.match(run.output, /ALL TESTS PASSED/);
  const w = run.pc.cpu.blocks.stats;
  const js = runs.get('JavaScript blocks')!;
  const s = js.run.pc.cpu.blocks.stats;
  assert.ok(s.compiled > 100, `blocks compiled: ${s.compiled}`);
  // A block waiting for its module is interpreted; were it left waiting, addresses inside it
  // would count towards blocks of their own (517 blocks instead of 450 before WasmTier.needed).
  assert.ok(w.compiled <= s.compiled * 1.05, `the WebAssembly tier compiled ${w.compiled} blocks, the JavaScript tier ${s.compiled}`);
  t.diagnostic(`default (WebAssembly): ${w.compiled} blocks compiled, ${w.invalidated} dropped, ${JSON.stringify(run.pc.cpu.blocks.wasm!.stats)}, ${seconds.toFixed(1)} s; ` +
    `eager: ${runs.get('eager JavaScript blocks')!.run.pc.cpu.blocks.stats.compiled} compiled; ` +
    `JavaScript: ${s.compiled} compiled, ${s.invalidated} dropped, ${js.seconds.toFixed(1)} s`);
});

test('CPU tiers, idle=spin: a kernel that never halts, taking its interrupts in short sti...cli windows, gives the same run on every tier', async (t) => {
  requireGuest();
  const { run } = (await onEveryTier(WORK, 'idle=spin')).get('default')!;
  assert.match(run.output, /MemV6 options: .*idle=spin/);
  assert.match(run.output, /stressfs ok/);
  assert.equal(run.pc.exits.halts, 0, 'the kernel halted');
  assert.ok(run.pc.exits.mmioRead > 10_000, `local APIC reads: ${run.pc.exits.mmioRead}`);
  t.diagnostic(`${run.pc.cpu.instructionCount} instructions, ${run.pc.exits.interrupts} interrupts, ${run.pc.exits.mmioRead} MMIO reads, no halts`);
});

test('snapshot: save mid-run, restore, continue: identical to the uninterrupted run', async () => {
  requireGuest();
  const file = join(dir, 'mid.snap');
  // The uninterrupted run saves a snapshot while stressfs is busy and goes on to the end.
  const a = await runMemvisor({
    kernel: guestKernel, hdb: guestDisk, send: WORK, prompt: SHELL_PROMPT, until: UNTIL, timeoutMs: 120_000,
    session: { snapshotAt: /stressfs starting/, snapshotFile: file },
  });
  assert.ok(a.matched && a.snapshotTaken, a.output);
  // The restored machine continues from there; the text still to be typed is typed at the same prompt.
  const b = await runMemvisor({ restore: file, until: UNTIL, timeoutMs: 120_000, send: WORK.slice(1), prompt: SHELL_PROMPT });
  assert.equal(b.outcome, 'matched', b.output);
  assert.match(b.transcript.slice(0, -b.output.length), /stressfs starting/, 'the restored transcript');
  assert.equal(b.transcript, a.output, 'the console after the restore point differs');
  assert.deepEqual(fingerprint(b.pc), fingerprint(a.pc));
});
