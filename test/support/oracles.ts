/**
 * `npm test`'s first step: the oracles and tools the tests compare against or need —
 * QEMU (system and user), make and a 32-bit gcc (test programs, and MemV6 built from its
 * sources), Slurm with munge, chromium, gdb, and Debian's i386 busybox-static — are
 * installed with apt-get when missing and we are root; otherwise the tests stop at once,
 * naming the commands to run. Then MemV6 is
 * built from guest/ if `npm install` had to unpack the prebuilt one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { guestBuildDir } from '../../src/paths.js';
import { canBuildGuest, installGuest } from '../../src/prebuilt.js';

const has = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

/** Debian packages, each with how to tell it is there. */
const NEEDS: Array<[string, () => boolean]> = [
  ['qemu-system-x86', () => has('qemu-system-i386')],
  ['qemu-user', () => has('qemu-i386')],
  ['make', () => has('make')],
  ['gcc-multilib', () => canBuildGuest()],
  ['slurm-wlm', () => has('slurmctld')],
  ['munge', () => has('munged')],
  ['chromium', () => existsSync('/usr/bin/chromium')],
  ['gdb', () => has('gdb')],
];

/** Debian's i386 busybox-static, unpacked where test/apps looks for it (a real program nobody here built). */
const BUSYBOX = join('build', 'apps', 'busybox');
const BUSYBOX_STEPS = [
  'dpkg --print-foreign-architectures | grep -qx i386 || { dpkg --add-architecture i386 && apt-get update; }',
  `mkdir -p build/apps && cd build/apps && apt-get download busybox-static:i386 && dpkg-deb --fsys-tarfile busybox-static_*_i386.deb | tar -xO ./bin/busybox > busybox.part && chmod +x busybox.part && mv busybox.part busybox && rm busybox-static_*_i386.deb`,
];

const asRoot = (): boolean => process.getuid?.() === 0 && has('apt-get');

/** Runs shell steps with apt-get's non-interactive settings; false (after saying which failed) if one fails. */
function runSteps(steps: string[]): boolean {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const step of steps) {
    if (spawnSync('sh', ['-c', step], { stdio: 'inherit', env }).status !== 0) {
      process.stderr.write(`npm test: '${step}' failed; run it by hand, then npm test again\n`);
      return false;
    }
  }
  return true;
}

function main(): number {
  const missing = NEEDS.filter(([, present]) => !present()).map(([name]) => name);
  const busybox = existsSync(BUSYBOX);
  if (missing.length > 0 || !busybox) {
    const steps = [
      ...(missing.length > 0 ? ['apt-get update', `apt-get install -y --no-install-recommends ${missing.join(' ')}`] : []),
      ...(busybox ? [] : BUSYBOX_STEPS),
    ];
    const what = [...missing, ...(busybox ? [] : [`busybox-static:i386 in ${BUSYBOX}`])];
    if (!asRoot()) {
      process.stderr.write(`npm test: the tests need ${what.join(', ')}; as root, run:\n${steps.map((s) => `  ${s}\n`).join('')}`);
      return 1;
    }
    process.stderr.write(`npm test: installing what the tests need: ${what.join(', ')}\n`);
    if (!runSteps(steps)) return 1;
  }
  // npm install unpacked the prebuilt MemV6 (no toolchain then): the tests need it built from guest/.
  if (!existsSync(join(guestBuildDir, 'user'))) return installGuest();
  return 0;
}

process.exitCode = main();
