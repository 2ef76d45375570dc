/**
 * Typing after a prompt (`run --send`, the QEMU oracle): each text answers one prompt,
 * a prompt is answered once, and after a restore the prompt the guest waits at is open
 * again unless the saved run had already answered it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PromptedInput } from '../../src/machine/prompted-input.js';

test('each text is typed after the next prompt, and a prompt is answered once', () => {
  const input = new PromptedInput(['ls\n', 'echo\n'], /\$ /);
  assert.equal(input.next('booting...'), null, 'no prompt yet');
  assert.equal(input.next('booting...\n$ '), 'ls\n');
  assert.equal(input.next('booting...\n$ '), null, 'the same prompt again');
  assert.equal(input.next('booting...\n$ ls\nREADME\n$ '), 'echo\n');
  assert.equal(input.consumed, 'booting...\n$ ls\nREADME\n$ '.length);
  assert.equal(input.next('booting...\n$ ls\nREADME\n$ echo\n\n$ '), null, 'nothing left to type');
});

test('two prompts seen at once are answered one text per call', () => {
  const input = new PromptedInput(['a\n', 'b\n', 'c\n'], /\$ /);
  const output = '$ bg\n$ ';
  assert.equal(input.next(output), 'a\n');
  assert.equal(input.next(output), 'b\n');
  assert.equal(input.next(output), null);
});

test('after a restore: the last prompt of the history is open, unless consumed says it was answered', () => {
  const history = '$ ls\nREADME\n$ ';
  assert.equal(new PromptedInput(['echo\n'], /\$ /, { history }).next(history), 'echo\n');
  assert.equal(new PromptedInput(['echo\n'], /\$ /, { history, consumed: history.length }).next(history), null);
  assert.equal(new PromptedInput(['echo\n'], /\$ /, { history, consumed: history.length }).next(`${history}echo\n\n$ `), 'echo\n');
  assert.equal(new PromptedInput(['x\n'], undefined, { history }).next(history), null, 'no prompt: nothing is typed');
});
