/**
 * The scrubber (`--scrub-every CYCLES`): at the running process's first system call after
 * each interval, every native/mirror pair of its pages must hold the same bytes. A pair
 * that differs (bits flipped or stuck silently) cannot be resolved with two copies: it is
 * reported as detected-uncorrectable, never hidden, and each pair only once.
 */
import type { DeviceState, SnapshotPart } from '../machine/device.js';
import type { PC } from '../machine/pc.js';
import type { AddressSpaces } from './address-spaces.js';
import { framesEqual } from './mirror.js';

const PAGE = 4096;
const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;

export class Scrubber implements SnapshotPart {
  readonly name = 'scrubber';
  readonly version = 1;
  /** Cycles between scrubs (0: never), and the first cycle at which the next one may run. */
  every = 0;
  private nextScrub = Infinity;
  /** Page pairs already reported (directory:va). */
  private reported = new Set<string>();
  scrubs = 0;
  scrubbedPages = 0;
  detectedUncorrectable = 0;

  constructor(private readonly pc: PC, private readonly spaces: AddressSpaces, private readonly mirrorOffset: number, private readonly log: string[]) {}

  /** Scrub every `every` cycles from now on (0: never). */
  setInterval(every: number): void {
    this.every = every;
    this.nextScrub = every ? this.pc.now() + every : Infinity;
  }

  /** A system call: scrub the running process if an interval has passed. */
  systemCall(now: number): void {
    if (now < this.nextScrub) return;
    this.nextScrub = now + this.every;
    this.scrub(now);
  }

  private scrub(now: number): void {
    const { mem, defects } = this.pc;
    const { directory, native, mirror } = this.spaces.current();
    const poisoned = (frame: number) => defects.isPoisoned(mem.p2m[frame]!);
    this.scrubs++;
    for (const [va, frame] of native) {
      const twin = mirror.get(va + this.mirrorOffset);
      if (twin === undefined || poisoned(frame) || poisoned(twin)) continue;
      this.scrubbedPages++;
      const key = `${directory}:${va}`;
      if (framesEqual(mem, frame * PAGE, twin * PAGE) || this.reported.has(key)) continue;
      this.reported.add(key);
      this.detectedUncorrectable++;
      this.log.push(`cycle ${now}: scrub: page ${hex(va)} differs from its mirror (frames ${hex(frame * PAGE)} and ${hex(twin * PAGE)}): detected, uncorrectable`);
    }
  }

  save(): DeviceState {
    return { every: this.every, nextScrub: this.nextScrub, reported: [...this.reported], scrubs: this.scrubs, scrubbedPages: this.scrubbedPages, detectedUncorrectable: this.detectedUncorrectable };
  }

  restore(state: DeviceState): void {
    const s = state as { every: number; nextScrub: number; reported: string[]; scrubs: number; scrubbedPages: number; detectedUncorrectable: number };
    if (!Array.isArray(s.reported)) throw new Error('scrubber state is malformed');
    this.every = s.every;
    this.nextScrub = s.nextScrub;
    this.reported = new Set(s.reported);
    this.scrubs = s.scrubs;
    this.scrubbedPages = s.scrubbedPages;
    this.detectedUncorrectable = s.detectedUncorrectable;
  }
}
