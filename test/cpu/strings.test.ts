/**
 * Repeated string instructions are interruptible: every element counts as one instruction,
 * charged to the batch as it runs, so a batch of n instructions runs exactly n elements
 * even inside one `rep stosb`, a run may stop part-way (EIP on the instruction, ECX what is
 * left), the count a program takes does not depend on how it is sliced, and every CPU tier
 * agrees. A `rep stosb` with ECX = 0xFFFFFFFF into unassigned memory once ran inside a
 * single instruction for minutes, deaf to --timeout and Ctrl-A X (issue 22 item 4).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CPU, PhysicalMemory } from '../../src/cpu/index.js';
import { CPU_TIERS } from '../support/build.js';

const CODE = 0x1000;
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

/** A flat ring-0 machine running `code` then HLT, with `count` in ECX; `threshold` picks the tier. */
function machine(form: Form, count: number, threshold: number | undefined): CPU {
  const mem = new PhysicalMemory(RAM);
  const cpu = new CPU(mem, { read: () => 0xff, write: () => {} });
  if (threshold !== undefined) cpu.blocks.threshold = threshold;
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
  test(`strings: ${form.name}: a batch of n runs n elements and stops on the instruction, on every tier`, () => {
    for (const n of [1, 2, 3, 7, 1000, 5000]) {
      const states = CPU_TIERS.map(([tier, threshold]) => {
        const cpu = machine(form, 100_000, threshold);
        const ran = cpu.run(n);
        assert.equal(ran, n, `${tier}: run(${n}) ran ${ran}`);
        assert.equal(cpu.eip, CODE + std(form), `${tier}: after run(${n}) EIP is not on the instruction`);
        assert.equal(cpu.reg[ECX], 100_000 - (n - std(form)), `${tier}: after run(${n}) ECX says ${100_000 - cpu.reg[ECX]!} elements ran`);
        return state(cpu);
      });
      assert.equal(new Set(states).size, 1, `run(${n}) ends in different states: ${states.join(' | ')}`);
    }
  });

  test(`strings: ${form.name}: the whole instruction takes one count per element, however it is sliced`, () => {
    const count = 3000;
    const states: string[] = [];
    for (const [tier, threshold] of CPU_TIERS) {
      for (const slice of [1, 13, 999, 1 << 20]) {
        const cpu = machine(form, count, threshold);
        while (!cpu.halted) cpu.run(slice);
        assert.equal(cpu.reg[ECX], 0, `${tier}, slices of ${slice}: ECX ${cpu.reg[ECX]} at HLT`);
        // The elements, STD before them, and HLT.
        assert.equal(cpu.instructionCount, count + std(form) + 1,
          `${tier}, slices of ${slice}: ${cpu.instructionCount} instructions`);
        states.push(`${tier}/${slice}: ${state(cpu)}`);
      }
    }
    assert.equal(new Set(states.map((s) => s.slice(s.indexOf(':')))).size, 1, `the runs end differently:\n${states.join('\n')}`);
  });
}

test('strings: rep stosb with ECX = 0xFFFFFFFF into unassigned memory runs in slices and can be stopped', { timeout: 120_000 }, () => {
  for (const [tier, threshold] of CPU_TIERS) {
    const cpu = machine(FORMS.find((f) => f.name === 'rep stosb into unassigned memory')!, 0xffffffff, threshold);
    const ran = cpu.run(50_000_000);
    assert.equal(ran, 50_000_000, `${tier}: ran ${ran}`);
    assert.equal(cpu.reg[ECX]! >>> 0, 0xffffffff - 50_000_000, `${tier}: ECX`);
    assert.equal(cpu.reg[EDI]! >>> 0, 0x40000000 + 50_000_000, `${tier}: EDI`);
    assert.equal(cpu.eip, CODE, `${tier}: EIP left the instruction`);
  }
});

test('strings: a port write that stops the machine ends rep outsb after that element, to go on later', () => {
  for (const [tier, threshold] of CPU_TIERS) {
    let writes = 0;
    const mem = new PhysicalMemory(RAM);
    let cpu: CPU | null = null;
    cpu = new CPU(mem, { read: () => 0xff, write: () => { if (++writes === 10) cpu!.requestStop(); } });
    if (threshold !== undefined) cpu.blocks.threshold = threshold;
    mem.loadBytes(CODE, Uint8Array.from([0xf3, 0x6e, HLT]));   // rep outsb
    cpu.enterFlatProtectedMode(0);
    cpu.eip = CODE;
    cpu.reg[ESI] = 0x10000;
    cpu.reg[ECX] = 1000;
    const ran = cpu.run(100_000);
    assert.equal(ran, 10, `${tier}: ran ${ran} before stopping`);
    assert.equal(cpu.eip, CODE, `${tier}: EIP left the instruction`);
    assert.equal(cpu.reg[ECX], 990, `${tier}: ECX`);
    while (!cpu.halted) cpu.run(100_000);
    assert.equal(writes, 1000, `${tier}: ${writes} bytes written in all`);
    assert.equal(cpu.instructionCount, 1001, `${tier}: ${cpu.instructionCount} instructions`);
  }
});
