#!/usr/bin/env node
/**
 * The `memvisor` command. Each subcommand registers its options and help from its own module
 * under ./commands; what it does is in ./actions, loaded only when it runs (./lazy.ts). User
 * mistakes arrive here as MemvisorError and are printed as one line with the error's exit code.
 */
import { availableParallelism } from 'node:os';
import { Command, CommanderError } from 'commander';
import { MemvisorError } from '../errors.js';
import { VERSION } from '../paths.js';
import { relaunch, relaunchPool, watchParent } from './relaunch.js';

// A command that runs a machine on this thread may first start again with fewer V8 helper
// threads (./relaunch.ts); the rest of this file then runs in the child.
const pool = relaunchPool(process.argv, process.execArgv, process.env.NODE_OPTIONS, availableParallelism());
if (pool !== null) relaunch(pool);
else await main();

async function main(): Promise<void> {
  watchParent();

  const program = new Command();
  program
    .name('memvisor')
    .description('A virtual machine monitor that protects guest memory by software mirroring.')
    .version(VERSION)
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });

  // Subcommands: one module each, registered in the order `--help` lists them.
  const commandModules: Array<() => Promise<{ register(program: Command): void }>> = [
    () => import('./commands/run.js'),
    () => import('./commands/translate.js'),
    () => import('./commands/mkfs.js'),
    () => import('./commands/fs.js'),
    () => import('./commands/exec.js'),
    () => import('./commands/bench.js'),
    () => import('./commands/campaign.js'),
    () => import('./commands/web.js'),
  ];

  for (const load of commandModules) (await load()).register(program);

  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed the message (or the help text).
      process.exit(error.exitCode === 1 ? 2 : error.exitCode);
    }
    if (error instanceof MemvisorError) {
      process.stderr.write(`memvisor: ${error.message}\n`);
      process.exit(error.exitCode);
    }
    throw error;
  }
}
