/**
 * When the interrupt controllers tell the CPU to look at its interrupt input again: when a
 * request may have become deliverable, not when one went away or stays held back. Each
 * word ends the CPU's batch (and the block it runs), so a word for nothing cost MemV6 a
 * batch at every EOI and every lowered line of its masked 8259s (125,000 batches of a
 * usertests run's 446,000); a missing word would leave an interrupt waiting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalApic } from '../../src/machine/apic.js';
import { Pic8259 } from '../../src/machine/pic.js';

const clock = { now: () => 0, rescheduled: () => {} };

test('local APIC: an accepted vector is told, an EOI only when it lets a waiting vector through', () => {
  let told = 0;
  const lapic = new LocalApic(clock, () => told++);
  lapic.mmioWrite(0xf0, 4, 0x1ff);  // software enable
  told = 0;
  lapic.accept(0x40, false);
  assert.equal(told, 1, 'an accepted vector was not told');
  assert.equal(lapic.acknowledge(), 0x40);
  lapic.mmioWrite(0xb0, 4, 0);      // EOI, nothing waiting
  assert.equal(told, 1, 'an EOI with nothing waiting was told');
  lapic.accept(0x50, false);
  assert.equal(lapic.acknowledge(), 0x50);
  lapic.accept(0x30, false);        // held back by 0x50 in service
  assert.equal(lapic.hasInterrupt(), false);
  told = 0;
  lapic.mmioWrite(0xb0, 4, 0);      // EOI of 0x50: 0x30 is deliverable now
  assert.equal(told, 1, 'the EOI that lets a waiting vector through was not told');
  assert.equal(lapic.hasInterrupt(), true);
});

test('8259: a request is told when it can interrupt, not while masked nor when it goes away', () => {
  let told = 0;
  const pic = new Pic8259(() => told++);
  // ICW1-ICW4 of the master (base 0x20) and slave (base 0x28), then every line masked.
  for (const [port, value] of [[0x20, 0x11], [0x21, 0x20], [0x21, 0x04], [0x21, 0x01], [0xa0, 0x11], [0xa1, 0x28], [0xa1, 0x02], [0xa1, 0x01], [0x21, 0xff], [0xa1, 0xff]] as const) pic.portWrite(port, 1, value);
  told = 0;
  pic.setIrq(14, true);
  pic.setIrq(14, false);
  pic.setIrq(4, true);
  assert.equal(told, 0, 'a masked request or a lowered line was told');
  pic.portWrite(0x21, 1, 0xef);     // unmask IRQ 4: its request can interrupt now
  assert.equal(told, 1, 'unmasking a pending request was not told');
  assert.equal(pic.hasInterrupt(), true);
  assert.equal(pic.acknowledge(), 0x24);
  told = 0;
  pic.setIrq(4, false);
  pic.portWrite(0x20, 1, 0x20);     // EOI, nothing else waiting
  assert.equal(told, 0, 'a lowered line or an EOI with nothing waiting was told');
  pic.setIrq(4, true);
  assert.equal(told, 1, 'a new request on an unmasked line was not told');
});
