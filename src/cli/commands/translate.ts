/**
 * `memvisor translate IN.elf -o OUT.elf`: the static binary translator (src/sbt).
 * Refusals are one line naming the file, address, bytes and instruction; no output file
 * is written unless translation (and, with --verify, verification) succeeded.
 */
import type { Command } from 'commander';
import { MIRROR_OFFSET } from '../../layout.js';
import { lazyAction } from '../lazy.js';

export function register(program: Command): void {
  program
    .command('translate')
    .description('rewrite a static i386 ELF so every memory write is mirrored at +OFFSET (with relocations: code moved; without: an address map)')
    .argument('<input>', 'i386 ELF executable (static; linked with ld --emit-relocs / -q, or stripped: see --address-map)')
    .requiredOption('-o, --output <file>', 'translated ELF to write')
    .option('--offset <n>', 'mirror offset, a multiple of 4096', `0x${MIRROR_OFFSET.toString(16)}`)
    .option('--report', 'print instructions, writers by class, code growth')
    .option('--verify', 'run the independent verifier on the output (exit 1 if it fails)')
    .option('--scratch <where>', 'where mirror sequences keep scratch registers: spill (a spill page; the default) or stack (for code that interrupts re-enter: a kernel)', 'spill')
    .option('--address-map', 'translate without relocations even if the program has them (the default for a program without: original code addresses kept, indirect transfers looked up at run time)')
    .option('--linux-stub', 'entry stub that maps the mirror itself, for running under Linux (qemu-i386, memvisor exec)')
    .option('--check-at-exit', 'with --linux-stub: compare native and mirror at exit, print the result on stderr')
    .action(lazyAction(() => import('../actions/translate.js'), 'translate'));
}
