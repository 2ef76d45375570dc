/**
 * The prebuilt MemV6 (prebuilt/memv6, what `npm install` unpacks on a machine with only
 * Node) is exactly what guest/ builds, and boots to the shell with every program mirrored
 * from those files alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { guestBuildDir } from '../../src/paths.js';
import { PREBUILT_FILES, prebuiltImage, unpackPrebuilt } from '../../src/prebuilt.js';
import { repoRoot, scratch } from '../support/build.js';

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex').slice(0, 16);

test('prebuilt MemV6: the shipped kernel and disks are what guest/ builds', () => {
  for (const name of PREBUILT_FILES) {
    const built = readFileSync(join(guestBuildDir, name));
    const shipped = prebuiltImage(name);
    assert.ok(Buffer.compare(built, shipped) === 0,
      `prebuilt/memv6/${name}.gz (${sha(shipped)}) is not what guest/ builds (${sha(built)}): run make -C guest prebuilt and commit prebuilt/memv6`);
  }
});

test('prebuilt MemV6: unpacked on its own, it boots to the shell with mirrored programs', () => {
  const dir = scratch('prebuilt');
  unpackPrebuilt(dir);
  const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'run', '--seed', '1', '--timeout', '300',
    '--kernel', join(dir, 'kernel'), '--hdb', join(dir, 'fs-mirrored.img'), '--send', 'echo booted-from-prebuilt\\n', '--until', '^booted-from-prebuilt'],
  { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^booted-from-prebuilt/m);
});
