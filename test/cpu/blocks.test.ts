/**
 * Compiled blocks that follow jumps: a loop whose body branches runs inside one block
 * (it closes on the block's start from the middle of the block as well as from its
 * end), and a batch of n instructions runs exactly n on every tier, whichever way the
 * loop goes round.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CPU, PhysicalMemory } from '../../src/cpu/index.js';
import { compileBlock } from '../../src/cpu/compile.js';
import type { Block } from '../../src/cpu/blocks.js';
import { CPU_TIERS, useTier, type BlockEngine } from '../support/build.js';
import { CR0_PG, PTE_P, PTE_W } from '../../src/cpu/state.js';
import { useWasmTier } from '../../src/cpu/wasm/tier.js';

const CODE = 0x1000;
/*
 * 0x1000  P:  jnz X          75 06
 * 0x1002  S:  dec ecx        49        <- the loop's block starts here
 * 0x1003      test cl, 1     f6 c1 01
 * 0x1006      jmp P          eb f8
 * 0x1008  X:  nop; nop; nop  90 90 90
 * 0x100b      jmp S          eb f5
 * Compiled from S, the block follows jmp to P and jnz to X: when jnz falls through it goes
 * round from the middle (4 instructions), else from its end (8), turn about.
 */
const LOOP = [0x75, 0x06, 0x49, 0xf6, 0xc1, 0x01, 0xeb, 0xf8, 0x90, 0x90, 0x90, 0xeb, 0xf5];

/**
 * A flat ring-0 machine at `start`. The block cache's own rules are checked on JavaScript
 * blocks (whose functions the tests call and compare), unless a tier says otherwise: on
 * the WebAssembly tier a block waits for its module, interpreted meanwhile.
 */
function machine(threshold: number | undefined, code = LOOP, start = CODE + 2, engine: BlockEngine = 'js'): CPU {
  const mem = new PhysicalMemory(1 << 20);
  const cpu = new CPU(mem, { read: () => 0xff, write: () => {} });
  useTier(cpu, threshold, engine);
  mem.loadBytes(CODE, Uint8Array.from(code));
  cpu.enterFlatProtectedMode(0);
  cpu.eip = start;
  cpu.reg[1] = 1_000_000;
  return cpu;
}

test('blocks: a loop whose body branches is one block that goes round inside itself', () => {
  const page = new Uint8Array(4096);
  page.set(LOOP, CODE & 0xfff);
  const block = compileBlock(page, (CODE + 2) & 0xfff, CODE + 2);
  assert.ok(block !== null);
  assert.match(block.source, /for \(;;\)/, 'the block does not loop');
  assert.equal(block.first, CODE & 0xfff, 'the code reached by the jump back is not recorded as the block\'s code');
});

test('blocks: a block never runs more instructions than its batch has left, however it goes round', () => {
  const cpu = machine(1);
  cpu.run(500);
  const eip = CODE + 2;
  const block = cpu.blocks.find(cpu.mem.hostOffset(eip), eip);
  assert.ok(block !== null && block.length < 100, 'the loop was not compiled');
  assert.ok(block.pass < block.length, `the block's longest run (${block.pass}) is not shorter than the block (${block.length})`);
  for (let left = block.pass; left <= 60; left++) {
    cpu.eip = eip;
    cpu.batchLeft = left;
    block.run(cpu);
    assert.ok(cpu.batchLeft >= 0, `with ${left} instructions left the block ran ${left - cpu.batchLeft}`);
  }
  cpu.batchLeft = 0;
});

test('blocks: a batch of n instructions runs exactly n, on every tier, however the loop inside a block goes round', () => {
  for (let n = 1; n <= 60; n++) {
    const states = CPU_TIERS.map(([name, threshold, engine]) => {
      const cpu = machine(threshold, LOOP, CODE + 2, engine);
      cpu.run(500);                      // hot: compiled on the block tiers
      const ran = cpu.run(n);
      assert.equal(ran, n, `${name}: run(${n}) ran ${ran}`);
      return `${cpu.instructionCount} ${cpu.eip.toString(16)} ${cpu.reg[0]} ${cpu.reg[1]}`;
    });
    assert.equal(new Set(states).size, 1, `run(${n}) ends in different states: ${states.join(' | ')}`);
  }
});

test('blocks: an address inside a compiled block gets a block of its own only after `threshold` entries of its own', () => {
  // S: dec ecx; M: nop; nop; jnz S; hlt. Interpreted, every address of the loop is reached
  // as often as S; once S has its block, M is reached only where control enters there.
  const T = 10;
  const cpu = machine(T, [0x49, 0x90, 0x90, 0x75, 0xfb, 0xf4], CODE);
  cpu.run(4 * (T - 1));
  assert.equal(cpu.blocks.stats.compiled, 0, 'compiled before the threshold');
  cpu.run(4);
  assert.equal(cpu.blocks.stats.compiled, 1, 'the loop was not compiled at its T-th time round');
  const enterAtM = () => {
    cpu.eip = CODE + 1;
    assert.equal(cpu.run(3), 3);
    assert.equal(cpu.eip, CODE);
  };
  enterAtM();
  assert.equal(cpu.blocks.stats.compiled, 1, 'M got a block on its first entry, from the heat of the loop it had as interpreted code');
  for (let i = 2; i < T; i++) enterAtM();
  assert.equal(cpu.blocks.stats.compiled, 1, 'M got a block before its T-th entry');
  enterAtM();
  assert.equal(cpu.blocks.stats.compiled, 2, 'M has no block after T entries');
});

test('blocks: the return address of a call out of the block keeps its count when the block around it is written', () => {
  // L: call F; R: dec ecx; jnz L; hlt, and F on the next page: ret. Interpreted, L and R
  // are reached once a round; L's block (which holds R) is written at L's T-th round, and
  // F returns to R through the dispatcher every time, so R is as hot as L was.
  const T = 10;
  const cpu = machine(T, [0xe8, 0xfb, 0x0f, 0x00, 0x00, 0x49, 0x75, 0xf8, 0xf4], CODE);
  cpu.mem.loadBytes(CODE + 0x1000, Uint8Array.of(0xc3));
  cpu.reg[4] = 0x8000;
  cpu.run(4 * (T - 1));
  assert.equal(cpu.blocks.stats.compiled, 0, 'compiled before the threshold');
  cpu.run(4);
  assert.equal(cpu.blocks.stats.compiled, 3, 'L, F and R do not all have blocks after T rounds (R counted again from zero?)');
  const r = cpu.blocks.find(cpu.mem.hostOffset(CODE + 5), CODE + 5);
  assert.ok(r !== null && r.length > 1, 'R has no block of its own');
});

test('blocks: endbr32 (at every function entry of code built for CET) is compiled as the NOP it is, on every tier alike', () => {
  // S: endbr32; dec ecx; jnz S
  const code = [0xf3, 0x0f, 0x1e, 0xfb, 0x49, 0x75, 0xf9];
  const page = new Uint8Array(4096);
  page.set(code, CODE & 0xfff);
  const block = compileBlock(page, CODE & 0xfff, CODE);
  assert.ok(block !== null);
  assert.doesNotMatch(block.source, /c\.step\(\)/, 'endbr32 goes through the interpreter');
  const states = CPU_TIERS.map(([, threshold, engine]) => {
    const mem = new PhysicalMemory(1 << 20);
    const cpu = new CPU(mem, { read: () => 0xff, write: () => {} });
    useTier(cpu, threshold, engine);
    mem.loadBytes(CODE, Uint8Array.from(code));
    cpu.enterFlatProtectedMode(0);
    cpu.eip = CODE;
    cpu.reg[1] = 1000;
    cpu.run(1501);
    return `${cpu.instructionCount} ${cpu.eip.toString(16)} ${cpu.reg[1]} ${cpu.getEflags().toString(16)}`;
  });
  assert.equal(new Set(states).size, 1, `tiers differ: ${states.join(' | ')}`);
  assert.match(states[0]!, /^1501 1004 500 /);  // 500 rounds of 3, then endbr32
});

test('blocks: a region stops where another compiled block of its page starts (its code is not compiled twice)', () => {
  const page = new Uint8Array(4096);
  page.set(LOOP, CODE & 0xfff);
  // From S the region takes in the code at P and X; with a block already at X it leaves there.
  const whole = compileBlock(page, (CODE + 2) & 0xfff, CODE + 2)!;
  const stopped = compileBlock(page, (CODE + 2) & 0xfff, CODE + 2, (eip) => eip === CODE + 8)!;
  assert.equal(whole.length, 8);
  assert.equal(stopped.length, 4, 'the region wrote the block at X again');
  assert.match(stopped.source, new RegExp(`x = ${CODE + 8};`), 'the region does not leave for X');
});

test('blocks: a block written for one machine serves another only for the same guest bytes', () => {
  // Compiled at first sight, the first block is the loop's, from S.
  const eip = CODE + 2;
  const first = machine(1);
  first.run(1000);
  const a = first.blocks.find(first.mem.hostOffset(eip), eip);
  // The same code in a second machine: the same block; with `test cl, 1` made `test cl, 2`, not.
  const same = machine(1);
  same.run(1000);
  assert.ok(a !== null && a.length === 8, `the block at S: ${a?.length} instructions`);
  assert.equal(same.blocks.find(same.mem.hostOffset(eip), eip)?.run, a.run);
  const results = [0, 1].map((threshold) => {
    const changed = machine(threshold);
    changed.mem.loadBytes(CODE + 5, Uint8Array.of(0x02));
    changed.run(1001);
    if (threshold === 1) assert.notEqual(changed.blocks.find(changed.mem.hostOffset(eip), eip)?.run, a.run, 'the block of other bytes was reused');
    return [changed.reg[1], changed.eip, changed.flags & 0x8d5];
  });
  assert.deepEqual(results[1], results[0]);
});

/**
 * 0x1000  A: inc eax; jmp B                    40 e9 <rel32>
 * 0x2000  B: inc ebx; dec ecx; jnz A; jmp A     43 49 0f 85 <rel32> e9 <rel32>
 * A and B are on two pages, so each leaves its block for the next: the machine has run
 * 300 rounds, every block compiled at first sight on `engine`.
 */
function twoPages(engine: BlockEngine): { cpu: CPU; a: Block; b: Block } {
  const mem = new PhysicalMemory(1 << 20);
  const cpu = new CPU(mem, { read: () => 0xff, write: () => {} });
  useTier(cpu, 1, engine);
  mem.loadBytes(0x1000, Uint8Array.of(0x40, 0xe9, ...le32(0x2000 - 0x1006)));
  mem.loadBytes(0x2000, Uint8Array.of(0x43, 0x49, 0x0f, 0x85, ...le32(0x1000 - 0x2008), 0xe9, ...le32(0x1000 - 0x200d)));
  cpu.enterFlatProtectedMode(0);
  cpu.eip = 0x1000;
  cpu.reg[1] = 1_000_000;
  cpu.run(5 * 300);
  const a = cpu.blocks.find(0x1000, 0x1000), b = cpu.blocks.find(0x2000, 0x2000);
  assert.ok(a !== null && b !== null, 'A and B have no blocks');
  return { cpu, a, b };
}

/** B's `inc ebx` made `inc edx`: B is dropped, and the next 200 rounds run the new code. */
function rewriteB(cpu: CPU, b: Block): void {
  const ebx = cpu.reg[3], edx = cpu.reg[2]!, eax = cpu.reg[0]!;
  cpu.mem.write8(0x2000, 0x42);
  assert.equal(b.live, false, 'B is still live after its code was written');
  cpu.run(5 * 200);
  assert.equal(cpu.reg[3], ebx, 'the old B ran after its code was written');
  assert.equal(cpu.reg[2], edx + 200, 'the new code did not run once per round');
  assert.equal(cpu.reg[0], eax + 200);
}

test('blocks: a block entered straight from the one before it (no look-up) is dropped like any other when its code is written', () => {
  // The dispatcher enters B from A and A from B through the `next` each remembers.
  const { cpu, a, b } = twoPages('js');
  assert.ok(a.next === b && b.next === a, 'A and B are not entered from each other');
  rewriteB(cpu, b);
});

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

test('blocks: in WebAssembly, a block the dispatch loop finds in its successor cache is dropped like any other when its code is written', () => {
  // The dispatch loop finds B after A and A after B in its successor cache, without the
  // block table and without going back to the JavaScript dispatcher, until B is rewritten.
  const { cpu, a, b } = twoPages('eager wasm');
  const tier = cpu.blocks.wasm!;
  assert.ok(a.wasm && b.wasm, 'A and B are not WebAssembly blocks');
  const dispatches = tier.stats.dispatches;
  cpu.run(5 * 200);
  assert.ok(tier.stats.dispatches - dispatches <= 2, `200 rounds took ${tier.stats.dispatches - dispatches} entries into the dispatch loop`);
  rewriteB(cpu, b);
});

test('blocks: an access the fast path cannot make leaves before its instruction; where every write is hooked, a store\'s slow path stays in the block', () => {
  // mov [eax], ebx; mov ecx, [edx]; hlt
  const page = new Uint8Array(4096);
  page.set([0x89, 0x18, 0x8b, 0x0a, 0xf4], CODE & 0xfff);
  const leaving = compileBlock(page, CODE & 0xfff, CODE)!;
  assert.doesNotMatch(leaving.source, /c\.(wr|rd)\w*\(/, 'a slow path calls the CPU in the block');
  assert.equal(leaving.source.match(/lv = 1; break out;/g)?.length, 2, 'the load and the store do not both leave');
  const hooked = compileBlock(page, CODE & 0xfff, CODE, () => false, true)!;
  assert.match(hooked.source, /c\.wr32\(/, 'with every write hooked, the store does not call the CPU in place');
  assert.doesNotMatch(hooked.source, /c\.rd32\(/, 'with every write hooked, the load still leaves');
  // Run: the interpreter makes the accesses the blocks leave for (here, on a page first
  // touched, so its TLB entries are not there yet), in as many instructions.
  const states = CPU_TIERS.map(([, threshold, engine]) => {
    const cpu = machine(threshold, [0x89, 0x18, 0x8b, 0x0a, 0xf4], CODE, engine);
    cpu.reg[0] = 0x30000;
    cpu.reg[3] = 0x12345678;
    cpu.reg[2] = 0x30000;
    cpu.run(10);
    return `${cpu.instructionCount} ${cpu.halted} ${cpu.reg[1]!.toString(16)}`;
  });
  assert.deepEqual(new Set(states), new Set(['3 true 12345678']));
});

test('blocks: instructions run in place one after another are one call for the group, which stops where each alone would, on every tier', () => {
  // push ds; push es; rep stosd; mov es, ax; hlt: four in place, one group.
  const code = [0x1e, 0x06, 0xf3, 0xab, 0x8e, 0xc0, 0xf4];
  const page = new Uint8Array(4096);
  page.set(code, CODE & 0xfff);
  const source = compileBlock(page, CODE & 0xfff, CODE)!.source;
  assert.equal(source.match(/c\.stepRun\(/g)?.length, 1, 'one call for the four');
  assert.doesNotMatch(source, /c\.step\(\)/);
  const run = (ecx: number, selector: number) => CPU_TIERS.map(([, threshold, engine]) => {
    const cpu = machine(threshold, code, CODE, engine);
    cpu.reg[0] = selector;
    cpu.reg[1] = ecx;
    cpu.reg[4] = 0x8000;
    cpu.reg[7] = 0x20000;
    cpu.run(100);
    return `${cpu.instructionCount} ${cpu.eip.toString(16)} ${cpu.halted} ${cpu.shutdown} ${cpu.reg[1]} ${cpu.reg[4]!.toString(16)} ${cpu.sel[0]}`;
  });
  // The rep stops after 4,096 elements with EIP on itself (the group stops there and goes
  // on as the next instruction), then the selector loads.
  const [interpreted, ...compiled] = run(5000, 0);
  for (const state of compiled) assert.equal(state, interpreted);
  assert.match(interpreted!, /^6 \S+ true false 0 7ff8 0$/);
  // The selector is past the GDT's limit: #GP at mov es, with no IDT to take it (a shutdown).
  const [faulted, ...others] = run(3, 0xfff8);
  for (const state of others) assert.equal(state, faulted);
  assert.match(faulted!, /^4 1004 true true 0 /);
});

test('blocks: in and out from a block reach the port at the instruction count the interpreter gives, and a port that raises an event ends the block there, on every tier', () => {
  // mov edx, 0x1f7; out dx, al; in al, dx; out 0x80, eax; in eax, 0x71; inc ebx; in al, dx; hlt
  const code = [0xba, 0xf7, 0x01, 0x00, 0x00, 0xee, 0xec, 0xe7, 0x80, 0xe5, 0x71, 0x43, 0xec, 0xf4];
  const page = new Uint8Array(4096);
  page.set(code, CODE & 0xfff);
  const source = compileBlock(page, CODE & 0xfff, CODE)!.source;
  assert.equal(source.match(/c\.portIn\(/g)?.length, 3);
  assert.equal(source.match(/c\.portOut\(/g)?.length, 2);
  const states = CPU_TIERS.map(([, threshold, engine]) => {
    const log: string[] = [];
    const mem = new PhysicalMemory(1 << 20);
    let reads = 0;
    const cpu: CPU = new CPU(mem, {
      read: (port, size) => {
        log.push(`in ${port.toString(16)}/${size} at ${cpu.instructionCount}`);
        // The second read raises an event: the block must leave right after its instruction.
        if (++reads === 2) cpu.notifyInterrupt();
        return 0x80 + reads;
      },
      write: (port, size, value) => { log.push(`out ${port.toString(16)}/${size} ${value.toString(16)} at ${cpu.instructionCount}`); },
    });
    useTier(cpu, threshold, engine);
    mem.loadBytes(CODE, Uint8Array.from(code));
    cpu.enterFlatProtectedMode(0);
    for (let pass = 0; pass < 3; pass++) {
      cpu.eip = CODE;
      cpu.halted = false;
      cpu.reg[0] = 0x12345678;
      reads = 0;
      const ran: number[] = [];
      while (!cpu.halted) ran.push(cpu.run(1000));
      log.push(`batches ${ran.join(',')}`);
    }
    return `${log.join('; ')} eax ${cpu.reg[0]!.toString(16)} ebx ${cpu.reg[3]}`;
  });
  assert.equal(new Set(states).size, 1, states.join('\n'));
  assert.match(states[0]!, /^out 1f7\/1 78 at 1; in 1f7\/1 at 2; out 80\/4 12345681 at 3; in 71\/4 at 4; in 1f7\/1 at 6; batches 8; /);
});

test('blocks: a module of WebAssembly blocks imports no functions (its calls out go through one table), and the calls reach the CPU', () => {
  // V8 compiles a wrapper for calling JavaScript for every signature of a module's imported
  // functions when it compiles the module: ten of them were most of what making a module cost.
  const made: WebAssembly.Module[] = [];
  const Module = WebAssembly.Module;
  WebAssembly.Module = new Proxy(Module, {
    construct(target, args: [BufferSource]) {
      const m = new target(...args);
      made.push(m);
      return m;
    },
  });
  try {
    // mov edx, 0x71; L: in al, dx; add bl, al; dec ecx; jnz L; hlt (the in is a call out: bl sums what it read)
    const code = [0xba, 0x71, 0x00, 0x00, 0x00, 0xec, 0x00, 0xc3, 0x49, 0x75, 0xfa, 0xf4];
    const mem = new PhysicalMemory(1 << 20);
    let reads = 0;
    const cpu = new CPU(mem, { read: () => ++reads & 0xff, write: () => {} });
    useTier(cpu, 1, 'eager wasm');
    mem.loadBytes(CODE, Uint8Array.from(code));
    cpu.enterFlatProtectedMode(0);
    cpu.eip = CODE;
    cpu.reg[1] = 300;
    while (!cpu.halted) cpu.run(1000);
    assert.equal(reads, 300);
    assert.equal(cpu.reg[3]! & 0xff, (300 * 301 / 2) & 0xff);
    assert.ok(cpu.blocks.wasm !== null && cpu.blocks.wasm.stats.translated > 0, 'no block was translated');
  } finally {
    WebAssembly.Module = Module;
  }
  const blockModules = made.filter((m) => WebAssembly.Module.exports(m).some((e) => e.name === 'b0'));
  assert.ok(blockModules.length > 0, 'no module of blocks was made');
  for (const m of blockModules) {
    assert.deepEqual(WebAssembly.Module.imports(m).map((i) => `${i.kind} ${i.name}`).sort(), ['memory memory', 'table calls']);
  }
});

test('blocks: PUSHA and POPA across into a page not present fault as the interpreter does (ESP and registers kept), on every tier', () => {
  // Paging on, 0-4 MiB mapped one to one but for the page at 0x7000. A loop of PUSHA; POPA
  // runs (compiled after its first rounds) with the stack at 0x9000; then ESP moves to where
  // PUSHA's fifth store, or POPA's first load, is in the missing page: #PF, whose handler
  // halts. Every tier must end in the interpreter's state: EIP, CR2, registers (ESP as it
  // was before the instruction), the fault's frame and the stack.
  const GDT = 0x700, IDT = 0x800, DIR = 0x1000, TABLE = 0x2000, CODE2 = 0x3000, HANDLER = 0x4000, MISSING = 0x7000;
  for (const [what, last, esp, cr2] of [['PUSHA', 0x60, 0x8010, 0x7ffc], ['POPA', 0x61, 0x6ff0, 0x7000]] as const) {
    // L: pusha; popa; dec ecx; jnz L; mov esp, <esp>; pusha or popa; hlt
    const code = [0x60, 0x61, 0x49, 0x75, 0xfb, 0xbc, esp & 0xff, esp >> 8, 0x00, 0x00, last, 0xf4];
    const outcomes = CPU_TIERS.map(([name, threshold, engine]) => {
      const mem = new PhysicalMemory(1 << 22);
      const cpu = new CPU(mem, { read: () => 0xff, write: () => {} });
      useTier(cpu, threshold, engine);
      mem.write32(GDT + 8, 0x0000ffff); mem.write32(GDT + 12, 0x00cf9a00);
      mem.write32(GDT + 16, 0x0000ffff); mem.write32(GDT + 20, 0x00cf9200);
      mem.write32(IDT + 14 * 8, (0x08 << 16) | HANDLER); mem.write32(IDT + 14 * 8 + 4, 0x8e00);
      mem.write32(DIR, TABLE | PTE_P | PTE_W);
      for (let page = 0; page < 1024; page++) if (page << 12 !== MISSING) mem.write32(TABLE + page * 4, (page << 12) | PTE_P | PTE_W);
      mem.loadBytes(CODE2, Uint8Array.from(code));
      mem.loadBytes(HANDLER, Uint8Array.of(0xf4));
      cpu.gdtBase = GDT; cpu.gdtLimit = 23;
      cpu.idtBase = IDT; cpu.idtLimit = 0x7ff;
      cpu.enterFlatProtectedMode(0);
      cpu.setCr3(DIR);
      cpu.setCr0(cpu.cr0 | CR0_PG);
      cpu.eip = CODE2;
      cpu.reg.set([0x11111111, 50, 0x33333333, 0x44444444, 0x9000, 0x66666666, 0x77777777, 0x88888888]);
      for (let i = 0; i < 100 && !cpu.halted; i++) cpu.run(1000);
      assert.ok(cpu.halted, `${what}, ${name}: the code did not halt`);
      const top = cpu.reg[4]!;
      return {
        eip: cpu.eip >>> 0, cr2: cpu.cr2 >>> 0, regs: Array.from(cpu.reg), instructions: cpu.instructionCount,
        frame: [0, 1, 2, 3].map((i) => mem.read32(top + 4 * i)), stack: Array.from({ length: 12 }, (_, i) => mem.read32(esp - 16 + 4 * i)),
      };
    });
    const interpreter = outcomes[0]!;
    assert.equal(interpreter.eip, HANDLER + 1, `${what}: the interpreter did not reach the #PF handler`);
    assert.equal(interpreter.cr2, cr2, `${what}: the fault's address`);
    assert.equal(interpreter.frame[1], CODE2 + 10, `${what}: the fault is not the instruction's`);
    // The frame sits right below the ESP the instruction started from.
    assert.equal(interpreter.regs[4]! + 16, esp, `${what}: ESP changed before the fault`);
    CPU_TIERS.slice(1).forEach(([name], i) => assert.deepEqual(outcomes[i + 1], interpreter, `${what}: ${name} differs from the interpreter`));
  }
});

test('blocks: the WebAssembly translator refuses a block text that declares a name twice (one local there, two variables or an error in JavaScript)', () => {
  const mem = new PhysicalMemory(1 << 20);
  const cpu = new CPU(mem, { read: () => 0xff, write: () => {} });
  const tier = useWasmTier(cpu, true);
  // A text in the block compiler's form: EAX + 1 (or + 1, then + 2 into the same name) into EAX.
  const text = (body: string) => [
    'return (function block(c) {',
    'const R = c.reg, SG = c.sel, tr = c.tlbR, tw = c.tlbW, u8 = c.u8, u16 = c.u16, i32 = c.i32, left = c.batchLeft;',
    'let t = 0, s = 0, done = 0, x = 0, L = 0, g0 = R[0];',
    'out: for (;;) switch (L) {',
    'case 0: {', body, 'g0 = a0;', '{ x = 4098; done += 1; break out; }', '}',
    'default: { x = (4096 + L) | 0; break out; }',
    '}',
    'R[0] = g0; c.eip = x; c.batchLeft = left - done;',
    '});',
  ].join('\n');
  assert.notEqual(tier.translate(text('const a0 = (g0 + 1) | 0;')), null, 'the text with one declaration was refused');
  assert.equal(tier.translate(text('const a0 = (g0 + 1) | 0;\nconst a0 = (g0 + 2) | 0;')), null, 'a name declared twice was translated');
  assert.equal(tier.stats.refused, 1);
});
