/**
 * The block cache on disk: the blocks a process wrote (their source, the guest bytes and
 * answers they were written for) and the WebAssembly modules made of them, kept for the
 * next process, as a JIT's code cache or ccache keeps its work.
 *
 * Within a process, a new machine already reuses the blocks earlier machines wrote
 * (src/cpu/blocks.ts `written`, src/cpu/wasm/tier.ts `moduleOf`). A new process starts
 * with none, and writing a block (its JavaScript source, parsed and translated into
 * WebAssembly) costs as much as running it hundreds of times: in usertests' first run, the
 * ~480 blocks cost about 0.3 s to write and the code they hold ran in the interpreter
 * (1,000 times each) until then. Blocks read from here are taken as the process's own
 * are: only where the guest bytes at that address are the same and every question the
 * writer asked (does a block start at ...) has the same answer now, so a block from disk
 * is the block this process would write (test/cli/block-cache.test.ts; README, "How it is checked").
 *
 * One file per build: its name carries a hash of the block compiler's code (every file
 * of dist/src/cpu), V8's version and this file's format, so a changed compiler never
 * reads another's blocks. It is read once per thread when a command that runs machines
 * starts, and written when the process ends if it wrote blocks of its own (merged with
 * what another process wrote to it meanwhile; written to a temporary file and renamed, so
 * a reader never sees half of one). Files of other builds go when a week unused.
 *
 * MEMVISOR_BLOCK_CACHE=off turns it off; MEMVISOR_BLOCK_CACHE=<dir> puts it in <dir>
 * (default: $XDG_CACHE_HOME/memvisor, else ~/.cache/memvisor).
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { threadId } from 'node:worker_threads';
import { addWrittenRecords, writtenRecords, type WrittenRecord } from './cpu/blocks.js';
import { addModuleRecords, moduleRecords, type ModuleRecord, type TranslationRecord } from './cpu/wasm/tier.js';

/** The layout of the file's contents; part of the file's name. */
const FORMAT = 2;
/** The most blocks, modules and refusals a file keeps (the newest). */
const MAX_BLOCKS = 5_000;
const MAX_MODULES = 2_000;
const MAX_REFUSED = 5_000;
/** Files of other builds are removed once unused this long. */
const STALE_MS = 7 * 24 * 3600 * 1000;
/** How long a process ending waits for another to finish writing the file (then leaves its blocks unsaved)… */
const LOCK_WAIT_MS = 5_000;
/** …and the age at which a lock file counts as left by a process that died. */
const LOCK_STALE_MS = 30_000;

/** What the file holds. */
interface CacheFile {
  blocks: WrittenRecord[];
  modules: ModuleRecord[];
  refused: TranslationRecord[];
}

/**
 * A translation in the file: its state-area address and its source, given as the index of
 * the block with that source where there is one (each source is in the file once).
 */
type StoredTranslation = [registers: number, source: number | string];
/** The file's contents as serialised. */
interface StoredFile {
  format: number;
  blocks: WrittenRecord[];
  modules: Array<{ bytes: Uint8Array; pages: number; functions: StoredTranslation[] }>;
  refused: StoredTranslation[];
}

function store(f: CacheFile): StoredFile {
  const index = new Map(f.blocks.map((b, i) => [b.compiled.source, i]));
  const translation = (t: TranslationRecord): StoredTranslation => [t.registers, index.get(t.source) ?? t.source];
  return {
    format: FORMAT, blocks: f.blocks,
    modules: f.modules.map((m) => ({ bytes: m.bytes, pages: m.pages, functions: m.functions.map(translation) })),
    refused: f.refused.map(translation),
  };
}

/** Where the block cache lives, or null if it is turned off (see the file comment). */
export function blockCacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const setting = env.MEMVISOR_BLOCK_CACHE;
  if (setting === 'off' || setting === '0') return null;
  if (setting !== undefined && setting !== '') return setting;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'memvisor');
}

/** The name of this build's file: a hash of the block compiler's code, V8's version and FORMAT. */
function fileName(): string {
  const hash = createHash('sha256').update(`${FORMAT} ${process.versions.v8}\n`);
  const cpuDir = dirname(fileURLToPath(new URL('./cpu/blocks.js', import.meta.url)));
  const files = (readdirSync(cpuDir, { recursive: true }) as string[]).filter((f) => f.endsWith('.js')).sort();
  for (const f of files) hash.update(`${f}\n`).update(readFileSync(join(cpuDir, f)));
  return `blocks-${hash.digest('hex').slice(0, 20)}.bin`;
}

const isInt = (v: unknown): v is number => Number.isInteger(v);
const isInts = (v: unknown): v is number[] => Array.isArray(v) && v.every(isInt);

/** The blocks a file holds, or why it cannot be used. */
function parse(data: Buffer): CacheFile | string {
  let v: unknown;
  try {
    v = deserialize(data);
  } catch {
    return 'not a block cache file (truncated or damaged)';
  }
  const f = v as Partial<StoredFile> | null;
  if (typeof f !== 'object' || f === null || f.format !== FORMAT) return 'not a block cache file of this format';
  if (!Array.isArray(f.blocks) || !Array.isArray(f.modules) || !Array.isArray(f.refused)) return 'damaged (its lists)';
  for (const b of f.blocks as unknown[]) {
    const r = b as Partial<WrittenRecord> | null;
    const c = r?.compiled;
    if (r === null || typeof r !== 'object' || !isInt(r.eip) || !(r.code instanceof Uint8Array) || typeof r.hookedWrites !== 'boolean'
      || !Array.isArray(r.questions) || !r.questions.every((q) => Array.isArray(q) && isInt(q[0]) && typeof q[1] === 'boolean')
      || typeof c !== 'object' || c === null || typeof c.source !== 'string' || !isInt(c.length) || !isInt(c.pass) || !isInt(c.first)
      || !isInt(c.end) || c.end - c.first !== r.code.length || !isInts(c.starts) || !isInts(c.returns)) {
      return 'damaged (a block)';
    }
  }
  const blocks = f.blocks;
  const translation = (t: unknown): TranslationRecord | null => {
    if (!Array.isArray(t) || t.length !== 2 || !isInt(t[0])) return null;
    const s: unknown = t[1];
    if (typeof s === 'string') return { registers: t[0], source: s };
    return isInt(s) && s >= 0 && s < blocks.length ? { registers: t[0], source: blocks[s]!.compiled.source } : null;
  };
  const modules: ModuleRecord[] = [];
  for (const m of f.modules as unknown[]) {
    const r = m as Partial<StoredFile['modules'][number]> | null;
    const functions = Array.isArray(r?.functions) ? r.functions.map(translation) : [];
    if (r === null || typeof r !== 'object' || !(r.bytes instanceof Uint8Array) || !isInt(r.pages) || functions.length === 0 || functions.includes(null)) {
      return 'damaged (a module)';
    }
    modules.push({ bytes: new Uint8Array(r.bytes), pages: r.pages, functions: functions as TranslationRecord[] });
  }
  const refused = f.refused.map(translation);
  if (refused.includes(null)) return 'damaged (a refused translation)';
  return { blocks: blocks.map((b) => ({ ...b, code: new Uint8Array(b.code) })), modules, refused: refused as TranslationRecord[] };
}

let used = false;

/**
 * Reads this build's block cache file, if there is one, into the blocks written before
 * (once per thread; later calls do nothing), and with `save` writes it when the process
 * ends. Nothing if the cache is turned off. A file that cannot be read or used is reported
 * in one line (and one that cannot be used is replaced when the process ends).
 */
export function useBlockCache(options: { save?: boolean } = {}): void {
  if (used) return;
  used = true;
  const dir = blockCacheDir();
  if (dir === null) return;
  const file = join(dir, fileName());
  read(file);
  // (A file that could not be read was said once; writing it would fail the same way.)
  if ((options.save ?? true) && !unreadable) process.on('exit', () => save(dir, file));
}

/** The file exists (or its place is not a directory) but could not be read. */
let unreadable = false;

/** The file's blocks, taken as written before, if there is one and it can be used (said unless `quiet`). */
function read(file: string, quiet = false): void {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && !quiet) {
      unreadable = true;
      warn(`cannot read the block cache ${file} (${(e as Error).message}); going on without it`);
    }
    return;
  }
  const parsed = parse(data);
  if (typeof parsed === 'string') {
    if (!quiet) warn(`ignoring the block cache ${file}: ${parsed}; it is written again when this run ends`);
    return;
  }
  addWrittenRecords(parsed.blocks);
  addModuleRecords(parsed.modules, parsed.refused);
}

/** Writes every block known here into `file` if this process wrote any (see the file comment). */
function save(dir: string, file: string): void {
  if (writtenRecords().writtenHere === 0) return;
  try {
    makeDirectory(dir);
  } catch (e) {
    cannotWrite(file, e);
    return;
  }
  // One process at a time reads, merges and writes (processes that end together, such as
  // a benchmark's, would otherwise each write the file without the others' blocks).
  const lock = `${file}.lock`;
  if (!acquire(file, lock)) return;
  try {
    merge(file);
  } finally {
    try { unlinkSync(lock); } catch { /* removed as stale by another process */ }
  }
  removeStale(dir, file);
}

/**
 * `mkdir -p`, a component at a time: Node's own (`recursive: true`) goes round for ever
 * where creating a directory fails with ENOENT under a parent that exists (in /proc).
 */
function makeDirectory(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) {
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) mkdirSync(d);
}

/** Waits for `file`'s lock file `lock` (up to LOCK_WAIT_MS; one older than LOCK_STALE_MS was left by a process that died). */
function acquire(file: string, lock: string): boolean {
  const deadline = Date.now() + LOCK_WAIT_MS;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        cannotWrite(file, e);
        return false;
      }
    }
    try {
      if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) unlinkSync(lock);
    } catch { /* released meanwhile */ }
    if (Date.now() > deadline) {
      warn(`the block cache ${file} stayed locked (${lock}) for ${LOCK_WAIT_MS / 1000} s; this run's blocks are not kept`);
      return false;
    }
    Atomics.wait(sleeper, 0, 0, 20);
  }
}

/** Under the lock: what another process wrote meanwhile, with this process's blocks, into `file`. */
function merge(file: string): void {
  // (A file this process found unusable was said at the start.)
  read(file, true);
  const { records } = writtenRecords();
  const { modules, refused } = moduleRecords();
  const contents: CacheFile = {
    blocks: records.slice(-MAX_BLOCKS), modules: modules.slice(-MAX_MODULES), refused: refused.slice(-MAX_REFUSED),
  };
  const temporary = `${file}.${process.pid}-${threadId}.tmp`;
  try {
    writeFileSync(temporary, serialize(store(contents)));
    renameSync(temporary, file);
  } catch (e) {
    try { unlinkSync(temporary); } catch { /* never written */ }
    cannotWrite(file, e);
  }
}

/** Removes other builds' files unused for STALE_MS. */
function removeStale(dir: string, keep: string): void {
  try {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (path === keep || !/^blocks-[0-9a-f]+\.bin$/.test(name)) continue;
      if (Date.now() - statSync(path).mtimeMs > STALE_MS) unlinkSync(path);
    }
  } catch { /* another process removed it first */ }
}

function cannotWrite(file: string, e: unknown): void {
  warn(`cannot write the block cache ${file} (${(e as Error).message}); set MEMVISOR_BLOCK_CACHE=off to stop trying`);
}

function warn(message: string): void {
  process.stderr.write(`memvisor: ${message}\n`);
}
