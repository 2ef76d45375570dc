import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemvisorError } from '../../src/errors.js';
import { checkInjectionFitsMachine, parseInjectionSpec } from '../../src/faults/index.js';

test('the issue example parses to a seeded user-native poison of 100 pages', () => {
  const spec = parseInjectionSpec('poison:target=user-native,count=100,seed=1');
  assert.equal(spec.kind, 'poison');
  assert.equal(spec.target, 'user-native');
  assert.equal(spec.count, 100);
  assert.equal(spec.seed, 1);
  assert.deepEqual(spec.trigger, { kind: 'random', from: 0, to: 100_000_000 });
});

test('defaults: one user-native frame, the run seed, a random cycle', () => {
  const spec = parseInjectionSpec('flip', 42);
  assert.deepEqual(
    { target: spec.target, count: spec.count, bits: spec.bits, seed: spec.seed, trigger: spec.trigger.kind },
    { target: 'user-native', count: 1, bits: 1, seed: 42, trigger: 'random' },
  );
});

test('explicit address, cycle trigger, console trigger and window', () => {
  const address = parseInjectionSpec('poison:addr=0x200000,at=5000000');
  assert.equal(address.target, 'address');
  assert.equal(address.address, 0x200000);
  assert.deepEqual(address.trigger, { kind: 'cycle', at: 5_000_000 });
  const consoleTrigger = parseInjectionSpec('corrupt-line:target=kernel,match=usertests starting');
  assert.deepEqual(consoleTrigger.trigger, { kind: 'console', text: 'usertests starting' });
  const windowed = parseInjectionSpec('stuck:target=both,bits=3,at=random,window=100-200');
  assert.deepEqual(windowed.trigger, { kind: 'random', from: 100, to: 200 });
  assert.equal(windowed.bits, 3);
});

const refusals: Array<[string, RegExp]> = [
  ['melt:target=kernel', /unknown fault kind 'melt'/],
  ['poison:target=ssd', /unknown target 'ssd'/],
  ['poison:colour=red', /unknown key 'colour'/],
  ['poison:count=0', /count=0 is out of range/],
  ['poison:count=ten', /count=ten is not a number/],
  ['poison:count=1,count=2', /'count' given twice/],
  ['poison:target=kernel,addr=0x1000', /either target= or addr=/],
  ['poison:addr=0x1000,count=2', /count must be 1/],
  ['poison:bits=2', /bits= applies to flip and stuck/],
  ['flip:match=x,at=5', /cannot be combined/],
  ['flip:window=9-3', /empty or too large/],
  ['flip:at=7,window=1-9', /only to at=random/],
  ['poison:target', /is not key=value/],
];
for (const [source, message] of refusals) {
  test(`refused with one line: ${source}`, () => {
    assert.throws(() => parseInjectionSpec(source), (error: unknown) => {
      assert.ok(error instanceof MemvisorError);
      assert.match(error.message, message);
      assert.ok(!error.message.includes('\n'));
      assert.equal(error.exitCode, 2);
      return true;
    });
  });
}

test('machine checks: an address outside guest memory and too many pages are refused', () => {
  const mib = 1024 * 1024;
  assert.throws(() => checkInjectionFitsMachine(parseInjectionSpec('poison:addr=0x10000000'), 128 * mib), /outside guest memory/);
  assert.throws(() => checkInjectionFitsMachine(parseInjectionSpec('poison:count=40000'), 128 * mib), /more than the 32768 pages/);
  checkInjectionFitsMachine(parseInjectionSpec('poison:addr=0x7fff000'), 128 * mib);
});
