/**
 * Commands register their options and help text from light modules only; what a command
 * does (the machine, the translator, the charts...) lives in ./actions and is loaded when
 * that command runs. Every invocation registers every command, so `--version`, `--help`
 * and each command start without loading the others.
 */

type Action = (...args: never[]) => unknown;

/** The action `name` of the module `load` imports, loaded on its first call. */
export function lazyAction<K extends string, M extends Record<K, Action>>(load: () => Promise<M>, name: K): (...args: Parameters<M[K]>) => Promise<void> {
  return async (...args) => {
    const action = (await load())[name] as (...args: Parameters<M[K]>) => unknown;
    await action(...args);
  };
}
