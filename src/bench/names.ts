/** The usertests sub-test names, read from usertests' own table so the two never drift apart. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';

export function usertestsNames(): string[] {
  const source = readFileSync(join(packageRoot, 'guest', 'user', 'usertests.c'), 'latin1');
  return [...source.matchAll(/\{ "([a-z0-9]+)", test_[a-z0-9]+ \}/g)].map((m) => m[1]!);
}
