/**
 * Global pages: with CR4.PGE on, a CR3 load keeps the TLB entries of mappings marked
 * global (G) and drops every other; INVLPG drops one either way, and turning PGE off
 * drops them all. (MemV6 maps its kernel half global.) Reads go through readLinear,
 * which answers from the TLB when it knows the page.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CPU, PhysicalMemory } from '../../src/cpu/index.js';
import { CR0_PG, CR4_PGE, CR4_PSE, PTE_G, PTE_P, PTE_PS, PTE_W } from '../../src/cpu/state.js';

test('TLB: a CR3 load with CR4.PGE keeps global entries only; INVLPG and clearing PGE drop global ones too', () => {
  const mem = new PhysicalMemory(1 << 22);
  const cpu = new CPU(mem, { read: () => 0xff, write: () => {} });
  const DIR = 0x1000, TABLE = 0x2000, GLOBAL = 0x400000, LOCAL = 0x401000;
  const frames = { a: 0x10000, b: 0x11000, c: 0x12000, d: 0x13000 };
  for (const [name, at] of Object.entries(frames)) mem.write32(at, name.charCodeAt(0));
  mem.write32(DIR + (GLOBAL >>> 22) * 4, TABLE | PTE_P | PTE_W);
  const map = (global: number, local: number) => {
    mem.write32(TABLE, global | PTE_P | PTE_W | PTE_G);
    mem.write32(TABLE + 4, local | PTE_P | PTE_W);
  };
  const read = () => [cpu.readLinear(GLOBAL, 4, false), cpu.readLinear(LOCAL, 4, false)].map((c) => String.fromCharCode(c)).join('');
  map(frames.a, frames.b);
  cpu.enterFlatProtectedMode(0);
  cpu.setCr4(CR4_PGE);
  cpu.setCr3(DIR);
  cpu.setCr0(cpu.cr0 | CR0_PG);
  assert.equal(read(), 'ab');
  map(frames.c, frames.d);
  cpu.setCr3(DIR);
  assert.equal(read(), 'ad', 'a CR3 load dropped the global entry, or kept the other');
  cpu.invalidatePage(GLOBAL);
  assert.equal(read(), 'cd', 'INVLPG left the global entry');
  map(frames.a, frames.b);
  cpu.setCr4(0);
  assert.equal(read(), 'ab', 'clearing CR4.PGE left the global entry');
  map(frames.c, frames.d);
  cpu.setCr3(DIR);
  assert.equal(read(), 'cd', 'without PGE a CR3 load kept an entry');
});

test('TLB: more global pages than the CPU lists (a full list flushes the TLB) still read what the page tables say', () => {
  const mem = new PhysicalMemory(1 << 22);
  const cpu = new CPU(mem, { read: () => 0xff, write: () => {} });
  const DIR = 0x1000;
  // 24 global 4 MiB pages (96 MiB of linear space), all onto physical 0..4 MiB.
  for (let pde = 1; pde <= 24; pde++) mem.write32(DIR + pde * 4, PTE_P | PTE_W | PTE_PS | PTE_G);
  for (let page = 16; page < 1024; page++) mem.write32(page << 12, page);
  cpu.enterFlatProtectedMode(0);
  cpu.setCr4(CR4_PGE | CR4_PSE);
  cpu.setCr3(DIR);
  cpu.setCr0(cpu.cr0 | CR0_PG);
  for (let round = 0; round < 2; round++) {
    for (let vpage = 1024 + 16; vpage < 25 * 1024; vpage += 1) {
      const want = vpage & 1023;
      if (want < 16) continue;
      const got = cpu.readLinear(vpage << 12, 4, false);
      if (got !== want) assert.fail(`round ${round}: linear page 0x${vpage.toString(16)} read ${got}, not ${want}`);
    }
    cpu.setCr3(DIR);
  }
});
