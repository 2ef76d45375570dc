/** Silent data corruption is decided against the fault-free run: exact when nothing was detected, no unknown line when something was. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { differenceFromGolden } from '../../src/campaign/experiment.js';
import { buildImage, fileTreeDigest } from '../../src/fs/index.js';

const file = (path: string, text: string) => ({ path, content: new TextEncoder().encode(text) });
const options = { size: 400, ninodes: 64, output: 'test.img' };
const disk = buildImage([file('a', 'alpha'), file('b', 'beta'.repeat(600))], options);
const golden = {
  startup: 'MemV6 booting\ninit: starting sh\n$ ',
  output: 'forktest; echo done\nfork test\nfork test OK\ndone\n$ ',
  files: fileTreeDigest(disk),
};
const prompt = /\$ /;

test('golden: a run that detected nothing must print exactly the fault-free output and leave the same disk', () => {
  assert.equal(differenceFromGolden(golden, golden.output, disk, false, prompt), null);
  assert.equal(differenceFromGolden(golden, golden.output.replace('mce: x\n', ''), disk, false, prompt), null);
  assert.equal(differenceFromGolden(golden, `mce: pid 3 (sh): page 0x1000 recovered from its mirror\n${golden.output}`, disk, false, prompt), null, 'kernel diagnostics are not output');
  assert.match(differenceFromGolden(golden, golden.output.replace('fork test OK', 'fork test 0K'), disk, false, prompt)!, /line 3: "fork test 0K" where the fault-free run printed "fork test OK"/);
  assert.match(differenceFromGolden(golden, golden.output.replace('\ndone\n', '\n'), disk, false, prompt)!, /line 4/);
  // The same files laid out in other blocks and inodes are the same disk; other content is not.
  const reordered = buildImage([file('b', 'beta'.repeat(600)), file('a', 'alpha')], options);
  assert.notDeepEqual(reordered, disk);
  assert.equal(differenceFromGolden(golden, golden.output, reordered, false, prompt), null);
  assert.match(differenceFromGolden(golden, golden.output, buildImage([file('a', 'alphA'), file('b', 'beta'.repeat(600))], options), false, prompt)!, /files on the disk differ/);
  const damaged = disk.slice();
  damaged.fill(0xff, 1024, 2048);  // the superblock
  assert.match(differenceFromGolden(golden, golden.output, damaged, false, prompt)!, /files on the disk differ .*unreadable/);
});

test('golden: a run whose error was detected may print less, but no line the system never printed', () => {
  assert.equal(differenceFromGolden(golden, 'forktest; echo done\nfork test\n', null, true, prompt), null);
  assert.equal(differenceFromGolden(golden, 'forktest; echo done\nfork te', null, true, prompt), null, 'a line cut short');
  assert.equal(differenceFromGolden(golden, 'forktest; echo done\ninit: starting sh\n$ fork test\n', null, true, prompt), null, 'the shell restarted');
  assert.match(differenceFromGolden(golden, 'forktest; echo done\nfork test KO\n', null, true, prompt)!, /never printed: "fork test KO"/);
});
