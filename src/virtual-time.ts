/**
 * memvisor's virtual time, shared by the PC (src/machine) and `memvisor exec`: one cycle
 * per executed instruction at 100 MHz (plus, on the PC, the cycles a halted CPU skips),
 * counted from a fixed date. Nothing reads the host clock unless the user asks for it,
 * so the same inputs give the same run.
 */
export const CYCLE_NS = 10;
export const CYCLES_PER_SECOND = 1e9 / CYCLE_NS;

/** 2026-01-01 00:00 UTC in seconds since 1970: the RTC's date with `run --seed`, exec's clock at its first instruction. */
export const REPRODUCIBLE_EPOCH = Date.UTC(2026, 0, 1) / 1000;
