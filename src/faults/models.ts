/**
 * The fault models: what one injection does to one guest frame. Poison and corrupt-line
 * are detected errors (the memory controller knows the data is lost: a read is a machine
 * check); flip and stuck are silent (the data is simply wrong). They act on the
 * machine's memory and its defects, as a bad DIMM would: the monitor learns of them only
 * when the guest reads lost data, or when its scrubber compares twins.
 */
import type { PC } from '../machine/pc.js';
import type { StuckBit } from '../machine/memory-defects.js';
import type { SeededRandom } from './random.js';
import type { InjectionSpec } from './spec.js';

const PAGE = 4096;
const LINE = 64;

/** Applies one fault of `spec`'s kind to guest frame `frame`; returns what happened, for the log. */
export function applyFault(pc: PC, spec: InjectionSpec, frame: number, random: SeededRandom): string {
  const address = `frame 0x${(frame * PAGE).toString(16)}`;
  switch (spec.kind) {
    case 'stuck': {
      // Permanent and silent: the bits keep their value whatever is written.
      const bits: StuckBit[] = [];
      for (let b = 0; b < spec.bits; b++) {
        const bit = random.nextBelow(PAGE * 8);
        bits.push([bit >>> 3, 1 << (bit & 7), random.nextBelow(2) << (bit & 7)]);
      }
      pc.defects.stick(frame, bits);
      return `${spec.bits} bit(s) stuck in ${address}`;
    }
    case 'flip': {
      // Transient and silent: the bits are wrong until rewritten.
      const mem = pc.mem, host = mem.hostOffset(frame * PAGE);
      for (let b = 0; b < spec.bits; b++) {
        const bit = random.nextBelow(PAGE * 8);
        mem.ram[host + (bit >>> 3)]! ^= 1 << (bit & 7);
      }
      mem.noteHostWrite(host, PAGE);
      pc.cpu.flushTlb();
      return `flipped ${spec.bits} bit(s) in ${address}`;
    }
    case 'corrupt-line': {
      const line = random.nextBelow(PAGE / LINE) * LINE;
      pc.defects.poison(frame, line, line + LINE);
      return `poisoned ${address} (one line)`;
    }
    case 'poison':
      pc.defects.poison(frame);
      return `poisoned ${address}`;
  }
}
