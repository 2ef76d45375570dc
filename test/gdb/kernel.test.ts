/**
 * gdb on the MemV6 kernel through `memvisor run --gdb`: Debian's gdb in batch mode breaks
 * at exec, reads the process and the path, the registers and memory, steps by instruction
 * and by source line, uses a hardware breakpoint and a read watchpoint, interrupts a running
 * guest with Ctrl-C and ends the run; and a run stopped and continued ends exactly as one
 * without a debugger (same instructions, virtual time, device activity and console).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { scratch } from '../support/build.js';
import { assertSameAsWithoutGdb, debugMemV6, ECHO_RUN, KERNEL_ENTRY, requireGdb } from './support.js';

const dir = scratch('gdb-kernel');

test('gdb: break at exec in the MemV6 kernel, the process and path, registers, memory, stepping, a hardware breakpoint and a watchpoint; the run ends as without gdb', async () => {
  requireGdb();
  const stats = join(dir, 'exec.json');
  const session = await debugMemV6([...ECHO_RUN, '--stats', stats], [
    'info registers eip cs',
    'memv6-exec echo',
    'print cpu0.proc->name',
    'print path',
    'memv6-proc',
    'info registers eip cs ss ds cr0',
    'x/s path',
    'x/2xw $esp',
    'stepi',
    'info registers eip',
    'next',
    'info line *$pc',
    'hbreak namei',
    'continue',
    'bt 1',
    'delete',
    'rwatch -l cpu0.proc->sz',
    'continue',
    'delete',
    'continue',
  ], 'kernel');
  const { gdb: out, run: r, context } = session;
  // -S: the machine waits at the multiboot entry, before its first instruction.
  assert.match(out, new RegExp(`eip\\s+${KERNEL_ENTRY}\\s`), context);
  assert.match(out, /cs\s+0x8\s/, context);
  assert.match(out, /exec \(path=0x[0-9a-f]+ "echo", uargv=\d+\) at kernel\/exec\.c:\d+/, context);
  assert.match(out, /\$1 = "sh", '\\000' <repeats \d+ times>/, context);  // the shell is the process that runs exec
  assert.match(out, /\$2 = 0x[0-9a-f]+ "echo"/, context);
  assert.match(out, /pid \d+ \(sh\), state \d+, \d+ bytes, mirrored/, context);
  assert.match(out, /eip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <exec>/, context);
  assert.match(out, /cr0\s+0x80010011\s+\[ PG WP ET PE \]/, context);
  assert.match(out, /0x[0-9a-f]+:\s+"echo"/, context);
  assert.match(out, /0x[0-9a-f]+:\s+0x801[0-9a-f]{5}\s+0x[0-9a-f]{8}/, context);  // the return address into the kernel, then path
  assert.match(out, /eip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <exec\+\d+>/, context);       // one instruction further
  assert.match(out, /Line \d+ of "kernel\/exec\.c" starts at address/, context);
  assert.match(out, /Hardware assisted breakpoint \d+ at 0x[0-9a-f]+: file kernel\/fs\.c/, context);
  assert.match(out, /Breakpoint \d+, namei \(path=0x[0-9a-f]+ "echo"\)/, context);
  assert.match(out, /#0\s+namei/, context);
  assert.match(out, /Hardware read watchpoint \d+: -location cpu0\.proc->sz\s+Value = \d+/, context);
  assert.match(out, /\[Inferior 1 \(process 1\) exited normally\]/, context);
  assert.equal(r.code, 0, context);
  assert.match(r.stdout, /\nhi\n\$ $/, context);
  assertSameAsWithoutGdb(session, ECHO_RUN, stats);
});

test('gdb: Ctrl-C stops a running guest (at the shell prompt) with SIGINT; kill ends the run', async () => {
  requireGdb();
  const { gdb: out, run: r, context } = await debugMemV6(['--seed', '2', '--timeout', '600'], [
    'continue',
    'info registers cs',
    'x/i $pc',
    'kill',
  ], 'interrupt', /\$ $/);
  assert.match(out, /Program received signal SIGINT, Interrupt\./, context);
  assert.match(out, /cs\s+0x(8|1b)\s/, context);
  assert.match(out, /=> 0x[0-9a-f]+/, context);
  assert.match(out, /\[Inferior 1 \(process 1\) killed\]/, context);
  assert.match(r.stderr, /gdb: the debugger ended the run/, context);
});
