/**
 * Where every listener on the machine's event lists runs (src/cpu/listeners.ts), in one
 * table, lower numbers first. The order is part of the design, so it is written here and
 * nowhere else; attaching in another sequence changes nothing.
 */
export const LISTENER_ORDER = {
  /** Memory writes to PAGE_WRITE_HOOK pages: */
  write: {
    /** the memory controller's mirror copies what the processor wrote… */
    hardwareMirror: 10,
    /** …then defective cells keep their stuck values (the mirror holds the right data). */
    stuckBits: 20,
  },
  /** Accesses to PAGE_HOOK pages: */
  access: {
    /** poisoned data: a read of lost bytes is consumed (repaired by the monitor, or #MC). */
    poison: 10,
  },
  /** A read reached poisoned data (before the machine check is raised): */
  consumed: {
    /** the monitor repairs the page from its twin if it can… */
    monitorRecovery: 10,
    /** …and its event log records whether it did (or the guest gets a machine check). */
    memoryEvents: 20,
  },
  /** A planned fault landed on a frame: */
  injected: {
    /** the monitor's event log records it (frame history, a web page's event list). */
    memoryEvents: 10,
  },
  /** Software interrupts (the guest's system calls): */
  softwareInterrupt: {
    /** the scrubber compares the running process's pages with their twins… */
    scrubber: 10,
    /** …then faults aimed at user pages land, while no store pair of the process is half done… */
    faultLanding: 20,
    /** …and whoever observes system calls from outside (tests, tools) sees the result. */
    observer: 90,
  },
  /** Writes the processor makes by itself (interrupt frames, A/D bits, descriptor bits): */
  platformWrite: {
    /** system mode repeats them in the twin frame. */
    systemMirror: 10,
  },
  /** MOV to CR3 (the guest switched address spaces): */
  cr3: {
    /** the monitor remembers the address spaces the guest uses (twins are found there)… */
    addressSpaces: 10,
    /** …and counts their mirror pages for --stats. */
    mirrorStatistics: 20,
  },
} as const;
