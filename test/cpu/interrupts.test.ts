/**
 * Where the processor recognises an external interrupt, on every CPU tier: at the first
 * instruction boundary where IF=1 and no STI/MOV SS shadow is active — right after the
 * shadowed instruction, right after an instruction whose port or MMIO write raised the
 * interrupt (in the middle of a compiled block), and at a batch boundary inside a block.
 * What QEMU must agree with is checked by the interrupt-window test kernel
 * (test/machine/irqwindow); these are the cases only an exact virtual clock can arrange
 * (an interrupt arriving right after MOV SS) and the block exits behind them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CPU, PhysicalMemory, type InterruptSource, type IoSpace } from '../../src/cpu/index.js';
import { IF } from '../../src/cpu/flags.js';
import { CPU_TIERS } from '../support/build.js';

const CODE = 0x1000, HANDLER = 0x3000, IDT = 0x800, GDT = 0x700, STACK = 0x9000, VECTOR = 0x30;
const DEVICE = 0xfee00000;

interface Outcome {
  /** Return EIPs of the interrupts taken. */
  taken: number[];
  instructions: number;
  /** Batches the CPU ran (each ends where it looks at its interrupt input). */
  batches: number;
}

/**
 * Runs `code` at CODE in flat protected mode with IF as given: `before` instructions first,
 * then the interrupt is raised (unless a write to port 0x80 or to the device page raises
 * it), then up to 1000 more instructions (the code ends in HLT).
 */
function run(code: number[], threshold: number | undefined, options: { interruptsOn: boolean; before?: number; handler?: number[] }): Outcome {
  const mem = new PhysicalMemory(1 << 20);
  let pending = false;
  const taken: number[] = [];
  let cpu: CPU;
  const io: IoSpace = {
    read: () => 0xff,
    write: (port) => {
      // Port 0x80 raises the interrupt, port 0x81 only the first time.
      if (port === 0x80 || (port === 0x81 && !raisedOnce)) {
        raisedOnce ||= port === 0x81;
        pending = true;
        cpu.notifyInterrupt();
      }
    },
  };
  let raisedOnce = false;
  cpu = new CPU(mem, io);
  let batches = 0;
  const spied = cpu as unknown as { runBatch: (size: number) => void };
  const runBatch = spied.runBatch.bind(cpu);
  spied.runBatch = (size) => { batches++; runBatch(size); };
  mem.mapMmio(DEVICE, 0x1000, { mmioRead: () => 0, mmioWrite: () => { pending = true; cpu.notifyInterrupt(); } });
  const source: InterruptSource = {
    hasInterrupt: () => pending,
    acknowledge: () => { pending = false; taken.push(cpu.eip >>> 0); return VECTOR; },
  };
  cpu.interruptSource = source;
  if (threshold !== undefined) cpu.blocks.threshold = threshold;
  // GDT: null, flat code 0x08, flat data 0x10; one interrupt gate to an IRET.
  mem.write32(GDT + 8, 0x0000ffff); mem.write32(GDT + 12, 0x00cf9a00);
  mem.write32(GDT + 16, 0x0000ffff); mem.write32(GDT + 20, 0x00cf9200);
  mem.write32(IDT + VECTOR * 8, (0x08 << 16) | HANDLER); mem.write32(IDT + VECTOR * 8 + 4, 0x8e00);
  mem.loadBytes(HANDLER, Uint8Array.from(options.handler ?? [IRET]));
  mem.loadBytes(CODE, Uint8Array.from(code));
  cpu.gdtBase = GDT; cpu.gdtLimit = 23;
  cpu.idtBase = IDT; cpu.idtLimit = 0x7ff;
  cpu.enterFlatProtectedMode(0);
  cpu.eip = CODE;
  cpu.reg[4] = STACK;
  cpu.setEflags(options.interruptsOn ? IF : 0);
  if (options.before !== undefined) {
    cpu.run(options.before);
    pending = true;
    cpu.notifyInterrupt();
  }
  cpu.run(1000);
  assert.ok(cpu.halted, `the code did not reach its HLT (eip ${cpu.eip.toString(16)})`);
  return { taken, instructions: cpu.instructionCount, batches };
}

const NOP = 0x90, HLT = 0xf4, STI = 0xfb, IRET = 0xcf;
const MOV_AX_0x10 = [0x66, 0xb8, 0x10, 0x00], MOV_SS_AX = [0x8e, 0xd0], PUSH_SS = [0x16], POP_SS = [0x17];
const NOPS = (n: number) => new Array<number>(n).fill(NOP);

/** The same code on every tier: the same interrupts at the same places, instruction for instruction. */
function onEveryTier(code: number[], options: { interruptsOn: boolean; before?: number }, expectedAt: number): void {
  const outcomes = CPU_TIERS.map(([name, threshold]) => [name, run(code, threshold, options)] as const);
  for (const [name, outcome] of outcomes) {
    assert.deepEqual(outcome.taken, [expectedAt], `${name}: interrupts taken at ${outcome.taken.map((e) => e.toString(16))}`);
    assert.equal(outcome.instructions, outcomes[0]![1].instructions, `${name}: instruction count`);
  }
}

test('interrupts: one arriving right after MOV SS or POP SS waits for the next instruction, on every tier', () => {
  // mov ax, 0x10; mov ss, ax | nop (shadowed) | nop ...: taken after the first nop.
  onEveryTier([...MOV_AX_0x10, ...MOV_SS_AX, ...NOPS(4), HLT], { interruptsOn: true, before: 2 }, CODE + 7);
  // push ss; pop ss | nop (shadowed) | nop ...
  onEveryTier([...PUSH_SS, ...POP_SS, ...NOPS(4), HLT], { interruptsOn: true, before: 2 }, CODE + 3);
});

test('interrupts: pending while IF=0, taken right after the instruction that follows STI, on every tier', () => {
  onEveryTier([...NOPS(2), STI, ...NOPS(6), HLT], { interruptsOn: false, before: 0 }, CODE + 4);
  // STI; MOV SS: the MOV SS inside the STI shadow starts no shadow of its own.
  onEveryTier([...MOV_AX_0x10, STI, ...MOV_SS_AX, ...NOPS(4), HLT], { interruptsOn: false, before: 0 }, CODE + 7);
});

test('interrupts: a port or MMIO write that raises one is followed by it at once, also inside a compiled block', () => {
  // nop; nop; out 0x80, al; nop...: taken after the OUT.
  onEveryTier([...NOPS(2), 0xe6, 0x80, ...NOPS(6), HLT], { interruptsOn: true }, CODE + 4);
  // nop; mov [0xfee00000], eax; nop...: taken after the store.
  onEveryTier([NOP, 0xa3, 0x00, 0x00, 0xe0, 0xfe, ...NOPS(6), HLT], { interruptsOn: true }, CODE + 6);
  // add eax, [0xfee00000] (a read, no interrupt), then the OUT.
  onEveryTier([0x03, 0x05, 0x00, 0x00, 0xe0, 0xfe, 0xe6, 0x80, ...NOPS(3), HLT], { interruptsOn: true }, CODE + 8);
});

test('interrupts: one arriving at a batch boundary inside a block is taken there, on every tier', () => {
  for (const before of [1, 3, 5]) onEveryTier([...NOPS(8), HLT], { interruptsOn: true, before }, CODE + before);
});

test('interrupts: after one is taken with nothing else waiting, its handler\'s IRET goes on in the same batch; one raised in the handler is taken right after its IRET, on every tier', () => {
  // Raised while IF=0; sti; nop (shadowed): taken after that nop, at CODE + 2.
  const code = [STI, ...NOPS(6), HLT];
  const quiet = CPU_TIERS.map(([name, threshold]) => [name, run(code, threshold, { interruptsOn: false, before: 0 })] as const);
  for (const [name, outcome] of quiet) {
    assert.deepEqual(outcome.taken, [CODE + 2], `${name}: interrupts taken at ${outcome.taken.map((e) => e.toString(16))}`);
    assert.equal(outcome.instructions, quiet[0]![1].instructions, `${name}: instruction count`);
    // Up to the STI's shadowed nop, then the interrupt and all the rest: the source had
    // nothing more when the interrupt was taken, so the IRET that sets IF again is not
    // a place to look (it ended a batch for every interrupt before).
    assert.equal(outcome.batches, 2, `${name}: batches`);
  }
  // The handler raises another (out 0x81, once) while IF=0: it is taken right after the
  // IRET, at the same return address, and then the handler runs again.
  const again = CPU_TIERS.map(([name, threshold]) => [name, run(code, threshold, { interruptsOn: false, before: 0, handler: [0xe6, 0x81, IRET] })] as const);
  for (const [name, outcome] of again) {
    assert.deepEqual(outcome.taken, [CODE + 2, CODE + 2], `${name}: interrupts taken at ${outcome.taken.map((e) => e.toString(16))}`);
    assert.equal(outcome.instructions, again[0]![1].instructions, `${name}: instruction count`);
  }
});

test('interrupts: a control register load does not end the batch (nothing it does makes an interrupt deliverable), on every tier', () => {
  // mov cr3, eax; nop; mov cr0, eax (the same CR0); nop; hlt, with IF=0 as MemV6 switches address spaces.
  const code = [0x0f, 0x22, 0xd8, NOP, 0x0f, 0x20, 0xc0, 0x0f, 0x22, 0xc0, NOP, HLT];
  const outcomes = CPU_TIERS.map(([name, threshold]) => [name, run(code, threshold, { interruptsOn: false })] as const);
  for (const [name, outcome] of outcomes) {
    assert.equal(outcome.instructions, 6, `${name}: instruction count`);
    assert.equal(outcome.batches, 1, `${name}: batches`);
  }
});
