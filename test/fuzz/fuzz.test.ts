/**
 * The short fuzzing pass (`npm run fuzz -- --cases N` is the long one): every kind of input
 * a user or a guest gives memvisor — ELF programs and kernels, file-system images (to the
 * fs tools and to MemV6 booting them), the same with a few named fields edited (fast-check),
 * snapshots, --inject specs, campaign files, numeric options on the command line, random guest code at ring 0 and 3 on two CPU
 * tiers, a guest writing random values to every device's ports and MMIO registers — mutated from real files by a seeded generator. No case may crash the host (an
 * exception other than a one-line MemvisorError, or the tiers disagreeing) or hang; a
 * failure names the command that replays it. MEMVISOR_FUZZ_SEED picks another seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSummary, fuzz } from './harness.js';
import { caseRandom } from './harness.js';
import { applyEdits, checkStructured, describeEdits, editsOf } from './structured.js';
import { bootFuzzImage, fsFields, TARGETS } from './targets.js';

const SEED = Number(process.env.MEMVISOR_FUZZ_SEED ?? 22);
const CASES: Record<string, number> = {
  elf: 60, 'elf-fields': 60, fs: 100, 'fs-fields': 100, boot: 40, 'boot-fields': 12, snapshot: 30, inject: 300, campaign: 100, options: 12, code: 60, devices: 15,
};

for (const kind of Object.keys(TARGETS)) {
  test(`fuzz ${kind}: ${CASES[kind]} hostile inputs (seed ${SEED}), no host crash and no hang`, { timeout: 600_000 }, async (t) => {
    const summary = await fuzz(kind, SEED, 0, CASES[kind]!, 60_000);
    t.diagnostic(formatSummary(summary));
    assert.deepEqual(summary.failures, [], `${kind}: host crashes or hangs:\n${summary.failures.join('\n')}`);
    assert.ok(summary.counts.size > 1 || kind === 'campaign', `${kind}: every case ended the same way (${[...summary.counts.keys()].join(', ')}): the inputs reach too little`);
  });
}

test('structure-aware cases shrink: a failure reports the smallest list of edits that still fails, and the case replays', async () => {
  const image = bootFuzzImage();
  const fields = fsFields(image);
  // A planted bug: any edit of an inode's size "crashes the host".
  let generated = 0;   // how many edits the case's generated list had
  const check = (edits: { field: string }[]) => {
    generated ||= edits.length;
    if (edits.some((e) => /^inode\[\d+\]\.size$/.test(e.field))) throw new Error('planted');
    applyEdits(image, edits as never);
    return 'accepted';
  };
  let failure: Error | null = null, index = 0;
  for (; index < 500 && !failure; index++) {
    generated = 0;
    try { await checkStructured(caseRandom(SEED, index), editsOf(image, fields, 6), describeEdits, check); } catch (e) { if (generated > 1) failure = e as Error; }
  }
  assert.ok(failure, 'no case edited an inode size among other fields');
  assert.match(failure.message, /^planted\n  generated: fast-check seed -?\d+; shrunk in \d+ steps to: inode\[\d+\]\.size=0x[0-9a-f]+$/);   // one edit left of up to six
  // The same case fails the same way again.
  await assert.rejects(checkStructured(caseRandom(SEED, index - 1), editsOf(image, fields, 6), describeEdits, check), { message: failure.message });
});

test('devices: a guest that sends the 8042 0x20,000 commands without reading the answers cannot slow the host (case 8564 of seed 7 ran past the 60 s watchdog)', async () => {
  const { Keyboard8042 } = await import('../../src/machine/kbd.js');
  const kbd = new Keyboard8042({ setIrq: () => {} });
  for (let i = 0; i < 0x20000; i++) kbd.portWrite(0x60, 1, 0xf6);  // "set defaults": each answered 0xfa
  let answers = 0;
  while (kbd.portRead(0x64, 1) & 1) { assert.equal(kbd.portRead(0x60, 1), 0xfa); answers++; }
  assert.ok(answers >= 1 && answers <= 16, `${answers} answers wait at port 0x60`);
  const typed = 'hello world, typed by the host and longer than sixteen keys';
  assert.equal(kbd.type(typed), typed.length);  // keys the host types are not bounded
  let keys = 0;
  while (kbd.portRead(0x64, 1) & 1) { kbd.portRead(0x60, 1); keys++; }
  assert.ok(keys >= typed.length * 2, `${keys} scancodes for ${typed.length} keys`);
  const summary = await fuzz('devices', 7, 8564, 1, 60_000);
  assert.deepEqual(summary.failures, []);
});
