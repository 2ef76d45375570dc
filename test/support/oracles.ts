/**
 * `npm test`'s first step: the oracles and tools the tests compare against or need —
 * QEMU (system and user), make and a 32-bit gcc (test programs, and MemV6 built from its
 * sources), Slurm with munge, chromium — are installed with apt-get when missing and we
 * are root; otherwise the tests stop at once, naming the one command to run. Then MemV6 is
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
];

function main(): number {
  const missing = NEEDS.filter(([, present]) => !present()).map(([name]) => name);
  if (missing.length > 0) {
    const install = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
    if (process.getuid?.() !== 0 || !has('apt-get')) {
      process.stderr.write(`npm test: the tests need ${missing.join(', ')}; install ${missing.length > 1 ? 'them' : 'it'} with:\n  sudo apt-get update && sudo ${install}\n`);
      return 1;
    }
    process.stderr.write(`npm test: installing what the tests need: ${missing.join(' ')}\n`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const step of ['apt-get update', install]) {
      if (spawnSync('sh', ['-c', step], { stdio: 'inherit', env }).status !== 0) {
        process.stderr.write(`npm test: '${step}' failed; run it by hand, then npm test again\n`);
        return 1;
      }
    }
  }
  // npm install unpacked the prebuilt MemV6 (no toolchain then): the tests need it built from guest/.
  if (!existsSync(join(guestBuildDir, 'user'))) return installGuest();
  return 0;
}

process.exitCode = main();
