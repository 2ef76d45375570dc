/**
 * The MemV6 that memvisor runs by default, built or prebuilt: `npm install`'s guest step. With `make` and a gcc that builds 32-bit code, MemV6 is built
 * from guest/ (`make -C guest`). Without them, the kernel and disks shipped in
 * prebuilt/memv6 (rebuilt by `make -C guest prebuilt`, and checked by a test to be what
 * guest/ builds) are unpacked into build/guest, so a machine with only Node can run
 * memvisor (src/install-guest.ts runs this).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { guestBuildDir, packageRoot } from './paths.js';

export const PREBUILT_DIR = join(packageRoot, 'prebuilt', 'memv6');
/** What prebuilt/memv6 holds: the kernel and both disks (gzipped), by their names in build/guest. */
export const PREBUILT_FILES = ['kernel', 'kernel-system', 'fs.img', 'fs-mirrored.img'];

/** A prebuilt file's bytes. */
export function prebuiltImage(name: string): Uint8Array {
  return gunzipSync(readFileSync(join(PREBUILT_DIR, `${name}.gz`)));
}

/** Whether this machine can build MemV6: make, and a gcc that compiles and links 32-bit code. */
export function canBuildGuest(): boolean {
  if (spawnSync('make', ['--version'], { stdio: 'ignore' }).status !== 0) return false;
  const dir = mkdtempSync(join(tmpdir(), 'memvisor-gcc-'));
  try {
    writeFileSync(join(dir, 'probe.c'), 'int main(void) { return 0; }\n');
    return spawnSync('gcc', ['-m32', '-o', join(dir, 'probe'), join(dir, 'probe.c')], { stdio: 'ignore' }).status === 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes the prebuilt kernel and disks into `dir`. */
export function unpackPrebuilt(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const name of PREBUILT_FILES) writeFileSync(join(dir, name), prebuiltImage(name));
}

/** Builds MemV6, or unpacks the prebuilt one where it cannot be built; the exit status. */
export function installGuest(): number {
  if (canBuildGuest()) return spawnSync('make', ['-C', join(packageRoot, 'guest')], { stdio: 'inherit' }).status ?? 1;
  unpackPrebuilt(guestBuildDir);
  process.stderr.write('memvisor: no make or 32-bit gcc here: using the prebuilt MemV6 kernel and disks (prebuilt/memv6). ' +
    'To build MemV6 from guest/: apt-get install -y make gcc-multilib, then make -C guest\n');
  return 0;
}

