/**
 * gdb in a translated MemV6 program (build/guest/mirrored/echo, whose debug information
 * the translator moved with its code): a breakpoint at main by name, source lines, stepping,
 * arguments; a write watchpoint on a mirrored variable and on its twin, each store hit;
 * `monitor mirror` shows the two copies equal; `monitor inject` poisons the variable's frame
 * and the run continues to a recovered end with the right output; memory and registers
 * written from gdb reach the guest, and a detached run goes on to its end; with the hardware
 * mirror (and the interpreter alone), `monitor mirror` shows the monitor's copy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { scratch } from '../support/build.js';
import { assertSameAsWithoutGdb, debugMemV6, ECHO_RUN, requireGdb, statsOf } from './support.js';

const dir = scratch('gdb-user');
/**
 * Stops in the translated echo's main, its symbols loaded. MemV6 brings a program's pages
 * in at their first touch, so this stop comes before main's first instruction is fetched:
 * stepping from here goes through the page fault into the kernel's trap entry (as on
 * qemu-system-i386's stub, test/gdb/qemu.test.ts), and main's page comes back in under a
 * breakpoint kept there. The breakpoint is temporary, and the tests `advance` to a line.
 */
const AT_ECHO_MAIN = ['memv6-exec echo', 'memv6-user echo', 'tbreak main', 'continue'];
/** The first stop at main, whether its breakpoint is temporary or not. */
const MAIN_STOP = /[Bb]reakpoint \d+, main \(argc=2, argv=0x[0-9a-f]+\) at user\/echo\.c:32/;

test('gdb: source lines and stepping in a translated program; a watchpoint on a mirrored variable sees the native and the mirror store; monitor mirror shows equal bytes', async () => {
  requireGdb();
  const stats = join(dir, 'watch.json');
  const session = await debugMemV6([...ECHO_RUN, '--stats', stats], [
    ...AT_ECHO_MAIN,
    'info line *$pc',
    'print argc',
    'print argv[1]',
    'advance 33',
    'info line *$pc',
    'mwatch used',
    'continue',
    'bt 2',
    'continue',
    'eval "monitor mirror 0x%x 4", &used',
    'monitor p2m',
    'delete',
    'continue',
  ], 'user');
  const { gdb: out, run: r, context } = session;
  assert.match(out, MAIN_STOP, context);
  assert.match(out, /Line 32 of "user\/echo\.c" starts at address 0x[0-9a-f]+ <main>/, context);
  assert.match(out, /\$1 = 2\n/, context);
  assert.match(out, /\$2 = 0x[0-9a-f]+ "hi"/, context);
  assert.match(out, /\n33\t\s+put\(argv\[i\], strlen\(argv\[i\]\)\);/, context);
  assert.match(out, /Line 33 of "user\/echo\.c"/, context);
  // The translated store writes the variable, then its twin 0x40000000 higher: two stops, one
  // value. The old value is unreadable when the variable's page had not come in yet.
  const native = /Hardware watchpoint \d+: used\s+Old value = (0|<unreadable>)\s+New value = 2\s+0x[0-9a-f]+ in put \(s=[^)]*\) at user\/echo\.c:17\s+17\s+used \+= chunk;/;
  const mirror = /Hardware watchpoint \d+: \*\(int \*\) 0x4[0-9a-f]{7}\s+Old value = (0|<unreadable>)\s+New value = 2\s+put \(s=[^)]*\) at user\/echo\.c:\d+/;
  assert.match(out, native, context);
  assert.match(out, mirror, context);
  assert.match(out, /#1\s+0x[0-9a-f]+ in main \(argc=2, argv=0x[0-9a-f]+\) at user\/echo\.c:33/, context);
  assert.match(out, /native 0x0000[0-9a-f]{4}: guest-physical 0x[0-9a-f]{8}, host frame 0x[0-9a-f]+: 02 00 00 00/, context);
  assert.match(out, /mirror 0x4000[0-9a-f]{4}: guest-physical 0x[0-9a-f]{8}, host frame 0x[0-9a-f]+: 02 00 00 00/, context);
  assert.match(out, /equal: 4 bytes/, context);
  assert.match(out, /all \d+ guest frames are at their own host frames/, context);
  assert.match(out, /\[Inferior 1 \(process 1\) exited normally\]/, context);
  assert.equal(r.code, 0, context);
  assertSameAsWithoutGdb(session, ECHO_RUN, stats);
});

test('gdb: monitor inject poisons a mirrored variable\'s frame; the run continues and the monitor recovers it from the twin', async () => {
  requireGdb();
  const stats = join(dir, 'poisoned.json');
  const { gdb: out, run: r, context } = await debugMemV6([...ECHO_RUN, '--stats', stats], [
    ...AT_ECHO_MAIN,
    'advance 37',  // put("\n", 1): `used` has been written, its page is in
    'memv6-poison used',
    'eval "monitor mirror 0x%x 4", &used',
    'delete',
    'continue',
  ], 'poison');
  assert.match(out, /planned poison:addr=0x[0-9a-f]+ at cycle (\d+); now is cycle \1/, context);
  assert.match(out, /\[Inferior 1 \(process 1\) exited normally\]/, context);
  assert.equal(r.code, 0, context);
  assert.match(r.stdout, /\nhi\n\$ $/, context);
  const errors = statsOf(stats).memoryErrors as { injected: number; activated: number; recoveredByMonitor: number; machineChecks: number };
  assert.equal(errors.injected, 1, context);
  assert.ok(errors.activated >= 1 && errors.recoveredByMonitor === errors.activated, `${JSON.stringify(errors)}\n${context}`);
  assert.equal(errors.machineChecks, 0, context);
});

test('gdb: memory and registers written from gdb reach the guest; after detach the run goes on to its end', async () => {
  requireGdb();
  const { gdb: out, run: r, context } = await debugMemV6(['--seed', '1', '--send', 'echo hi\\n', '--until', 'Hi\\n\\$ '], [
    ...AT_ECHO_MAIN,
    "set var argv[1][0] = 'H'",
    'print argv[1]',
    'set var $edi = 0x12345678',
    'maintenance flush register-cache',
    'print/x $edi',
    'detach',
  ], 'write');
  assert.match(out, /\$1 = 0x[0-9a-f]+ "Hi"/, context);
  assert.match(out, /\$2 = 0x12345678/, context);
  assert.match(out, /\[Inferior 1 \(process 1\) detached\]/, context);
  assert.match(r.stderr, /gdb: the debugger detached; the machine runs on/, context);
  assert.equal(r.code, 0, context);
  assert.match(r.stdout, /\$ echo hi\nHi\n\$ $/, context);  // what the shell typed is unchanged; echo printed what gdb wrote
});

test('gdb: with --mirror hardware on the interpreter alone, monitor mirror shows the monitor\'s copy; the run ends as without gdb', async () => {
  requireGdb();
  const args = [...ECHO_RUN, '--mirror', 'hardware', '--interpreter'];
  const stats = join(dir, 'hardware.json');
  const session = await debugMemV6([...args, '--stats', stats], [
    'memv6-exec echo', 'memv6-plain echo', 'tbreak main', 'continue',
    'advance 33',
    'watch used',
    'continue',
    'eval "monitor mirror 0x%x 4", &used',
    'monitor mirror 0x80100000 4',
    'delete',
    'continue',
  ], 'hardware');
  const { gdb: out, run: r, context } = session;
  assert.match(out, MAIN_STOP, context);
  assert.match(out, /Hardware watchpoint \d+: used\s+Old value = 0\s+New value = 2/, context);
  assert.match(out, /twin: the hardware mirror \(the monitor's copy of every frame\)\nmirror \(no address\): guest-physical 0x[0-9a-f]{8}, host frame 0x[0-9a-f]+: 02 00 00 00\nequal: 4 bytes/, context);
  assert.match(out, /native 0x80100000: guest-physical 0x00100000, host frame 0x100: (.. .. .. ..)\n.*\nmirror \(no address\): guest-physical 0x00100000, host frame 0x[0-9a-f]+: \1\nequal: 4 bytes/, context);
  assert.equal(r.code, 0, context);
  assertSameAsWithoutGdb(session, args, stats);
});
