/**
 * The CPU module is complete on its own: a CPU made by importing cpu.ts alone (not the
 * src/cpu index) runs instructions. This file imports nothing else from src/cpu's
 * surface, and node --test runs each test file in its own process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CPU } from '../../src/cpu/cpu.js';
import { PhysicalMemory } from '../../src/cpu/memory.js';
import type { IoSpace } from '../../src/cpu/bus.js';
import { CR0_ET, CR0_PE, EAX } from '../../src/cpu/state.js';

class NoIo implements IoSpace {
  read(): number { return 0xffffffff; }
  write(): void {}
}

test('cpu.ts alone gives a CPU that runs: mov eax, 0x12345678; inc eax; hlt', () => {
  const mem = new PhysicalMemory(1 << 20);
  mem.loadBytes(0x1000, Uint8Array.of(0xb8, 0x78, 0x56, 0x34, 0x12, 0x40, 0xf4));
  const cpu = new CPU(mem, new NoIo());
  cpu.setCr0(CR0_PE | CR0_ET);
  cpu.enterFlatProtectedMode(0);
  cpu.eip = 0x1000;
  assert.equal(cpu.run(10), 3);
  assert.equal(cpu.reg[EAX], 0x12345679);
  assert.ok(cpu.halted);
});
