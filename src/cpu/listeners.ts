/**
 * An ordered list of listeners for one machine event (a notifier list, as QEMU and Linux
 * keep them). Each listener is added with an order number; they always run in ascending
 * order, whoever attached first, so the order is written where the numbers are defined
 * (src/vmm's LISTENER_ORDER), not hidden in the sequence of set-up calls.
 *
 * `dispatch` is the whole list as one function, rebuilt when the list changes and null
 * when it is empty, so a hot path pays one null test when nobody listens and one direct
 * call when one listener does. A listener that returns true has handled the event: the
 * ones after it do not run and dispatch returns true (used by the user-mode runner, which
 * answers system calls itself); callers test the result with `=== true`.
 */
export type Listener<A extends unknown[]> = (...args: A) => boolean | void;

interface Entry<A extends unknown[]> {
  order: number;
  name: string;
  listener: Listener<A>;
}

export class Listeners<A extends unknown[]> {
  private entries: Array<Entry<A>> = [];
  dispatch: Listener<A> | null = null;

  /** Adds a listener; returns the function that removes it. Two listeners may not share an order. */
  add(order: number, name: string, listener: Listener<A>): () => void {
    const clash = this.entries.find((e) => e.order === order);
    if (clash) throw new Error(`internal error: listeners ${clash.name} and ${name} both have order ${order}`);
    const entry = { order, name, listener };
    this.entries.push(entry);
    this.entries.sort((a, b) => a.order - b.order);
    this.rebuild();
    return () => {
      this.entries = this.entries.filter((e) => e !== entry);
      this.rebuild();
    };
  }

  /** The listeners' names in the order they run (for tests and --stats). */
  get names(): string[] {
    return this.entries.map((e) => e.name);
  }

  private rebuild(): void {
    const listeners = this.entries.map((e) => e.listener);
    if (listeners.length === 0) {
      this.dispatch = null;
    } else if (listeners.length === 1) {
      this.dispatch = listeners[0]!;
    } else {
      this.dispatch = (...args: A) => {
        for (const listener of listeners) if (listener(...args) === true) return true;
        return false;
      };
    }
  }
}
