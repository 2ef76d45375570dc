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
import { differences, makeInputs, requireBusybox } from './apps.js';

/** [applet, arguments, stdin, expected exit status]. */
export const APPLETS: Array<[string, string[], string?, number?]> = [
  ['echo', ['hello', 'world']],
  ['cat', ['text.txt']],
  ['sha256sum', ['text.txt', 'nums.txt']],
  ['md5sum', ['text.txt']],
  ['sha1sum', ['nums.txt']],
  ['sort', ['-n', 'nums.txt']],
  ['sort', ['-k2,2', '-k1n', 'nums.txt']],
  ['uniq', ['-c'], 'a\na\nb\nc\nc\nc\n'],
  ['wc', ['text.txt', 'nums.txt']],
  ['head', ['-n', '5', 'text.txt']],
  ['tail', ['-n', '3', 'text.txt']],
  ['tr', ['a-z', 'A-Z'], 'hello, world\n'],
  ['cut', ['-d', ' ', '-f', '2', 'nums.txt']],
  ['grep', ['-n', 'memvisor', 'text.txt']],
  ['grep', ['-r', 'memvisor', 'tree']],
  ['sed', ['-e', 's/the/THE/g', '-e', '/^$/d', 'text.txt']],
  ['awk', ['{ s += $1; n[$2]++ } END { print s, NR, s / NR; print n["item3"] }', 'nums.txt']],
  ['expr', ['3', '*', '14']],
  ['seq', ['1', '3', '20']],
  ['printf', ['%5.2f|%x|%s|%e\\n', '3.14159', '255', 'str', '1e-7']],
  ['od', ['-A', 'x', '-t', 'x1', 'nums.txt']],
  ['base64', ['text.txt']],
  ['factor', ['1234567890', '97', '600851475143']],
  ['dc', ['-e', '2 64 ^ p 10 3 / p 7 k 2 v p']],
  ['bc', [], '2^100\nscale=20\n1/7\nsqrt(2)\n'],
  ['tac', ['nums.txt']],
  ['rev', [], 'abc\ndef\n'],
  ['fold', ['-w', '20', 'text.txt']],
  ['nl', ['nums.txt']],
  ['cmp', ['text.txt', 'nums.txt'], undefined, 1],
  ['diff', ['text.txt', 'nums.txt'], undefined, 1],
  ['ls', ['-1', 'tree/a']],
  ['find', ['tree', '-name', '*.txt']],
  ['du', ['-a', 'tree']],
  ['basename', ['/a/b/c.txt', '.txt']],
  ['dirname', ['/a/b/c.txt']],
  ['false', [], undefined, 1],
  ['xxd', ['nums.txt']],
  ['hexdump', ['-C', 'nums.txt']],
  ['sh', ['-c', 'for i in 1 2 3; do echo $i; done; echo $((6*7)); x=sub; echo ${x}way; test -d tree && echo dir; case $x in s*) echo match;; esac']],
  ['gzip', ['-c', '-9', 'text.txt']],
  ['stat', ['-c', '%s %F %n', 'text.txt', 'tree']],
  ['date', ['-u', '-d', '@1234567890']],
];

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
