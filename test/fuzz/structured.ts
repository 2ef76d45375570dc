/**
 * Structure-aware generation with shrinking (fast-check): a case is a short list of edits
 * to named fields of a real file (an ELF header or program header, a superblock, an inode,
 * a directory entry, the log header), each given a hostile value: a boundary value, one
 * near the field's own (off by a little), or any 32-bit number. The byte mutator
 * (targets.ts `mutate`) damages files blindly; these edits reach the checks that depend on
 * several fields agreeing. Seeded: case i of seed S is the same list everywhere. When a
 * case crashes the host, fast-check shrinks the list (fewer edits, smaller values) to the
 * smallest one that still crashes it, and the failure prints that list with the command
 * that replays the case.
 */
import fc from 'fast-check';
import type { SeededRandom } from '../../src/faults/random.js';

/** One field of a file: where it is, how wide, and its name in messages. */
export interface Field { name: string; at: number; width: 1 | 2 | 4 }
export interface Edit { field: string; at: number; width: 1 | 2 | 4; value: number }

const BOUNDARIES = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffff4, 0xfffffffc, 0xffffffff];

const read = (bytes: Uint8Array, f: Field): number => {
  let v = 0;
  for (let i = f.width - 1; i >= 0; i--) v = v * 256 + (bytes[f.at + i] ?? 0);
  return v;
};

/** Edits of `fields` of `bytes`: 1 to `most` of them, each value a boundary, near the field's own, or anything of its width. */
export function editsOf(bytes: Uint8Array, fields: Field[], most = 4): fc.Arbitrary<Edit[]> {
  const edit = fc.constantFrom(...fields).chain((f) => {
    const mask = f.width === 4 ? 0xffffffff : (1 << (8 * f.width)) - 1;
    const own = read(bytes, f);
    return fc.oneof(
      fc.constantFrom(...BOUNDARIES.map((b) => (b & mask) >>> 0)),
      fc.integer({ min: -64, max: 64 }).map((d) => ((own + d) & mask) >>> 0),
      fc.integer({ min: 0, max: mask }),
    ).map((value): Edit => ({ field: f.name, at: f.at, width: f.width, value }));
  });
  return fc.array(edit, { minLength: 1, maxLength: most });
}

export function applyEdits(source: Uint8Array, edits: Edit[]): Uint8Array {
  const bytes = source.slice();
  for (const e of edits) for (let i = 0; i < e.width && e.at + i < bytes.length; i++) bytes[e.at + i] = (e.value >>> (8 * i)) & 0xff;
  return bytes;
}

/** A value fast-check prints: the edits as `field=0xVALUE`. */
export const describeEdits = (edits: Edit[]): string => edits.map((e) => `${e.field}=0x${e.value.toString(16)}`).join(', ');

/**
 * Case `rng`'s value from `arbitrary`, checked by `check` (which returns the outcome, or
 * throws for a host crash). On a crash, fast-check shrinks the value (at most `maxShrinks`
 * steps, so a slow check still ends) and the error names the smallest failing value.
 */
export async function checkStructured<T>(rng: SeededRandom, arbitrary: fc.Arbitrary<T>, describe: (value: T) => string,
  check: (value: T) => string | Promise<string>, maxShrinks = 200): Promise<string> {
  const seed = rng.nextUint32() | 0;
  let outcome: string | undefined;
  let first: unknown;
  const result = await fc.check(fc.asyncProperty(fc.limitShrink(arbitrary, maxShrinks), async (value) => {
    try {
      const o = await check(value);
      outcome ??= o;
    } catch (e) {
      first ??= e;
      throw e;
    }
  }), { seed, numRuns: 1, endOnFailure: false });
  if (!result.failed) return outcome!;
  const error = first instanceof Error ? first : new Error(String(first));
  const smallest = result.counterexample ? describe(result.counterexample[0]) : '(none)';
  error.message = `${error.message}\n  generated: fast-check seed ${seed}; shrunk in ${result.numShrinks} steps to: ${smallest}`;
  throw error;
}
