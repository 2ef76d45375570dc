/**
 * Debian's busybox-static (i386, stripped, static glibc) under `memvisor exec`, applet by
 * applet against qemu-i386: the same arguments, stdin, environment and working directory
 * (a directory of generated inputs), the same stdout and exit status. Unanswered system
 * calls end the run (--strict), so none is papered over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memvisorRunner, qemuUserRunner } from '../support/build.js';
import { requireQemuUser } from '../support/qemu.js';
import { APPLETS, differences, makeInputs, requireBusybox } from './apps.js';

test('busybox-static under memvisor exec: each applet matches qemu-i386', (t) => {
  requireQemuUser();
  const busybox = requireBusybox();
  const dir = makeInputs('busybox');
  const problems: string[] = [];
  for (const [applet, args, input, status] of APPLETS) {
    const setup = { cwd: dir, env: ['LANG=C', 'HOME=/nonexistent'], stdin: input === undefined ? undefined : Buffer.from(input, 'latin1') };
    const expected = qemuUserRunner(busybox, [applet, ...args], setup);
    const actual = memvisorRunner(busybox, [applet, ...args], 2e9, undefined, { ...setup, strict: true });
    for (const line of differences(expected, actual, status ?? 0)) problems.push(`busybox ${applet} ${JSON.stringify(args)}: ${line}`);
  }
  // A round trip through gzip and gunzip on the same input.
  const gz = memvisorRunner(busybox, ['gzip', '-c', 'text.txt'], 2e9, undefined, { cwd: dir, strict: true });
  const back = memvisorRunner(busybox, ['gunzip', '-c'], 2e9, undefined, { cwd: dir, stdin: gz.stdout, strict: true });
  const expectedBack = qemuUserRunner(busybox, ['cat', 'text.txt'], { cwd: dir });
  for (const line of differences(expectedBack, back, 0)) problems.push(`busybox gunzip of memvisor's gzip: ${line}`);
  t.diagnostic(`${APPLETS.length} applet runs and a gzip/gunzip round trip compared with qemu-i386 (inputs in ${dir})`);
  assert.deepEqual(problems, []);
});
