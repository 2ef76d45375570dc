/**
 * Translation without relocations (src/sbt/addressMap.ts): the stripped glibc corpus and
 * Debian's stripped busybox-static, translated by `memvisor translate` (no relocations:
 * the address-map mode is chosen by itself) and run under `memvisor exec --mirror`: the same
 * stdout and exit status as the original under qemu-i386, and native and mirror memory
 * identical at exit. Then the mutation tests: a damaged address map stops the program with
 * the address, never runs it wrong.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseElf, PT_LOAD } from '../../src/elf/index.js';
import { runCaptured } from '../../src/exec/index.js';
import {
  ADDRESS_MAP_DAMAGED, ADDRESS_MAP_MISS, ADDRESS_MAP_STOP_STATUS, ADDRESS_MAP_SYMBOL, translateElf,
} from '../../src/sbt/index.js';
import { qemuUserRunner, scratch, type ProcessSetup, type RunResult } from '../support/build.js';
import { requireQemuUser } from '../support/qemu.js';
import { APPLETS, CORPUS_RUNS, buildCorpus, differences, makeInputs, requireBusybox } from './apps.js';

/** Translates `path` (no relocations) into `path.t`; returns the output's path. */
function translateFile(path: string): string {
  const { output, report } = translateElf(readFileSync(path), { path });
  assert.equal(report.mode, 'address-map', `${path}: has no relocations, so the address-map mode`);
  writeFileSync(`${path}.t`, output, { mode: 0o755 });
  return `${path}.t`;
}

/** A run under exec --mirror, as memvisorRunner reports it, plus the mirror comparison. */
function mirrorRun(path: string, args: string[], setup: ProcessSetup): RunResult & { mirrorBytes: number } {
  const input = setup.stdin ?? new Uint8Array(0);
  let at = 0;
  const result = runCaptured(parseElf(readFileSync(path), path), {
    args: [path, ...args], env: setup.env ?? [], cwd: setup.cwd, strict: true, mirror: true, maxInstructions: 4e9,
    stdin: (max) => input.subarray(at, (at = Math.min(input.length, at + max))),
  });
  let stderr = result.stderr.toString('latin1');
  if (result.message) stderr += `memvisor exec: ${path}: ${result.message}\n`;
  return { stdout: result.stdout, stderr, status: result.exitCode, signal: null, mirrorBytes: result.mirror!.bytes };
}

test('the glibc corpus, translated from the stripped binaries, matches qemu-i386 under exec --mirror', (t) => {
  requireQemuUser();
  const dir = scratch('apps-translated-glibc');
  const problems: string[] = [];
  for (const [name, elf] of buildCorpus(dir)) {
    const run = CORPUS_RUNS[name]!;
    const translated = translateFile(elf);
    const argsFor = (who: string) => {
      const args = [...(run.args ?? [])];
      if (run.files) {
        const work = join(dir, `${name}-${who}`);
        mkdirSync(work);
        args.unshift(work);
      }
      return args;
    };
    const setup = { stdin: run.stdin, env: run.env ?? ['LANG=C'] };
    const expected = qemuUserRunner(elf, argsFor('qemu'), setup);
    const actual = mirrorRun(translated, argsFor('memvisor'), setup);
    for (const line of differences(expected, actual, run.status ?? 0)) problems.push(`${name}: ${line}`);
    if (actual.mirrorBytes !== 0) problems.push(`${name}: ${actual.mirrorBytes} bytes differ between native and mirror`);
  }
  t.diagnostic(`${Object.keys(CORPUS_RUNS).length} translated programs compared with qemu-i386 (in ${dir})`);
  assert.deepEqual(problems, []);
});

/** Applets of test/apps/busybox.test.ts run translated (a selection: each run is a few seconds). */
const TRANSLATED_APPLETS = ['echo', 'cat', 'sha256sum', 'md5sum', 'sort', 'uniq', 'wc', 'head', 'tail', 'tr', 'cut', 'grep', 'sed', 'awk',
  'expr', 'seq', 'printf', 'od', 'base64', 'factor', 'tac', 'nl', 'ls', 'find', 'sh', 'gzip'];

test('busybox-static, translated from the stripped binary, matches qemu-i386 under exec --mirror', (t) => {
  requireQemuUser();
  const dir = scratch('apps-translated-busybox');
  const busybox = join(dir, 'busybox');
  writeFileSync(busybox, readFileSync(requireBusybox()), { mode: 0o755 });
  const translated = translateFile(busybox);
  const inputs = makeInputs('busybox-translated');
  const problems: string[] = [];
  const runs = APPLETS.filter(([applet], i) => TRANSLATED_APPLETS.includes(applet) && APPLETS.findIndex(([a]) => a === applet) === i);
  for (const [applet, args, input, status] of runs) {
    const setup = { cwd: inputs, env: ['LANG=C', 'HOME=/nonexistent'], stdin: input === undefined ? undefined : Buffer.from(input, 'latin1') };
    const expected = qemuUserRunner(busybox, [applet, ...args], setup);
    const actual = mirrorRun(translated, [applet, ...args], setup);
    for (const line of differences(expected, actual, status ?? 0)) problems.push(`busybox ${applet} ${JSON.stringify(args)}: ${line}`);
    if (actual.mirrorBytes !== 0) problems.push(`busybox ${applet}: ${actual.mirrorBytes} bytes differ between native and mirror`);
  }
  assert.ok(runs.length >= 15, `${runs.length} applets`);
  t.diagnostic(`${runs.length} translated applets compared with qemu-i386 (inputs in ${inputs})`);
  assert.deepEqual(problems, []);
});

/** The L2 table (65536 words) the map gives for `address`, as a view of the output file's bytes. */
function l2View(bytes: Uint8Array, address: number): DataView {
  const elf = parseElf(bytes, 'mutant');
  const l1 = elf.symbols.find((s) => s.name === ADDRESS_MAP_SYMBOL)!.value;
  const fileOffset = (va: number) => {
    const p = elf.programHeaders.find((h) => h.type === PT_LOAD && va >= h.vaddr && va < h.vaddr + h.filesz)!;
    return p.offset + va - p.vaddr;
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const l2 = view.getUint32(fileOffset(l1 + 4 * (address >>> 16)), true);
  return new DataView(bytes.buffer, bytes.byteOffset + fileOffset(l2), 0x40000);
}

test('mutations: a damaged address map stops the program loudly with the address', (t) => {
  const dir = scratch('apps-translated-mutants');
  const elf = buildCorpus(dir).get('sorting')!;
  const original = readFileSync(elf);
  const { output } = translateElf(original, { path: elf });
  const entry = parseElf(original, elf).entry;
  const run = (bytes: Uint8Array, what: string) => {
    const path = join(dir, `sorting-${what}`);
    writeFileSync(path, bytes, { mode: 0o755 });
    return mirrorRun(path, [], { env: ['LANG=C'] });
  };
  const good = run(output, 'intact');
  assert.equal(good.status, 0, good.stderr);
  const rows: string[] = [];
  // 1. Entries forgotten: every entry of the entry point's 64 KiB chunk sent to the miss handler.
  {
    const bytes = Uint8Array.from(output);
    const l2 = l2View(bytes, entry);
    const miss = l2.getUint32(0, true) === l2.getUint32(4, true) ? l2.getUint32(0, true) : l2.getUint32(4 * 0xffff, true);
    for (let i = 0; i < 0x10000; i++) l2.setUint32(4 * i, miss, true);
    const mutant = run(bytes, 'forgotten');
    assert.equal(mutant.status, ADDRESS_MAP_STOP_STATUS, mutant.stderr);
    assert.match(mutant.stderr, new RegExp(`^${ADDRESS_MAP_MISS} 0x${(entry >>> 16).toString(16).padStart(4, '0')}[0-9a-f]{4}\\n`, 'm'));
    assert.ok(!mutant.stdout.equals(good.stdout));
    rows.push(`forgotten: ${mutant.stderr.trim()}`);
  }
  // 2. Entries swapped: each instruction's entry points at the pad of the next instruction.
  {
    const bytes = Uint8Array.from(output);
    const l2 = l2View(bytes, entry);
    const words = Array.from({ length: 0x10000 }, (_, i) => l2.getUint32(4 * i, true));
    const counts = new Map<number, number>();
    for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
    const miss = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
    const pads = words.map((w, i) => [i, w] as const).filter(([, w]) => w !== miss);
    pads.forEach(([i], k) => l2.setUint32(4 * i, pads[(k + 1) % pads.length]![1], true));
    const mutant = run(bytes, 'swapped');
    assert.equal(mutant.status, ADDRESS_MAP_STOP_STATUS, mutant.stderr);
    assert.match(mutant.stderr, new RegExp(`^${ADDRESS_MAP_DAMAGED} 0x[0-9a-f]{8}\\n`, 'm'));
    rows.push(`swapped: ${mutant.stderr.trim()}`);
  }
  t.diagnostic(rows.join('\n'));
});
