/**
 * Scratch directories for tests: one per call, under the system's temporary directory,
 * removed when the test file's process ends with every test passed. After a failure they
 * are kept, with whatever the failing test left there (serial logs, disk images, programs).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** A new scratch directory named memvisor-PREFIX-XXXXXX. */
export function scratch(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `memvisor-${prefix}-`));
  if (made.length === 0) {
    process.once('exit', (code) => {
      if (code !== 0) return;
      for (const d of made) rmSync(d, { recursive: true, force: true });
    });
  }
  made.push(dir);
  return dir;
}
