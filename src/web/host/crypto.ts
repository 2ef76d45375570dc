/**
 * node:crypto's createHash('sha256'), the one use snapshots make of it, in the web page's
 * bundle (src/web/build.ts maps node:crypto here): SHA-256 by @noble/hashes, synchronous
 * as snapshot files are read and written (Web Crypto's digest is asynchronous).
 */
import { sha256 } from '@noble/hashes/sha2.js';

export function createHash(algorithm: string): { update(data: Uint8Array): { digest(): Uint8Array } } {
  if (algorithm !== 'sha256') throw new Error(`internal error: the web page's createHash knows sha256 only, not ${algorithm}`);
  const hash = sha256.create();
  const state = { update: (data: Uint8Array) => { hash.update(data); return state; }, digest: () => hash.digest() };
  return state;
}
