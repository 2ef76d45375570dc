/**
 * A small seeded generator (sfc32) for everything that must replay exactly: fault
 * plans, campaign samples, differential test inputs. Same seed, same sequence, on
 * every machine; never Math.random.
 */
const TWO_32 = 0x100000000;
const TWO_53 = 2 ** 53;

export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private counter = 1;

  constructor(readonly seed: number) {
    // Spread the seed over the state, then discard the first outputs (sfc32's warm-up).
    this.a = 0x9e3779b9 ^ seed;
    this.b = 0x243f6a88 ^ Math.imul(seed, 0x85ebca6b);
    this.c = 0xb7e15162 ^ Math.imul(seed ^ (seed >>> 16), 0xc2b2ae35);
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** The generator's whole state, to save it in a snapshot and continue the same sequence later. */
  get state(): [number, number, number, number] {
    return [this.a, this.b, this.c, this.counter];
  }

  set state(s: [number, number, number, number]) {
    if (!Array.isArray(s) || s.length !== 4 || !s.every(Number.isInteger)) throw new Error('random generator state is malformed');
    [this.a, this.b, this.c, this.counter] = s;
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.counter) | 0;
    this.counter = (this.counter + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /**
   * A uniform integer in [0, bound) for bound ≤ 2^53, without modulo bias. Spans up to 2^32
   * take one draw (the sequence every plan made so far depends on); larger ones, such as a
   * fault window over more than 2^32 cycles (43 s of virtual time), take 53 bits from two.
   */
  nextBelow(bound: number): number {
    if (!Number.isInteger(bound) || bound <= 0 || bound > TWO_53) {
      throw new Error(`internal error: nextBelow(${bound})`);
    }
    if (bound <= TWO_32) {
      const limit = TWO_32 - (TWO_32 % bound);
      for (;;) {
        const value = this.nextUint32();
        if (value < limit) return value % bound;
      }
    }
    const limit = TWO_53 - (TWO_53 % bound);
    for (;;) {
      const value = (this.nextUint32() >>> 11) * TWO_32 + this.nextUint32();
      if (value < limit) return value % bound;
    }
  }

  /** A uniform integer in [low, high] (inclusive), for spans up to 2^53. */
  nextInRange(low: number, high: number): number {
    return low + this.nextBelow(high - low + 1);
  }

  /** k distinct items of `items`, in a seeded order (partial Fisher–Yates). */
  sample<T>(items: readonly T[], k: number): T[] {
    const pool = items.slice();
    const count = Math.min(k, pool.length);
    for (let i = 0; i < count; i++) {
      const j = i + this.nextBelow(pool.length - i);
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    return pool.slice(0, count);
  }
}
