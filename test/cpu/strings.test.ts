/**
 * Repeated string instructions are interruptible: a REP does at most REP_CHUNK elements as
 * one instruction, then stops with EIP on itself and goes on as the next instruction, so a
 * batch ends, an interrupt is taken or a run stops inside a long `rep stosb`; where it
 * stops depends only on the count (and on events the guest's own accesses raise), so a
 * program takes the same instructions however its run is sliced, on every CPU tier. A
 * `rep stosb` with ECX = 0xFFFFFFFF into unassigned memory once ran inside a single
 * instruction for minutes, deaf to --timeout and Ctrl-A X (issue 22 item 4).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CPU, PhysicalMemory } from '../../src/cpu/index.js';
import { REP_CHUNK } from '../../src/cpu/strings.js';
import { compileBlock } from '../../src/cpu/compile.js';
import { CPU_TIERS, useTier, type BlockEngine } from '../support/build.js';

const CODE = 0x80000;   // above every store the forms make (the 16-bit form wraps within the first 64 KiB)
const EAX = 0, ECX = 1, ESI = 6, EDI = 7;
const HLT = 0xf4;

interface Form {
  name: string;
  code: number[];
  /** Registers before the instruction: ECX is the count. */
  setup: (cpu: CPU) => void;
}

const RAM = 1 << 20;
const FORMS: Form[] = [
  { name: 'rep stosb forward into RAM (bulk)', code: [0xf3, 0xaa], setup: (c) => { c.reg[EDI] = 0x10000; c.reg[EAX] = 0x5a; } },
  { name: 'rep stosd backward (element by element)', code: [0xfd, 0xf3, 0xab], setup: (c) => { c.reg[EDI] = 0xff000; c.reg[EAX] = 0x12345678; } },
  { name: 'rep movsb forward (bulk)', code: [0xf3, 0xa4], setup: (c) => { c.reg[ESI] = 0x20000; c.reg[EDI] = 0x40000; } },
  { name: 'rep movsw with 16-bit addresses', code: [0x67, 0xf3, 0x66, 0xa5], setup: (c) => { c.reg[ESI] = 0x2000; c.reg[EDI] = 0x8000; } },
  { name: 'repe cmpsb over equal bytes', code: [0xf3, 0xa6], setup: (c) => { c.reg[ESI] = 0x30000; c.reg[EDI] = 0x50000; } },
  { name: 'rep lodsd', code: [0xf3, 0xad], setup: (c) => { c.reg[ESI] = 0x30000; } },
  { name: 'rep stosb into unassigned memory', code: [0xf3, 0xaa], setup: (c) => { c.reg[EDI] = 0x40000000; } },
  { name: 'rep movsd from RAM into unassigned memory', code: [0xf3, 0xa5], setup: (c) => { c.reg[ESI] = 0x10000; c.reg[EDI] = 0x40000000; } },
];

/** 1 if the form starts with STD (an instruction of its own), else 0. */
function std(form: Form): number {
  return form.code[0] === 0xfd ? 1 : 0;
}

/** A flat ring-0 machine running `code` then HLT, with `count` in ECX; `threshold` and `engine` pick the tier. */
function machine(form: Form, count: number, threshold: number | undefined, engine: BlockEngine): CPU {
  const mem = new PhysicalMemory(RAM);
  const cpu = new CPU(mem, { read: () => 0xff, write: () => {} });
  useTier(cpu, threshold, engine);
  mem.loadBytes(CODE, Uint8Array.from([...form.code, HLT]));
  cpu.enterFlatProtectedMode(0);
  cpu.eip = CODE;
  form.setup(cpu);
  cpu.reg[ECX] = count;
  return cpu;
}

function state(cpu: CPU): string {
  return `count ${cpu.instructionCount} eip ${(cpu.eip >>> 0).toString(16)} ecx ${cpu.reg[ECX]! >>> 0} ` +
    `esi ${(cpu.reg[ESI]! >>> 0).toString(16)} edi ${(cpu.reg[EDI]! >>> 0).toString(16)} eflags ${(cpu.getEflags() >>> 0).toString(16)}`;
}

for (const form of FORMS) {
  test(`strings: ${form.name}: n instructions are n chunks of REP_CHUNK elements, stopping on the instruction, on every tier`, () => {
    const total = 15 * REP_CHUNK + 5;   // fits CX too (the 16-bit form counts in CX)
    for (const n of [1, 2, 3, 7, 15]) {
      const states = CPU_TIERS.map(([tier, threshold, engine]) => {
        const cpu = machine(form, total, threshold, engine);
        const ran = cpu.run(n);
        assert.equal(ran, n, `${tier}: run(${n}) ran ${ran}`);
        assert.equal(cpu.eip, CODE + std(form), `${tier}: after run(${n}) EIP is not on the instruction`);
        const chunks = n - std(form);
        assert.equal(cpu.reg[ECX], total - chunks * REP_CHUNK, `${tier}: after ${chunks} chunks ECX says ${total - cpu.reg[ECX]!} elements ran`);
        return state(cpu);
      });
      assert.equal(new Set(states).size, 1, `run(${n}) ends in different states: ${states.join(' | ')}`);
    }
  });

  test(`strings: ${form.name}: the whole instruction is one instruction per chunk, however the run is sliced`, () => {
    const count = 3 * REP_CHUNK + 100;
    const states: string[] = [];
    for (const [tier, threshold, engine] of CPU_TIERS) {
      for (const slice of [1, 13, 999, 1 << 20]) {
        const cpu = machine(form, count, threshold, engine);
        while (!cpu.halted) cpu.run(slice);
        assert.equal(cpu.reg[ECX], 0, `${tier}, slices of ${slice}: ECX ${cpu.reg[ECX]} at HLT`);
        // Four chunks, STD before them, and HLT.
        assert.equal(cpu.instructionCount, 4 + std(form) + 1,
          `${tier}, slices of ${slice}: ${cpu.instructionCount} instructions`);
        states.push(`${tier}/${slice}: ${state(cpu)}`);
      }
    }
    assert.equal(new Set(states.map((s) => s.slice(s.indexOf(':')))).size, 1, `the runs end differently:\n${states.join('\n')}`);
  });
}

test('strings: rep stosb with ECX = 0xFFFFFFFF into unassigned memory runs in slices and can be stopped', { timeout: 120_000 }, () => {
  for (const [tier, threshold, engine] of CPU_TIERS) {
    const cpu = machine(FORMS.find((f) => f.name === 'rep stosb into unassigned memory')!, 0xffffffff, threshold, engine);
    const ran = cpu.run(100_000);
    assert.equal(ran, 100_000, `${tier}: ran ${ran}`);
    assert.equal(cpu.reg[ECX]! >>> 0, 0xffffffff - 100_000 * REP_CHUNK, `${tier}: ECX`);
    assert.equal(cpu.reg[EDI]! >>> 0, 0x40000000 + 100_000 * REP_CHUNK, `${tier}: EDI`);
    assert.equal(cpu.eip, CODE, `${tier}: EIP left the instruction`);
  }
});

test('strings: a port write that stops the machine ends rep outsb after that element, to go on later', () => {
  for (const [tier, threshold, engine] of CPU_TIERS) {
    let writes = 0;
    const mem = new PhysicalMemory(RAM);
    let cpu: CPU | null = null;
    cpu = new CPU(mem, { read: () => 0xff, write: () => { if (++writes === 10) cpu!.requestStop(); } });
    useTier(cpu, threshold, engine);
    mem.loadBytes(CODE, Uint8Array.from([0xf3, 0x6e, HLT]));   // rep outsb
    cpu.enterFlatProtectedMode(0);
    cpu.eip = CODE;
    cpu.reg[ESI] = 0x10000;
    cpu.reg[ECX] = 1000;
    const ran = cpu.run(100_000);
    assert.equal(ran, 1, `${tier}: ran ${ran} instructions before stopping`);
    assert.equal(cpu.eip, CODE, `${tier}: EIP left the instruction`);
    assert.equal(cpu.reg[ECX], 990, `${tier}: ECX`);
    while (!cpu.halted) cpu.run(100_000);
    assert.equal(writes, 1000, `${tier}: ${writes} bytes written in all`);
    // The ten elements, the rest in a second go, and HLT.
    assert.equal(cpu.instructionCount, 3, `${tier}: ${cpu.instructionCount} instructions`);
  }
});

test('strings: rep insd from a port with a bulk read gives the bytes, registers and chunks that element by element gives', () => {
  const count = 3 * REP_CHUNK + 100;
  const runs: string[] = [];
  for (const bulk of [false, true]) {
    for (const [tier, threshold, engine] of CPU_TIERS) {
      // The port gives 0x5a000000 + n for its n-th element; in bulk at most 100 at a time
      // (a device may give fewer than asked), so a page's elements take several calls.
      let next = 0, bulkCalls = 0;
      const io = {
        read: () => (0x5a000000 + next++) >>> 0,
        write: () => {},
        ...(bulk ? {
          readString: (_port: number, _size: number, bytes: Uint8Array, offset: number, n: number) => {
            const given = Math.min(n, 100);
            const view = new DataView(bytes.buffer, bytes.byteOffset);
            for (let i = 0; i < given; i++) view.setUint32(offset + 4 * i, 0x5a000000 + next++, true);
            bulkCalls++;
            return given;
          },
        } : {}),
      };
      const mem = new PhysicalMemory(RAM);
      const cpu = new CPU(mem, io);
      useTier(cpu, threshold, engine);
      mem.loadBytes(CODE, Uint8Array.from([0xf3, 0x6d, HLT]));   // rep insd
      cpu.enterFlatProtectedMode(0);
      cpu.eip = CODE;
      cpu.reg[EDI] = 0x10000 - 8;   // the first two elements end a page
      cpu.reg[ECX] = count;
      while (!cpu.halted) cpu.run(7);
      if (bulk) assert.ok(bulkCalls > count / 100, `${tier}: the bulk read was used ${bulkCalls} times`);
      assert.equal(next, count, `${tier}: ${next} elements read from the port`);
      assert.equal(cpu.instructionCount, 4 + 1, `${tier}: ${cpu.instructionCount} instructions`);
      let sum = 0;
      for (let a = 0x10000 - 8; a < 0x10000 - 8 + 4 * count; a += 4) sum = (Math.imul(sum, 31) + mem.read32(a)) | 0;
      runs.push(`${bulk ? 'bulk' : 'element'}/${tier}: ${state(cpu)} memory ${sum}`);
    }
  }
  assert.equal(new Set(runs.map((s) => s.slice(s.indexOf(':')))).size, 1, `the runs end differently:\n${runs.join('\n')}`);
});

test('strings: rep stosb and rep movsb of up to a chunk within a page are one fill or copy in a block, with the interpreter\'s bytes, registers and counts on every tier', () => {
  // L: rep stosb; mov ecx, ebx; rep movsb; hlt, entered twice (the second time with the
  // pages in the TLB, where a block fills or copies at once).
  const code = [0xf3, 0xaa, 0x89, 0xd9, 0xf3, 0xa4, HLT];
  const page = new Uint8Array(4096);
  page.set(code, CODE & 0xfff);
  const source = compileBlock(page, CODE & 0xfff, CODE)!.source;
  assert.match(source, /u8\.fill\(/);
  assert.match(source, /u8\.copyWithin\(/);
  const cases = [
    { name: 'a hundred bytes', ecx: 100, edi: 0x10010, esi: 0x20000, df: false },
    { name: 'none', ecx: 0, edi: 0x10010, esi: 0x20000, df: false },
    { name: 'one', ecx: 1, edi: 0x10010, esi: 0x20000, df: false },
    { name: 'a whole page', ecx: 4096, edi: 0x10000, esi: 0x20000, df: false },
    { name: 'more than a chunk', ecx: 5000, edi: 0x10000, esi: 0x20000, df: false },
    { name: 'across a page', ecx: 100, edi: 0x10fc0, esi: 0x20ff0, df: false },
    { name: 'backward', ecx: 100, edi: 0x10100, esi: 0x20100, df: true },
    { name: 'a source overlapping the destination ahead of it', ecx: 64, edi: 0x10020, esi: 0x10000, df: false },
    { name: 'a destination before its source', ecx: 64, edi: 0x10000, esi: 0x10020, df: false },
    { name: 'into the page of the code', ecx: 16, edi: CODE + 0x800, esi: 0x20000, df: false },
  ];
  for (const k of cases) {
    const states = CPU_TIERS.map(([tier, threshold, engine]) => {
      const mem = new PhysicalMemory(RAM);
      const cpu = new CPU(mem, { read: () => 0xff, write: () => {} });
      useTier(cpu, threshold, engine);
      mem.loadBytes(CODE, Uint8Array.from(code));
      for (let i = 0; i < 0x2000; i++) mem.write8(0x20000 + i, (i * 7) & 0xff);
      cpu.enterFlatProtectedMode(0);
      for (let pass = 0; pass < 2; pass++) {
        cpu.eip = CODE;
        cpu.halted = false;
        cpu.reg[EAX] = 0x5a + pass;
        cpu.reg[ECX] = k.ecx;
        cpu.reg[3] = k.ecx;
        cpu.reg[EDI] = k.edi;
        cpu.reg[ESI] = k.esi;
        if (k.df) cpu.flags |= 0x400;
        while (!cpu.halted) cpu.run(1000);
        if (engine === 'eager wasm') assert.equal(cpu.blocks.wasm!.stats.refused, 0, `${tier}: the block stayed JavaScript`);
      }
      let hash = 0;
      for (let i = 0x10000; i < 0x22000; i++) hash = (Math.imul(hash, 31) + mem.read8(i)) | 0;
      for (let i = CODE; i < CODE + 0x1000; i++) hash = (Math.imul(hash, 31) + mem.read8(i)) | 0;
      return `${state(cpu)} memory ${hash}`;
    });
    assert.equal(new Set(states).size, 1, `${k.name}: the tiers end differently: ${states.join(' | ')}`);
  }
});
