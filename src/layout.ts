/**
 * The address layout every part of memvisor shares (see DESIGN.md, "Address layout"):
 * the page at va + MIRROR_OFFSET is the mirror of the user page at va. The translator
 * writes its mirror stores there, MemV6 maps the twin there, `exec --mirror` maps it
 * there, and the monitor looks for it there.
 */
export const MIRROR_OFFSET = 0x40000000;

/**
 * The largest mirror offset a translation may use: the native addresses [0, offset) and
 * their twins [offset, 2 × offset) must both fit in the 4 GiB address space. A larger
 * offset wraps twins back onto native pages (false differences, or a mapping that never
 * ends).
 */
export const MAX_MIRROR_OFFSET = 0x80000000;

/** Why `offset` cannot be a mirror offset, or null. */
export function mirrorOffsetProblem(offset: number): string | null {
  if (!Number.isInteger(offset) || offset <= 0 || offset % 4096 !== 0) return 'not a non-zero multiple of 4096';
  if (offset > MAX_MIRROR_OFFSET) {
    return `above 0x${MAX_MIRROR_OFFSET.toString(16)}: the mirror of [0, offset) would run past 4 GiB and wrap onto native memory`;
  }
  return null;
}
