/**
 * What the fuzzer feeds memvisor, one kind of input at a time: each target turns a seeded
 * generator into one hostile input (byte mutations of a real file, and structure-aware
 * edits of the fields that say how large or where things are), runs it through the code a
 * user reaches with that input, and returns the outcome: 'accepted' (it ran), 'refused'
 * (one MemvisorError line, what a user sees with exit 2) or a named guest outcome. Any other
 * exception is a host crash; a case that does not end is a hang (the harness's watchdog).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CPU, PhysicalMemory } from '../../src/cpu/index.js';
import { parseElf, requireStaticExecutable } from '../../src/elf/index.js';
import { MemvisorError } from '../../src/errors.js';
import { runCaptured } from '../../src/exec/index.js';
import { SeededRandom } from '../../src/faults/random.js';
import { checkInjectionFitsMachine, FAULT_KINDS, FAULT_TARGETS, INJECTION_KEYS, parseInjectionSpec } from '../../src/faults/spec.js';
import { checkFileSystem } from '../../src/fs/fsck.js';
import { FsImage } from '../../src/fs/image.js';
import { buildImage } from '../../src/fs/mkfs.js';
import { readPlan } from '../../src/campaign/plan.js';
import { listImage, readImagePath } from '../../src/cli/actions/fs.js';
import { DiskImage } from '../../src/machine/disk.js';
import { loadMultiboot } from '../../src/machine/multiboot.js';
import { PC } from '../../src/machine/pc.js';
import { SnapshotFile } from '../../src/machine/snapshot.js';
import { guestBuildDir } from '../../src/paths.js';
import { translateElf } from '../../src/sbt/index.js';
import { createMonitor } from '../../src/vmm/index.js';
import { buildCorpusProgram } from '../cpu/corpus.js';
import { applyEdits, checkStructured, describeEdits, editsOf, type Field } from './structured.js';
import { CPU_TIERS, repoRoot, scratch, useTier } from '../support/build.js';
import { TEST_RTC } from '../support/machine.js';

export type Outcome = string;

export interface Target {
  /** Prepares the real inputs the cases mutate (once per worker). */
  prepare(): void;
  /** One case: the outcome, or a thrown exception (a host crash). */
  run(rng: SeededRandom): Outcome | Promise<Outcome>;
}

/** Runs `action`; a MemvisorError is the clean refusal a user sees, anything else propagates. */
function guarded(action: () => Outcome): Outcome {
  try {
    return action();
  } catch (e) {
    if (e instanceof MemvisorError) return 'refused';
    throw e;
  }
}

const INTERESTING32 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffff4, 0xffffffff];

/**
 * Byte mutation: a few bit flips, random bytes, interesting 32-bit values, truncation or a
 * repeated chunk; `hot` is a range (a header) that takes half of the edits.
 */
export function mutate(source: Uint8Array, rng: SeededRandom, hot: [number, number] = [0, source.length]): Uint8Array {
  let bytes = source.slice();
  const edits = rng.nextBelow(3) === 0 ? 1 : 1 + rng.nextBelow(6);
  for (let e = 0; e < edits && bytes.length > 0; e++) {
    const [lo, hi] = rng.nextBelow(2) === 0 ? [0, bytes.length] : [Math.min(hot[0], bytes.length - 1), Math.min(hot[1], bytes.length)];
    const at = lo + rng.nextBelow(Math.max(1, hi - lo));
    switch (rng.nextBelow(6)) {
      case 0: bytes[at]! ^= 1 << rng.nextBelow(8); break;
      case 1: bytes[at] = rng.nextBelow(256); break;
      case 2: {
        const v = INTERESTING32[rng.nextBelow(INTERESTING32.length)]!;
        const p = at & ~3;
        for (let i = 0; i < 4 && p + i < bytes.length; i++) bytes[p + i] = (v >>> (8 * i)) & 0xff;
        break;
      }
      case 3: {
        const v = INTERESTING32[rng.nextBelow(INTERESTING32.length)]!;
        const p = at & ~1;
        for (let i = 0; i < 2 && p + i < bytes.length; i++) bytes[p + i] = (v >>> (8 * i)) & 0xff;
        break;
      }
      case 4: if (rng.nextBelow(4) === 0) bytes = bytes.slice(0, at); break;
      default: {
        const len = Math.min(1 + rng.nextBelow(64), bytes.length - at);
        const to = rng.nextBelow(bytes.length);
        bytes.copyWithin(to, at, at + len);
      }
    }
  }
  return bytes;
}

/** A JSON value edited at a random place: a value replaced by one of another type or a hostile number, a key removed. */
export function mutateJson(value: unknown, rng: SeededRandom): unknown {
  const copy = structuredClone(value);
  const hostile = (): unknown => {
    const choices: unknown[] = [null, true, 'x', '', [], {}, 0, -1, 1.5, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 31), 1e308, 'Infinity', [0], { a: 1 }];
    return choices[rng.nextBelow(choices.length)];
  };
  const edits = 1 + rng.nextBelow(3);
  for (let e = 0; e < edits; e++) {
    // Walk down from the top to a random container, then edit one of its entries.
    let node: unknown = copy;
    let parent: Record<string, unknown> | unknown[] | null = null;
    let key: string | number = '';
    for (let depth = 0; depth < 6 && typeof node === 'object' && node !== null; depth++) {
      const keys = Object.keys(node);
      if (keys.length === 0 || (depth > 0 && rng.nextBelow(3) === 0)) break;
      parent = node as Record<string, unknown>;
      key = keys[rng.nextBelow(keys.length)]!;
      node = (node as Record<string, unknown>)[key];
    }
    if (parent === null) return hostile();
    if (rng.nextBelow(5) === 0 && !Array.isArray(parent)) delete (parent as Record<string, unknown>)[key as string];
    else (parent as Record<string, unknown>)[key as string] = hostile();
  }
  return copy;
}

// ------------------------------------------------------------------ ELF

/** A static Linux program from the CPU corpus (for exec and translate) and the MemV6 kernel (for run --kernel). */
let program: Uint8Array, kernel: Uint8Array;
const elfHot = (bytes: Uint8Array): [number, number] => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const phoff = bytes.length >= 52 ? view.getUint32(28, true) : 0;
  return [0, Math.min(bytes.length, Math.max(52, phoff + 32 * 8))];
};

const elf: Target = {
  prepare() {
    program = readFileSync(buildCorpusProgram('arith', '-O2', scratch('fuzz-elf')));
    kernel = readFileSync(join(guestBuildDir, 'kernel'));
  },
  run(rng) {
    const asKernel = rng.nextBelow(3) === 0;
    const source = asKernel ? kernel : program;
    return elfOutcome(mutate(source, rng, elfHot(source)), asKernel, rng.nextBelow(2) === 0, rng.nextBelow(2));
  },
};

/** A damaged ELF through the loaders: as a kernel (multiboot), or as a program to translate (with or without --verify) and to exec. */
function elfOutcome(bytes: Uint8Array, asKernel: boolean, verify: boolean, blockThreshold: number): Outcome {
  if (asKernel) {
    return guarded(() => {
      const cpu = new CPU(new PhysicalMemory(16 << 20), { read: () => 0xff, write: () => {} });
      loadMultiboot(cpu.mem, cpu, bytes, 'fuzz.elf', 'console=ttyS0');
      return 'accepted';
    });
  }
  const translated = guarded(() => {
    translateElf(bytes, { path: 'fuzz.elf', linuxStub: true, verify });
    return 'accepted';
  });
  const ran = guarded(() => {
    const parsed = parseElf(bytes, 'fuzz.elf');
    requireStaticExecutable(parsed);
    const r = runCaptured(parsed, { path: 'fuzz.elf', args: ['fuzz'], maxInstructions: 200_000, blockThreshold });
    return r.signal !== undefined ? 'signal' : r.exitCode === 124 ? 'instruction-limit' : 'exited';
  });
  return `translate ${translated}, exec ${ran}`;
}

/** The fields of an ELF file the loaders read: the header, each program header, each note's sizes, each section header's placement. */
export function elfFields(bytes: Uint8Array): Field[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fields: Field[] = [];
  const add = (name: string, at: number, width: 1 | 2 | 4) => { if (at + width <= bytes.length) fields.push({ name, at, width }); };
  for (const [name, at, width] of [['e_type', 16, 2], ['e_machine', 18, 2], ['e_version', 20, 4], ['e_entry', 24, 4], ['e_phoff', 28, 4],
    ['e_shoff', 32, 4], ['e_ehsize', 40, 2], ['e_phentsize', 42, 2], ['e_phnum', 44, 2], ['e_shentsize', 46, 2], ['e_shnum', 48, 2],
    ['e_shstrndx', 50, 2]] as const) add(name, at, width);
  const phoff = view.getUint32(28, true), phnum = view.getUint16(44, true);
  for (let k = 0; k < Math.min(phnum, 12); k++) {
    const ph = phoff + 32 * k;
    if (ph + 32 > bytes.length) break;
    for (const [name, o] of [['type', 0], ['offset', 4], ['vaddr', 8], ['paddr', 12], ['filesz', 16], ['memsz', 20], ['flags', 24], ['align', 28]] as const) add(`ph[${k}].p_${name}`, ph + o, 4);
    const offset = view.getUint32(ph + 4, true);
    if (view.getUint32(ph, true) === 4 && offset + 12 <= bytes.length) {                  // PT_NOTE: its first note's header
      for (const [name, o] of [['namesz', 0], ['descsz', 4], ['type', 8]] as const) add(`ph[${k}].note.${name}`, offset + o, 4);
    }
  }
  const shoff = view.getUint32(32, true), shnum = view.getUint16(48, true);
  for (let k = 0; k < Math.min(shnum, 48); k++) {
    const sh = shoff + 40 * k;
    if (sh + 40 > bytes.length) break;
    for (const [name, o] of [['type', 4], ['flags', 8], ['addr', 12], ['offset', 16], ['size', 20], ['link', 24], ['info', 28], ['entsize', 36]] as const) add(`sh[${k}].sh_${name}`, sh + o, 4);
  }
  return fields;
}

let programFields: Field[], kernelFields: Field[];
/** ELF files with a few header fields edited (fast-check, shrinking). */
const elfFieldsTarget: Target = {
  prepare() {
    elf.prepare();
    programFields = elfFields(program);
    kernelFields = elfFields(kernel);
  },
  run(rng) {
    const asKernel = rng.nextBelow(3) === 0;
    const verify = rng.nextBelow(2) === 0, threshold = rng.nextBelow(2);
    const source = asKernel ? kernel : program;
    return checkStructured(rng, editsOf(source, asKernel ? kernelFields : programFields), describeEdits,
      (edits) => elfOutcome(applyEdits(source, edits), asKernel, verify, threshold));
  },
};

// ------------------------------------------------------------------ file-system images

let fsBase: Uint8Array;
const fs: Target = {
  prepare() {
    const text = (s: string) => new TextEncoder().encode(s);
    const big = new Uint8Array(70 * 1024).map((_, i) => (i * 7) & 0xff);   // uses the indirect block
    fsBase = buildImage([
      { path: 'README', content: text('memvisor fuzz image\n') },
      { path: 'big', content: big },
      { path: 'empty', content: new Uint8Array(0) },
    ], { size: 400, ninodes: 64, output: 'fuzz.img' });
  },
  run(rng) {
    // The superblock and the first inode blocks take half of the edits.
    return fsOutcome(mutate(fsBase, rng, [1024, 1024 + 4 * 1024]));
  },
};

/** A damaged image through `fs fsck` and `fs ls`/`fs cat`. */
function fsOutcome(bytes: Uint8Array): Outcome {
  const fsck = guarded(() => (checkFileSystem(bytes, 'fuzz.img').problems.length === 0 ? 'accepted' : 'problems'));
  // What `fs ls /` and `fs cat` of each name in the root do.
  const read = guarded(() => {
    const image = FsImage.open(bytes, 'fuzz.img');
    listImage(image, '/');
    let refused = 0;
    for (const entry of image.readDirectory(image.lookup('/'))) {
      if (entry.inum === 0 || entry.name === '.' || entry.name === '..') continue;
      refused += guarded(() => { readImagePath(image, `/${entry.name}`); return 'accepted'; }) === 'refused' ? 1 : 0;
    }
    return refused > 0 ? 'accepted, cat refused' : 'accepted';
  });
  return `fsck ${fsck}, ls+cat ${read}`;
}

/**
 * The fields of a MemV6 image that say where things are: the superblock, the log header
 * and its first home blocks, every inode in use (type, major, links, size, each block
 * pointer), the first entries of its indirect block, and the root directory's entries.
 */
export function fsFields(bytes: Uint8Array): Field[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fields: Field[] = [];
  ['magic', 'size', 'nblocks', 'ninodes', 'nlog', 'logstart', 'inodestart', 'bmapstart'].forEach((name, i) => fields.push({ name: `sb.${name}`, at: 1024 + 4 * i, width: 4 }));
  const logstart = view.getUint32(1024 + 20, true), inodestart = view.getUint32(1024 + 24, true), ninodes = view.getUint32(1024 + 12, true);
  fields.push({ name: 'log.n', at: logstart * 1024, width: 4 });
  for (let i = 0; i < 4; i++) fields.push({ name: `log.block[${i}]`, at: logstart * 1024 + 4 + 4 * i, width: 4 });
  for (let inum = 0; inum < ninodes; inum++) {
    const at = inodestart * 1024 + 64 * inum;
    if (inum > 0 && view.getInt16(at, true) === 0) continue;
    for (const [name, o, width] of [['type', 0, 2], ['major', 2, 2], ['nlink', 6, 2], ['size', 8, 4]] as const) fields.push({ name: `inode[${inum}].${name}`, at: at + o, width });
    for (let a = 0; a < 13; a++) fields.push({ name: `inode[${inum}].addrs[${a}]`, at: at + 12 + 4 * a, width: 4 });
    const indirect = view.getUint32(at + 12 + 4 * 11, true);
    if (indirect !== 0 && (indirect + 1) * 1024 <= bytes.length) {
      for (let e = 0; e < 4; e++) fields.push({ name: `inode[${inum}].indirect[${e}]`, at: indirect * 1024 + 4 * e, width: 4 });
    }
  }
  const root = view.getUint32(inodestart * 1024 + 64 + 12, true), rootSize = view.getUint32(inodestart * 1024 + 64 + 8, true);
  for (let e = 0; e < Math.min(rootSize / 16, 64); e++) {
    fields.push({ name: `root.entry[${e}].inum`, at: root * 1024 + 16 * e, width: 2 });
    fields.push({ name: `root.entry[${e}].name[0]`, at: root * 1024 + 16 * e + 2, width: 1 });
  }
  return fields;
}

let fsBaseFields: Field[];
/** File-system images with a few fields edited (fast-check, shrinking), through fsck and ls/cat. */
const fsFieldsTarget: Target = {
  prepare() {
    fs.prepare();
    fsBaseFields = fsFields(fsBase);
  },
  run(rng) {
    return checkStructured(rng, editsOf(fsBase, fsBaseFields), describeEdits, (edits) => fsOutcome(applyEdits(fsBase, edits)));
  },
};

// ------------------------------------------------------------------ MemV6 booting a damaged disk

/**
 * MemV6 booted with a damaged file-system image as hdb, then a shell session that reads,
 * writes, removes and makes directories (so the log, the bitmap and the block maps are
 * used): the kernel reports the error or panics with a message, or the shell runs; the
 * host never throws and the run ends within its cycle budget.
 */
let bootImage: Uint8Array, bootHot: [number, number];
const BOOT_COMMANDS = ['ls\n', 'cat README\n', 'echo hello > new\n', 'cat new\n', 'rm big\n', 'mkdir d\n', 'ls d\n', 'echo ZZ9\n'];
/** About three times what the session takes on the undamaged image. */
export const BOOT_MAX_CYCLES = 30_000_000;
export function bootFuzzImage(): Uint8Array {
  const user = (name: string) => ({ path: name, content: readFileSync(join(guestBuildDir, 'user', name)) });
  const big = new Uint8Array(40 * 1024).map((_, i) => (i * 13) & 0xff);    // uses the indirect block
  return buildImage([user('init'), user('sh'), user('ls'), user('cat'), user('echo'), user('rm'), user('mkdir'),
    { path: 'README', content: new TextEncoder().encode('memvisor fuzz image\n') }, { path: 'big', content: big }],
  { size: 600, ninodes: 32, output: 'boot-fuzz.img' });
}
/** The outcome of one boot: what the guest said last (a panic's message without numbers), or how the run stopped. */
export async function bootDamaged(bytes: Uint8Array): Promise<Outcome> {
  const monitor = createMonitor({
    machine: { boot: { kernel: join(guestBuildDir, 'kernel'), hdb: { name: 'fuzz.img', bytes }, memoryMiB: 32, rtcStart: TEST_RTC } },
    mirror: 'off',
  });
  const session = monitor.session({ until: /\$ echo ZZ9\n(?:.*\n)*?\$ $|panic: [^\n]*\n/, send: BOOT_COMMANDS, prompt: /\$ $/, maxCycles: BOOT_MAX_CYCLES, timeoutMs: 60_000 });
  const result = await session.run();
  const panic = /panic: ([^\n]*)\n/.exec(result.output);
  if (panic) return `panic: ${panic[1]!.replace(/0x[0-9a-f]+|\d+/g, 'N')}`;
  switch (result.outcome) {
    case 'matched': return /: trap \d+ err/.test(result.output) ? 'shell ran, a damaged program was killed' : 'shell ran';
    case 'limit': return /\$ /.test(result.output) ? 'cycle limit (shell running)' : 'cycle limit (no shell)';
    case 'stopped': return `stopped: ${result.stop?.kind ?? '?'}`;
    default: return result.outcome;
  }
}
const boot: Target = {
  prepare() {
    bootImage = bootFuzzImage();
    const view = new DataView(bootImage.buffer, bootImage.byteOffset);
    const datastart = view.getUint32(1024 + 28, true) + Math.ceil(view.getUint32(1024 + 4, true) / 8192);
    bootHot = [1024, (datastart + 2) * 1024];
  },
  run(rng) {
    const damaged = mutate(bootImage, rng, bootHot);
    // A cut image still reaches the guest (shorter than its superblock says): whole sectors.
    const bytes = new Uint8Array(Math.max(512, Math.ceil(damaged.length / 512) * 512));
    bytes.set(damaged);
    return bootDamaged(bytes);
  },
};

let bootFields: Field[];
/** MemV6 booting an image with a few fields edited (fast-check; a boot is slow, so shrinking stops after 30 steps). */
const bootFieldsTarget: Target = {
  prepare() {
    boot.prepare();
    bootFields = fsFields(bootImage);
  },
  run(rng) {
    return checkStructured(rng, editsOf(bootImage, bootFields), describeEdits, (edits) => bootDamaged(applyEdits(bootImage, edits)), 30);
  },
};

// ------------------------------------------------------------------ snapshots

let snapshot: Uint8Array;
const MAGIC = 'MEMVISOR-SNAPSHOT\n'.length;
const snapshots: Target = {
  prepare() {
    const monitor = createMonitor({ machine: { boot: { kernel: join(guestBuildDir, 'kernel'), memoryMiB: 16, rtcStart: TEST_RTC } }, mirror: 'off' });
    monitor.pc.run(300_000);
    snapshot = monitor.snapshot({ console: '', consumed: 0 });
  },
  run(rng) {
    let bytes: Uint8Array;
    const mode = rng.nextBelow(3);
    if (mode === 0) {
      bytes = mutate(snapshot, rng, [0, 4096]);        // raw damage: the checksum must catch it
    } else {
      // A hostile edit with a valid checksum: the header, or the bytes of the blobs.
      const view = new DataView(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength);
      const headerLength = view.getUint32(MAGIC, true);
      let header = snapshot.subarray(MAGIC + 4, MAGIC + 4 + headerLength);
      let blobs = snapshot.subarray(MAGIC + 4 + headerLength, snapshot.length - 32);
      if (mode === 1) header = new TextEncoder().encode(JSON.stringify(mutateJson(JSON.parse(new TextDecoder().decode(header)), rng)));
      else blobs = mutate(blobs, rng);
      const length = new Uint8Array(4);
      new DataView(length.buffer).setUint32(0, header.length, true);
      const body = new Uint8Array([...snapshot.subarray(0, MAGIC), ...length, ...header, ...blobs]);
      bytes = new Uint8Array([...body, ...createHash('sha256').update(body).digest()]);
    }
    return guarded(() => {
      const monitor = createMonitor({ machine: { restore: SnapshotFile.decode(bytes, 'fuzz.snap') } });
      monitor.pc.cpu.hostDeadline = Infinity;
      monitor.pc.run(200_000);
      return monitor.pc.stopReason ? `restored, ${monitor.pc.stopReason.kind}` : 'restored, ran';
    });
  },
};

// ------------------------------------------------------------------ --inject specs

/** Spec text from the grammar's own words and hostile values, mostly well-formed, sometimes not. */
const SPEC_VALUES = ['0', '1', '7', '-1', '0x10', '0xffffffff', '4294967296', '1e9', '99999999999999999999', 'NaN', '', ' ', '1-2', '5-1', '0-0',
  '100-99999999999', 'x', '%', '$ ', '(', 'kernel', 'address', ...FAULT_TARGETS];
const inject: Target = {
  prepare() {},
  run(rng) {
    const pick = <T>(list: readonly T[]): T => list[rng.nextBelow(list.length)]!;
    let text = rng.nextBelow(10) === 0 ? pick(['melt', '', ' ', 'poison:', ':']) : pick(FAULT_KINDS);
    const params = rng.nextBelow(5);
    for (let i = 0; i < params; i++) {
      text += i === 0 ? ':' : pick([',', ',', ',', ';', '']);
      const key = rng.nextBelow(12) === 0 ? 'colour' : pick(INJECTION_KEYS);
      text += rng.nextBelow(15) === 0 ? key : `${key}=${pick(SPEC_VALUES)}`;
    }
    return guarded(() => {
      const spec = parseInjectionSpec(text, rng.nextUint32());
      checkInjectionFitsMachine(spec, 128 << 20);
      return 'accepted';
    });
  },
};

// ------------------------------------------------------------------ campaign files

let plan: unknown, planDir: string;
const campaign: Target = {
  prepare() {
    planDir = scratch('fuzz-campaign');
    const file = join(planDir, 'base.json');
    const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'campaign', 'plan', '-o', file, '--mode', 'guest,off',
      '--fault', 'poison:target=user-native', '--fault', 'poison:target=both'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`campaign plan failed: ${r.stderr}`);
    plan = JSON.parse(readFileSync(file, 'utf8'));
  },
  run(rng) {
    const file = join(planDir, 'case.json');
    const edited = mutateJson(plan, rng);
    // Half the cases keep the id right, so the plan's own checks are reached.
    writeFileSync(file, rng.nextBelow(4) === 0 ? mutate(new TextEncoder().encode(JSON.stringify(edited)), rng) : JSON.stringify(edited));
    return guarded(() => { readPlan(file); return 'accepted'; });
  },
};

// ------------------------------------------------------------------ numeric options

/**
 * Numeric options given hostile text, through the real command line (a child process):
 * it must exit 0, or 1 for a run that stops, or 2 with one line saying why (exec: the
 * program's status); never a trace.
 */
const NUMBERS = ['0', '1', '-1', '2', '1.5', '0x10', '1e3', '', ' ', 'abc', '12abc', '4095', '4096', '2047', '2048', '3072', '65535',
  '2147483647', '2147483648', '4294967295', '4294967296', '0xfffff000', '0x80000000', '9007199254740993', '99999999999999999999', 'Infinity', 'NaN'];
let optionsDir: string, optionsProgram: string;
const options: Target = {
  prepare() {
    optionsDir = scratch('fuzz-options');
    optionsProgram = buildCorpusProgram('arith', '-O2', optionsDir);
    writeFileSync(join(optionsDir, 'file'), 'hello\n');
  },
  run(rng) {
    const n = () => NUMBERS[rng.nextBelow(NUMBERS.length)]!;
    const kernel = join(guestBuildDir, 'kernel');
    const lines: string[][] = [
      ['run', '--kernel', kernel, '--mem', n(), '--max-cycles', '100000', '--timeout', '20'],
      ['run', '--kernel', kernel, '--mem', '64', '--spare', n(), '--max-cycles', '100000', '--timeout', '20'],
      ['run', '--kernel', kernel, '--mirror', 'hardware', '--mem', n(), '--max-cycles', '100000', '--timeout', '20'],
      ['run', '--kernel', kernel, '--max-cycles', n(), '--timeout', '3'],
      ['run', '--kernel', kernel, '--timeout', n(), '--max-cycles', '100000'],
      ['run', '--kernel', kernel, '--scrub-every', n(), '--max-cycles', '100000', '--timeout', '20'],
      ['exec', '--memory', n(), optionsProgram],
      ['exec', '--max-instructions', n(), optionsProgram],
      ['translate', '--offset', n(), optionsProgram, '-o', join(optionsDir, 'out')],
      ['mkfs', '--size', n(), '--inodes', n(), '-o', join(optionsDir, 'fs.img'), join(optionsDir, 'file')],
    ];
    const args = lines[rng.nextBelow(lines.length)]!;
    const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'src', 'cli', 'main.js'), ...args], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 });
    const command = `memvisor ${args.map((a) => JSON.stringify(a)).join(' ')}`;
    if (r.error) throw new Error(`${command}: ${r.error.message}`);
    const stderr = r.stderr.trim();
    // exec exits with the program's own status (124 when --max-instructions stops it).
    if (/\n\s+at |TypeError|RangeError|internal error/.test(stderr) || r.status === null || (r.status > 2 && args[0] !== 'exec')) {
      throw new Error(`${command}: exit ${r.status ?? r.signal}:\n${stderr.slice(0, 2000)}`);
    }
    if (r.status === 2 && stderr.split('\n').length !== 1) throw new Error(`${command}: exit 2 with more than one line:\n${stderr.slice(0, 2000)}`);
    return `${args[0]} ${args.find((a) => a.startsWith('--') && a !== '--kernel') ?? ''}: exit ${r.status}`;
  },
};

// ------------------------------------------------------------------ random guest code

/**
 * Random bytes as code at ring 0 or ring 3, with random registers, on the interpreter and
 * on compiled blocks: the host never throws, and the tiers end in the same state
 * (exceptions with no IDT end in a triple-fault shutdown, which the machine reports).
 */
const code: Target = {
  prepare() {},
  run(rng) {
    const ring = rng.nextBelow(2) === 0 ? 0 : 3;
    const bytes = new Uint8Array(256).map(() => rng.nextBelow(256));
    const regs = Array.from({ length: 8 }, () => (rng.nextBelow(2) === 0 ? 0x2000 + rng.nextBelow(0x1000) : rng.nextUint32()));
    const states = CPU_TIERS.slice(0, 3).map(([, threshold, engine]) => {
      const mem = new PhysicalMemory(1 << 20);
      const cpu = new CPU(mem, { read: () => 0xff, write: () => {} });
      useTier(cpu, threshold, engine);
      mem.loadBytes(0x1000, bytes);
      cpu.enterFlatProtectedMode(ring);
      cpu.eip = 0x1000;
      for (let r = 0; r < 8; r++) if (r !== 4) cpu.reg[r] = regs[r]! | 0;
      cpu.reg[4] = 0x8000;
      cpu.run(5000);
      return `${cpu.shutdown ? 'shutdown' : cpu.halted ? 'halted' : 'ran'} ${cpu.instructionCount} ${cpu.eip >>> 0} ${Array.from(cpu.reg).join(',')} ${cpu.getEflags()}`;
    });
    if (states[0] !== states[1]) throw new Error(`the CPU tiers differ at ring ${ring}:\n${states.join('\n')}`);
    return `ring ${ring}: ${states[0]!.split(' ')[0]}`;
  },
};

// ------------------------------------------------------------------ a hostile guest's device accesses

/** The PC's device ports and MMIO windows, where a guest's values reach memvisor's devices. */
const DEVICE_PORTS = [0x20, 0x21, 0xa0, 0xa1, 0x40, 0x41, 0x42, 0x43, 0x60, 0x64, 0x70, 0x71, 0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd,
  0x1f0, 0x1f1, 0x1f2, 0x1f3, 0x1f4, 0x1f5, 0x1f6, 0x1f7, 0x3f6, 0x170, 0x177, 0xf4, 0x92, 0x61, 0xcf8, 0xcfc];
const MMIO = [0xfee00000, 0xfec00000, 0xb8000];
const devices: Target = {
  prepare() {},
  /**
   * Ring-0 code that writes random values to random device ports (byte, word, dword, and
   * `rep outs`/`rep ins` of random lengths into the IDE data port) and to random offsets
   * of the APIC, IOAPIC and CGA windows, reads them back, and loops: the host never throws.
   */
  run(rng) {
    const pc = new PC({ memoryMiB: 4, rtcStart: TEST_RTC, hda: new DiskImage('fuzz-disk', new Uint8Array(64 * 512), false), hdb: null });
    const code: number[] = [];
    const imm32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
    for (let i = 0; i < 40; i++) {
      const value = rng.nextBelow(4) === 0 ? INTERESTING32[rng.nextBelow(INTERESTING32.length)]! : rng.nextUint32();
      code.push(0xb8, ...imm32(value));                                       // mov eax, value
      switch (rng.nextBelow(5)) {
        case 0: case 1: {
          const port = rng.nextBelow(8) === 0 ? rng.nextBelow(0x10000) : DEVICE_PORTS[rng.nextBelow(DEVICE_PORTS.length)]!;
          code.push(0xba, ...imm32(port));                                     // mov edx, port
          code.push(...[[0xee], [0x66, 0xef], [0xef], [0xec], [0x66, 0xed], [0xed]][rng.nextBelow(6)]!);   // out/in dx, al/ax/eax
          break;
        }
        case 2: {
          code.push(0xb9, ...imm32(rng.nextBelow(8) === 0 ? rng.nextBelow(0x20000) : rng.nextBelow(600)));   // mov ecx, count
          code.push(0xbe, ...imm32(0x10000), 0xbf, ...imm32(0x20000));        // mov esi, edi
          code.push(0xba, ...imm32(rng.nextBelow(2) === 0 ? 0x1f0 : DEVICE_PORTS[rng.nextBelow(DEVICE_PORTS.length)]!));
          code.push(...[[0xf3, 0x66, 0x6f], [0xf3, 0x66, 0x6d], [0xf3, 0x6e], [0xf3, 0x6c]][rng.nextBelow(4)]!);   // rep outsw/insw/outsb/insb
          break;
        }
        case 3: {
          const at = MMIO[rng.nextBelow(MMIO.length)]! + (rng.nextBelow(0x1000) & ~(rng.nextBelow(2) === 0 ? 3 : 0));
          code.push(0x89, 0x05, ...imm32(at));                                 // mov [at], eax
          break;
        }
        default: {
          const at = MMIO[rng.nextBelow(MMIO.length)]! + rng.nextBelow(0x1000);
          code.push(0x8b, 0x05, ...imm32(at));                                 // mov eax, [at]
        }
      }
    }
    code.push(0xe9, ...imm32(-(code.length + 5)));                             // jmp to the start
    pc.mem.loadBytes(0x1000, Uint8Array.from(code));
    pc.cpu.enterFlatProtectedMode(0);
    pc.cpu.eip = 0x1000;
    pc.cpu.reg[4] = 0x8000;
    // A chunk of a long rep ins/outs is one instruction of up to 4096 port accesses (~1 µs each
    // on the host): 2000 instructions can be 8 million accesses. (A session yields between chunks.)
    pc.run(2_000);
    return pc.stopReason ? pc.stopReason.kind : pc.cpu.halted ? 'halted' : 'ran';
  },
};

export const TARGETS: Record<string, Target> = {
  elf, 'elf-fields': elfFieldsTarget, fs, 'fs-fields': fsFieldsTarget, boot, 'boot-fields': bootFieldsTarget, snapshot: snapshots, inject, campaign, options, code, devices };
