/**
 * The address layout every part of memvisor shares (see DESIGN.md, "Address layout"):
 * the page at va + MIRROR_OFFSET is the mirror of the user page at va. The translator
 * writes its mirror stores there, MemV6 maps the twin there, `exec --mirror` maps it
 * there, and the monitor looks for it there.
 */
export const MIRROR_OFFSET = 0x40000000;
