/**
 * Every `memvisor bench` report starts with the host it ran on: the same build gives other
 * ratios on other machines, so a figure is kept with its processor and core count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism, cpus } from 'node:os';
import { hostDescription } from '../../src/bench/host.js';

test('bench host: names the processor, the cores, the system and Node', () => {
  const text = hostDescription();
  const model = cpus()[0]?.model.replace(/\s+/g, ' ').trim();
  if (model) assert.ok(text.startsWith(model), `${text}: does not start with the processor ${model}`);
  assert.match(text, new RegExp(`, ${availableParallelism()} cores?; `), `${text}: no core count`);
  assert.ok(text.endsWith(`${process.arch}, Node ${process.version}`), `${text}: no architecture and Node version at the end`);
});
