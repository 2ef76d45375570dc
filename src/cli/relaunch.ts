/**
 * V8's helper threads for the commands that run one machine on the main thread.
 *
 * Node gives V8 a pool of four helper threads (`--v8-pool-size`) whatever the machine; V8
 * compiles optimised code and collects garbage on them while the main thread runs the
 * guest. On a machine with fewer than five cores the four share the cores with the main
 * thread, and the guest runs slower than with one core left to it: on this project's 2-core
 * machine, usertests' first run in a new process took 2.46-2.55 s with one helper thread
 * against 2.62-2.71 s with four (alternating runs; the same CPU time in all), and a second
 * run 1.46 s against 1.51-1.55 s. Campaigns, which run a machine on every core in worker
 * threads, were no faster (3.20 s against 3.06-3.14 s for 30 runs), so they keep Node's pool.
 *
 * The child also optimises sooner: V8 sends a function to its optimising compiler after it
 * has run through its interrupt budget three times, and a block (one function per guest
 * region, see src/cpu/compile.ts) runs unoptimised until then. With a budget of 16,000
 * instead of 67,584 the first run took 2.41-2.45 s against 2.51-2.53 s (one helper thread,
 * four alternating pairs), the second 1.43-1.47 s against 1.48-1.51 s; `bench mips` and
 * `bench boot` were unchanged, campaigns slower (3.24-3.26 s against 3.06-3.24 s).
 *
 * The pool is fixed when the process starts, so these commands start the CLI again in a
 * child process with `--v8-pool-size` set to the cores less one and that budget (the child
 * is the command; this process waits, passes on the signals meant for it, and ends as the
 * child did).
 * Nothing is relaunched when the pool size was given (on the command line or in
 * NODE_OPTIONS) or when Node's four already leave a core free.
 */
import { spawn } from 'node:child_process';

/** Commands whose machine runs on the main thread (campaign runs machines in worker threads; the others run none). */
const MACHINE_COMMANDS = new Set(['run', 'exec', 'bench']);
/** Node's default `--v8-pool-size`. */
const NODE_POOL = 4;
const POOL_OPTION = '--v8-pool-size';
const BUDGET_OPTION = '--interrupt-budget=16000';
const EVAL_OPTIONS = ['-e', '--eval', '-p', '--print'];

/** The helper-thread count to relaunch with, or null to go on in this process. */
export function relaunchPool(argv: readonly string[], execArgv: readonly string[], nodeOptions: string | undefined, cores: number): number | null {
  if (!MACHINE_COMMANDS.has(argv[2] ?? '')) return null;
  // Loaded from code given on the command line (node -e): there is no script to start again.
  if (execArgv.some((a) => EVAL_OPTIONS.includes(a))) return null;
  if ([...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((a) => a.startsWith(POOL_OPTION))) return null;
  const pool = Math.max(1, cores - 1);
  return pool < NODE_POOL ? pool : null;
}

/**
 * Runs this CLI again in a child with `pool` helper threads and ends this process as the
 * child ends (its exit status, or the signal that ended it).
 */
export function relaunch(pool: number): void {
  const child = spawn(process.execPath, [`${POOL_OPTION}=${pool}`, BUDGET_OPTION, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit', env: { ...process.env, MEMVISOR_PARENT_PID: String(process.pid) },
  });
  // A terminal's Ctrl-C reaches the whole process group, the child included: this process
  // only waits for the child's answer. A signal sent to this process alone is passed on.
  const forward = (signal: NodeJS.Signals) => () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  process.on('SIGINT', () => {});
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) process.on(signal, forward(signal));
  child.on('error', (e) => {
    process.stderr.write(`memvisor: cannot start ${process.execPath} (${e.message})\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal !== null) {
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.removeAllListeners(s);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
}

/**
 * In a relaunched child: ends it when the process that started it is gone (killed with
 * SIGKILL, which cannot be passed on), so that no machine runs on unattended.
 */
export function watchParent(): void {
  const parent = Number(process.env.MEMVISOR_PARENT_PID);
  delete process.env.MEMVISOR_PARENT_PID;
  // Only a child the relaunch started (a variable left in someone's environment is not a parent).
  if (!Number.isInteger(parent) || parent <= 0 || parent !== process.ppid) return;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(1);
  }, 500).unref();
}
