import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom, wilsonInterval, worstOutcome } from '../../src/faults/index.js';

test('the worst outcome wins, in the documented order', () => {
  assert.equal(worstOutcome([]), 'not-activated');
  assert.equal(worstOutcome(['recovered-transparent', 'masked']), 'recovered-transparent');
  assert.equal(worstOutcome(['recovered-transparent', 'latent']), 'latent');
  assert.equal(worstOutcome(['fail-stop', 'recovered-degraded', 'hang']), 'hang');
  assert.equal(worstOutcome(['crash', 'sdc', 'masked']), 'sdc');
});

test('the seeded generator replays exactly and differs between seeds', () => {
  const first = new SeededRandom(1);
  const again = new SeededRandom(1);
  const other = new SeededRandom(2);
  const a = Array.from({ length: 8 }, () => first.nextUint32());
  const b = Array.from({ length: 8 }, () => again.nextUint32());
  const c = Array.from({ length: 8 }, () => other.nextUint32());
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('nextBelow stays in range and covers it; sample gives distinct items', () => {
  const random = new SeededRandom(7);
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const value = random.nextBelow(10);
    assert.ok(value >= 0 && value < 10);
    seen.add(value);
  }
  assert.equal(seen.size, 10);
  const picked = random.sample([...Array(100).keys()], 30);
  assert.equal(new Set(picked).size, 30);
});

test('Wilson interval: 0 of 1000 gives an upper bound near 3/n', () => {
  const { low, high } = wilsonInterval(0, 1000);
  assert.ok(low < 1e-12, `lower bound ${low}`);
  assert.ok(high > 0.0025 && high < 0.0045, `upper bound ${high}`);
  const half = wilsonInterval(50, 100);
  assert.ok(half.low < 0.5 && half.high > 0.5);
});
