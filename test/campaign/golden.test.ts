/** Silent data corruption is decided against the fault-free run: exact when nothing was detected, no unknown line when something was. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { differenceFromGolden } from '../../src/campaign/experiment.js';

const disk = new Uint8Array([1, 2, 3]);
const golden = {
  startup: 'MemV6 booting\ninit: starting sh\n$ ',
  output: 'forktest; echo done\nfork test\nfork test OK\ndone\n$ ',
  diskSha256: createHash('sha256').update(disk).digest('hex'),
};
const prompt = /\$ /;

test('golden: a run that detected nothing must print exactly the fault-free output and leave the same disk', () => {
  assert.equal(differenceFromGolden(golden, golden.output, disk, false, prompt), null);
  assert.equal(differenceFromGolden(golden, golden.output.replace('mce: x\n', ''), disk, false, prompt), null);
  assert.equal(differenceFromGolden(golden, `mce: pid 3 (sh): page 0x1000 recovered from its mirror\n${golden.output}`, disk, false, prompt), null, 'kernel diagnostics are not output');
  assert.match(differenceFromGolden(golden, golden.output.replace('fork test OK', 'fork test 0K'), disk, false, prompt)!, /line 3: "fork test 0K" where the fault-free run printed "fork test OK"/);
  assert.match(differenceFromGolden(golden, golden.output.replace('\ndone\n', '\n'), disk, false, prompt)!, /line 4/);
  assert.match(differenceFromGolden(golden, golden.output, new Uint8Array([1, 2, 4]), false, prompt)!, /disk differs/);
});

test('golden: a run whose error was detected may print less, but no line the system never printed', () => {
  assert.equal(differenceFromGolden(golden, 'forktest; echo done\nfork test\n', null, true, prompt), null);
  assert.equal(differenceFromGolden(golden, 'forktest; echo done\nfork te', null, true, prompt), null, 'a line cut short');
  assert.equal(differenceFromGolden(golden, 'forktest; echo done\ninit: starting sh\n$ fork test\n', null, true, prompt), null, 'the shell restarted');
  assert.match(differenceFromGolden(golden, 'forktest; echo done\nfork test KO\n', null, true, prompt)!, /never printed: "fork test KO"/);
});
