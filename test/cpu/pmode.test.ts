/**
 * Paging, privilege and exceptions: a small multiboot test kernel (test/cpu/pmode) that
 * builds its own GDT, IDT, TSS and page tables, provokes faults and prints what its trap
 * handler sees (vector, error code, CR2, EIP, CPL, stack, a string instruction's registers).
 * It runs on qemu-system-i386 and on memvisor's CPU, as memvisor runs it and with every
 * block compiled at first sight; the transcripts must be identical.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CPU, PhysicalMemory, type IoSpace } from '../../src/cpu/index.js';
import { loadMultiboot } from '../../src/machine/multiboot.js';
import { buildProgram, CPU_TIERS, repoRoot, scratch, useTier, type BlockEngine } from '../support/build.js';
import { requireQemuSystem, runQemuSystem } from '../support/qemu.js';

const dir = scratch('pmode');
const source = join(repoRoot, 'test', 'cpu', 'pmode');

/** COM1's data and line-status registers and QEMU's isa-debug-exit port: all the kernel uses. */
class TestPorts implements IoSpace {
  output = '';
  exited = false;
  constructor(private readonly cpu: () => CPU) {}
  read(port: number): number {
    return port === 0x3fd ? 0x60 : 0xff;
  }
  write(port: number, _size: number, value: number): void {
    if (port === 0x3f8) this.output += String.fromCharCode(value & 0xff);
    if (port === 0xf4) {
      this.exited = true;
      this.cpu().requestStop();
    }
  }
}

function buildKernel(): string {
  return buildProgram([join(source, 'entry.S'), join(source, 'tests.c')], join(dir, 'pmode.elf'),
    ['-ffreestanding', '-O1', '-Wall', '-Werror', '-Wl,-Ttext=0x100000']);
}

/**
 * The kernel's transcript on memvisor and the instructions it took; `threshold` 0 is the
 * interpreter alone, 1 compiles every block at first sight.
 */
function runOnMemvisor(kernel: string, threshold?: number, engine: BlockEngine = 'wasm'): { output: string; instructions: number } {
  const mem = new PhysicalMemory(64 << 20);
  let cpu: CPU | undefined;
  const ports = new TestPorts(() => cpu!);
  cpu = new CPU(mem, ports);
  useTier(cpu, threshold, engine);
  loadMultiboot(mem, cpu, readFileSync(kernel), kernel);
  for (let budget = 0; budget < 200 && !ports.exited && !cpu.shutdown && !cpu.halted; budget++) cpu.run(100_000);
  if (!ports.exited) ports.output += `\n[memvisor stopped: ${cpu.shutdown ? cpu.shutdownReason : cpu.halted ? 'halted' : 'instruction budget'}]\n${cpu.describe()}\n`;
  return { output: ports.output, instructions: cpu.instructionCount };
}

test('protected mode: paging, rings and exceptions print the same on qemu-system-i386 and memvisor', async (t) => {
  requireQemuSystem();
  const kernel = buildKernel();
  const qemu = await runQemuSystem({ kernel, memMiB: 64, until: /DONE\r?\n/, timeoutMs: 30_000, extraArgs: ['-device', 'isa-debug-exit,iobase=0xf4,iosize=4'] });
  assert.ok(qemu.matched, `the test kernel did not finish on QEMU:\n${qemu.output}`);
  const expected = qemu.output.replace(/\r/g, '');
  const traps = (expected.match(/^trap /gm) ?? []).length;
  t.diagnostic(`${expected.split('\n').filter((l) => l.endsWith(':')).length} checks, ${traps} traps compared`);
  const transcript = expected.slice(expected.indexOf('memvisor protected-mode tests'));
  const shipped = runOnMemvisor(kernel);
  assert.equal(shipped.output, transcript, 'as memvisor runs it (interpreter, blocks where code is hot)');
  // The interpreter alone, and every block compiled at first sight, as JavaScript and
  // translated into WebAssembly at once: the trap paths, segment loads, iret and faulting
  // string instructions inside blocks give what the interpreter gives, in as many
  // instructions.
  for (const [tier, threshold, engine] of CPU_TIERS.slice(0, 3)) {
    const run = runOnMemvisor(kernel, threshold, engine);
    assert.equal(run.output, transcript, `with ${tier}`);
    assert.equal(run.instructions, shipped.instructions, `instructions with ${tier}`);
  }
});
