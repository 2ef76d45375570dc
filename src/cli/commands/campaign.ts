/**
 * `memvisor campaign plan | run | merge | report`: fault-injection campaigns (src/campaign).
 */
import type { Command } from 'commander';
import { MIRROR_MODES } from '../../vmm/modes.js';
import { lazyAction } from '../lazy.js';
import { collect } from '../parse.js';

export function register(program: Command): void {
  const actions = () => import('../actions/campaign.js');
  const campaign = program.command('campaign').description('fault-injection campaigns: many seeded runs, outcome classes, confidence bounds');
  campaign
    .command('plan')
    .description('write a campaign file: workload, arms (mode × fault), window, runs, master seed')
    .requiredOption('-o, --output <file>', 'the campaign file to write (JSON)')
    .option('--mode <modes>', `mirror modes, comma-separated (${MIRROR_MODES.join(', ')})`, 'guest')
    .option('--fault <spec>', 'a fault (repeatable): an --inject spec without seed/window, e.g. poison:target=both (default poison:target=user-native)', collect)
    .option('--runs <n>', 'runs per arm (mode × fault)', '100')
    .option('--seed <n>', 'master seed: run i gets a seed derived from it and i', '1')
    .option('--window <cycles>', 'when faults strike: "workload" (from the prompt to the fault-free run\'s end) or FROM-TO virtual cycles', 'workload')
    .option('--recovery <who>', 'monitor or guest', 'monitor')
    .option('--scrub-every <cycles>', 'run the scrubber every this many cycles (0: off)', '0')
    .option('--send <text>', 'the workload, typed after each shell prompt (repeatable; \\n is Enter; default: a process/file/memory mix)', collect)
    .option('--until <regex>', 'what the console shows when the workload is done')
    .option('--name <name>', 'the workload\'s name in reports')
    .option('--cmdline <text>', 'MemV6 kernel command line')
    .option('--mem <MiB>', 'guest memory', '128')
    .option('--fork <how>', 'snapshot (boot once, fork every run from the shell prompt) or boot (boot every run)', 'snapshot')
    .option('--hang-factor <x>', 'a run not done after this many times the fault-free run\'s virtual time is a hang', '3')
    .option('--wall-limit <seconds>', 'host-side limit per run', '600')
    .allowExcessArguments(false)
    .action(lazyAction(actions, 'plan'));
  campaign
    .command('run')
    .description('execute a campaign (or one shard of it) on worker threads, appending JSON Lines; resumes where it stopped')
    .argument('<file>', 'the campaign file')
    .option('--out <dir>', 'results directory (default: FILE without .json, plus -results)')
    .option('--shard <I/N>', 'run only shard I of N (0 ≤ I < N), or auto (Slurm array / Kubernetes indexed job)', '0/1')
    .option('--threads <n>', 'worker threads (default: all cores)')
    .allowExcessArguments(false)
    .action(lazyAction(actions, 'run'));
  campaign
    .command('merge')
    .description('merge the results of a campaign\'s shards (directories) into one JSON Lines file, ordered by run')
    .argument('<dirs...>', 'results directories')
    .requiredOption('-o, --output <file>', 'the merged file')
    .action(lazyAction(actions, 'merge'));
  campaign
    .command('report')
    .description('per arm: outcome counts, transparent-recovery fraction (95% Wilson), SDC rate and bound; writes report.json, report.svg, report.html')
    .argument('<dirs...>', 'results directories (one per shard or machine, or one for all)')
    .option('--out <dir>', 'where the report files go (default: the first directory)')
    .action(lazyAction(actions, 'report'));
}
