/**
 * QEMU is the oracle for what the remote protocol means: one gdb script, run against
 * qemu-system-i386's own stub (-gdb tcp:..., -S) and against `memvisor run --gdb -S`, stops
 * at the same breakpoints (MemV6's exec of /init, then init's main in user mode) with the
 * same registers, including segment and control registers, and the same memory. Both
 * machines get 800 MiB, which MemV6 caps at the 768 MiB it maps, so the kernel lays out
 * memory identically on both (below the cap QEMU's memory map keeps the top 128 KiB).
 * Only where the machine waits for the debugger differs: QEMU at the BIOS's reset vector,
 * memvisor at the multiboot entry (it has no BIOS), so that first line is not compared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { requireQemuSystem, runQemuSystem } from '../support/qemu.js';
import { build, freePort, gdbBatch, MEMV6_GDB, requireGdb, startMemvisor } from './support.js';

const MEM_MIB = 800;
const REGISTERS = 'info registers eax ecx edx ebx esp ebp esi edi eip eflags cs ss ds es fs gs cr0 cr2 cr3 cr4';
const SCRIPT = [
  'break exec',
  'continue',
  REGISTERS,
  'print path',
  // The process's fields, but not its saved context: where initcode was last switched out
  // depends, on QEMU, on when its timer (host time) fired, which a busy host moves (a
  // different kernel stack once under load: ebp 0xaffffddc against 0xafffff0c).
  'print cpu0.proc->sz', 'print cpu0.proc->pgdir', 'print cpu0.proc->kstack', 'print cpu0.proc->state', 'print cpu0.proc->pid',
  'print cpu0.proc->tf', 'print cpu0.proc->ofile', 'print cpu0.proc->cwd', 'print cpu0.proc->name', 'print cpu0.proc->mirrored',
  // The return address and exec's two arguments; the words above them are the caller's
  // frame, where stale values of earlier calls lie, and which of those an interrupt
  // overwrote depends, on QEMU, on its host-time timer too (once under load: 0x801045d4
  // 0x8010e67c against memvisor's 0x8010e67c 0x8010e580 at $esp+0x14).
  'x/3xw $esp',
  'stepi 5',
  'info registers eip esp ebp eflags',
  'x/4i $pc',
  'delete',
  'memv6-user init',
  'break main',
  'continue',
  REGISTERS,
  'print cpu0.proc->name',
  'x/7xw $esp',
  'next',
  'info registers eip',
  'kill',
].join('\n');

/** gdb's transcript without its first line (where the machine waited for the debugger). */
const fromFirstBreakpoint = (out: string) => out.slice(out.indexOf('\n') + 1);

test('gdb: QEMU\'s stub and memvisor\'s answer the same script with the same registers and memory at the same breakpoints', async () => {
  requireGdb();
  requireQemuSystem();
  const port = await freePort();
  const qemu = runQemuSystem({
    kernel: join(build, 'kernel'), hdb: join(build, 'fs-mirrored.img'), memMiB: MEM_MIB,
    until: /(?!)/, timeoutMs: 120_000, extraArgs: ['-gdb', `tcp:localhost:${port}`, '-S'],
  });
  const onQemu = await gdbBatch(port, SCRIPT, { name: 'qemu', before: MEMV6_GDB });
  await qemu;

  const run = await startMemvisor(['--mem', String(MEM_MIB), '--seed', '1', '--timeout', '120']);
  const onMemvisor = await gdbBatch(run.port, SCRIPT, { name: 'memvisor', before: MEMV6_GDB });
  await run.done;

  const context = `on QEMU:\n${onQemu}\non memvisor:\n${onMemvisor}`;
  assert.match(onQemu, /Breakpoint 1, exec \(path=0x[0-9a-f]+ "\/init", uargv=\d+\) at kernel\/exec\.c/, context);
  assert.match(onQemu, /Breakpoint \d+, main \(\) at user\/init\.c/, context);
  assert.match(onQemu, /cs\s+0x1b\s/, context);  // the second stop is in user mode
  assert.match(onQemu, /\$\d+ = "init\\000ode/, context);
  assert.match(onQemu, /\[Inferior 1 \(process 1\) killed\]/, context);
  assert.equal(fromFirstBreakpoint(onMemvisor), fromFirstBreakpoint(onQemu), context);
});
