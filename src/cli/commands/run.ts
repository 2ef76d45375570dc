/**
 * `memvisor run`: boot a guest on the emulated PC with its serial console on this
 * terminal. Without --kernel/--hda it boots MemV6 (build/guest/kernel with fs.img as hdb).
 * Exit status: 0 when --until matched (or the guest ended normally), 1 on timeout,
 * guest panic or triple fault, 2 on bad input.
 */
import type { Command } from 'commander';
import { DEFAULT_PROMPT } from '../../machine/session.js';
import { DEFAULT_MEMORY_MIB, machineMemoryMiB } from '../../vmm/modes.js';
import { lazyAction } from '../lazy.js';
import { BLOCK_CACHE_HELP } from './environment.js';
import { collect } from '../parse.js';

export function register(program: Command): void {
  program
    .command('run')
    .description('boot a guest on the emulated PC (default: MemV6) with its serial console on this terminal')
    .option('--kernel <file>', 'multiboot ELF kernel (default: build/guest/kernel when no --hda is given)')
    .option('--cmdline <text>', 'multiboot command line for the kernel')
    .option('--hda <file>', 'IDE primary master disk image; boots its boot sector when there is no --kernel')
    .option('--hdb <file>', 'IDE primary slave disk image (default with MemV6: build/guest/fs.img)')
    .option('--mem <MiB>', `guest memory (default ${DEFAULT_MEMORY_MIB}; ${machineMemoryMiB('system')} with --mirror system, half of it the mirror reserve)`)
    .option('--mirror <mode>', 'off | guest (MemV6 mirrors translated processes; the default) | hardware (the monitor duplicates every write) | system')
    .option('--seed <n>', 'seed for everything random; also fixes the RTC date so runs repeat exactly')
    .option('--rtc <date>', 'RTC date at power-on: "now" or an ISO date (default: now, or 2026-01-01 with --seed)')
    .option('--inject <spec>', 'inject a memory fault (repeatable), e.g. poison:target=user-native,count=10,seed=1', collect)
    .option('--spare <MiB>', 'host memory reserved at start for recovered pages (default 16)')
    .option('--scrub-every <cycles>', 'compare mirrored pages of the running process at its first system call after every this many cycles')
    .option('--recovery <who>', 'monitor (transparent, default) or guest (every machine check goes to the guest)')
    .option('--send <text>', 'type text on the console after the next prompt (repeatable; \\n is Enter)', collect)
    .option('--prompt <regex>', 'what --send waits for', DEFAULT_PROMPT)
    .option('--until <regex>', 'exit 0 when the console matches; 1 on timeout, panic or triple fault')
    .option('--timeout <seconds>', 'give up after this much wall time (exit 1)')
    .option('--stats <file>', 'write run statistics as JSON')
    .option('--snapshot-at <regex>', 'save a snapshot when the console first matches')
    .option('--snapshot <file>', 'where --snapshot-at saves')
    .option('--restore <file>', 'continue from a snapshot instead of booting')
    .option('--hda-writable', 'write guest changes through to the hda file (default: kept in memory)')
    .option('--hdb-writable', 'write guest changes through to the hdb file (default: kept in memory)')
    .option('--commit', 'at exit, write the guest\'s disk changes back to the image files')
    .option('--debug-exit', 'add QEMU\'s isa-debug-exit device at port 0xF4 (value v exits with 2v+1)')
    .option('--interpreter', 'run the CPU on its interpreter alone (no compiled blocks): slower, same results')
    .option('--js-blocks', 'compiled blocks as JavaScript functions, not WebAssembly: for comparison, same results')
    .option('--max-cycles <n>', 'stop (exit 1) when virtual time reaches this cycle: a hang, deterministically')
    .option('--golden <file>', 'a campaign\'s fault-free run (golden-MODE.json): the outcome says whether the output was right')
    .option('--gdb <[host:]port>', 'let gdb debug the guest: a GDB remote stub listening on TCP (default host localhost)')
    .option('-s', 'shorthand for --gdb localhost:1234 (as QEMU spells it)')
    .option('-S', 'with --gdb or -s: do not start the guest until the debugger continues it')
    .allowExcessArguments(false)
    .addHelpText('after', BLOCK_CACHE_HELP)
    .action(lazyAction(() => import('../actions/run.js'), 'run'));
}
