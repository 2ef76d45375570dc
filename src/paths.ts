/**
 * Where memvisor finds what `npm install` built: the guest (MemV6 kernel, fs.img, the
 * benchmark program) lives in build/guest at the package root.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemvisorError } from './errors.js';

/** The package root (dist/src/paths.js → ../..). */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const guestBuildDir = join(packageRoot, 'build', 'guest');
/** The web page as `npm run build:web` writes it (served by `memvisor web`, measured by `bench web`). */
export const webRoot = join(packageRoot, 'dist', 'web');

/** A file `npm install` builds; a clear error if it is missing. */
export function builtFile(relative: string): string {
  const path = join(guestBuildDir, relative);
  if (!existsSync(path)) {
    throw new MemvisorError(`${path} is missing: build the guest first (npm install, or make -C guest)`);
  }
  return path;
}

/** memvisor's version, from package.json (snapshots record it). */
export const VERSION: string = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
