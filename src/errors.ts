/**
 * Errors a user can cause (bad file, bad flag, bad guest image) are MemvisorError:
 * one line of message and an exit code. The CLI prints the message alone, never a
 * stack trace. Anything else that escapes is a bug in memvisor.
 */
export class MemvisorError extends Error {
  constructor(message: string, readonly exitCode: number = 2) {
    super(message);
    this.name = 'MemvisorError';
  }
}

/** Internal invariant: a failure here is a memvisor bug, not a user mistake. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`internal error: ${message}`);
}
