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
/**
 * `apt-get update`, tried three times: a Debian mirror part-way through a sync serves
 * index files of the wrong size for a while ("Mirror sync in progress?"), and apt-get
 * then fails the whole update though most lists were fetched. After the third failure the
 * steps go on with the lists apt has: the install or download after it says whether a
 * package is really missing.
 */
const APT_UPDATE = 'for try in 1 2 3; do apt-get update && exit 0; [ $try = 3 ] || sleep 10; done; ' +
  'echo "npm test: apt-get update failed three times; going on with the package lists apt has" >&2';
const ADD_I386 = 'dpkg --print-foreign-architectures | grep -qx i386 || dpkg --add-architecture i386';
const DOWNLOAD_BUSYBOX = `mkdir -p build/apps && cd build/apps && apt-get download busybox-static:i386 && dpkg-deb --fsys-tarfile busybox-static_*_i386.deb | tar -xO ./bin/busybox > busybox.part && chmod +x busybox.part && mv busybox.part busybox && rm busybox-static_*_i386.deb`;
/** A step as a person would type it (the retries left out). */
const shown = (step: string): string => (step === APT_UPDATE ? 'apt-get update' : step);

const asRoot = (): boolean => process.getuid?.() === 0 && has('apt-get');

/** Runs shell steps with apt-get's non-interactive settings; false (after saying which failed) if one fails. */
function runSteps(steps: string[]): boolean {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const step of steps) {
    if (spawnSync('sh', ['-c', step], { stdio: 'inherit', env }).status !== 0) {
      process.stderr.write(`npm test: '${shown(step)}' failed; run it by hand, then npm test again\n`);
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
      ...(busybox ? [] : [ADD_I386]),
      APT_UPDATE,
      ...(missing.length > 0 ? [`apt-get install -y --no-install-recommends ${missing.join(' ')}`] : []),
      ...(busybox ? [] : [DOWNLOAD_BUSYBOX]),
    ];
    const what = [...missing, ...(busybox ? [] : [`busybox-static:i386 in ${BUSYBOX}`])];
    if (!asRoot()) {
      process.stderr.write(`npm test: the tests need ${what.join(', ')}; as root, run:\n${steps.map((s) => `  ${shown(s)}\n`).join('')}`);
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
