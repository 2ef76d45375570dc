/**
 * `memvisor bench sbt`: what the translator costs. Translation time and code growth for
 * every MemV6 program (target: under 1 s each), and, on the C corpus at every -O level,
 * the instructions executed by the translated program against the original (both run
 * on memvisor exec; outputs must match and the mirror must equal native memory at exit).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { runCaptured } from '../exec/index.js';
import { parseElf } from '../elf/index.js';
import { readTranslationNote } from '../elf/translation-note.js';
import { MemvisorError } from '../errors.js';
import { MIRROR_CHECK_PREFIX, translateElf } from '../sbt/index.js';
import { median } from './mips.js';

export interface TranslationTiming { program: string; seconds: number; growth: number; instructions: number }
export interface ExecutionCost { program: string; original: number; translated: number; percent: number; mirrorCheck: string }

export interface SbtReport {
  translations: TranslationTiming[];
  executions: ExecutionCost[];
}

function run(bytes: Uint8Array, path: string): { out: string; err: string; instructions: number; exitCode: number } {
  const result = runCaptured(parseElf(bytes, path));
  if (result.message) throw new MemvisorError(`${path}: failed on memvisor exec: ${result.message}`);
  return { out: result.stdout.toString(), err: result.stderr.toString(), instructions: result.instructions, exitCode: result.exitCode };
}

export function benchSbt(programsDir: string, corpusDir: string, log: (line: string) => void = () => {}): SbtReport {
  const translations: TranslationTiming[] = [];
  for (const name of readdirSync(programsDir).sort()) {
    const path = join(programsDir, name);
    const bytes = new Uint8Array(readFileSync(path));
    const times: number[] = [];
    let growth = 0, instructions = 0;
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const t = translateElf(bytes, { path });
      times.push((performance.now() - started) / 1000);
      growth = t.report.translatedCodeBytes / t.report.originalCodeBytes;
      instructions = t.report.instructions;
    }
    translations.push({ program: name, seconds: median(times), growth, instructions });
  }
  log(`translated ${translations.length} MemV6 programs`);
  const executions: ExecutionCost[] = [];
  for (const name of readdirSync(corpusDir).sort()) {
    const path = join(corpusDir, name);
    const bytes = new Uint8Array(readFileSync(path));
    if (readTranslationNote(parseElf(bytes, path))) {
      log(`${name}: skipped (already translated: not a corpus program)`);
      continue;
    }
    const original = run(bytes, path);
    const translated = run(translateElf(bytes, { path, linuxStub: true, checkAtExit: true }).output, `${path} (translated)`);
    if (translated.out !== original.out || translated.exitCode !== original.exitCode) {
      throw new MemvisorError(`${path}: the translated program printed something else or exited differently`);
    }
    const check = translated.err.split('\n').find((l) => l.startsWith(MIRROR_CHECK_PREFIX))?.slice(MIRROR_CHECK_PREFIX.length) ?? 'no mirror check';
    executions.push({
      program: basename(path), original: original.instructions, translated: translated.instructions,
      percent: ((translated.instructions - original.instructions) / original.instructions) * 100, mirrorCheck: check,
    });
    log(`${name}: ${original.instructions} -> ${translated.instructions} instructions`);
  }
  return { translations, executions };
}

export function formatSbtReport(r: SbtReport): string {
  const slowest = r.translations.reduce((a, t) => (t.seconds > a.seconds ? t : a));
  const lines = [
    `translation of ${r.translations.length} MemV6 programs: slowest ${slowest.program} ${slowest.seconds.toFixed(3)} s (target < 1 s: ${slowest.seconds < 1 ? 'met' : 'NOT met'})`,
    ...r.translations.map((t) => `  ${t.program.padEnd(12)} ${String(t.instructions).padStart(6)} instructions  ${t.seconds.toFixed(3)} s  code ${t.growth.toFixed(2)}x`),
    '',
    `executed instructions, C corpus on memvisor exec (translated with the Linux stub, mirror checked at exit):`,
    `  ${'program'.padEnd(14)} ${'original'.padStart(12)} ${'translated'.padStart(12)} ${'overhead'.padStart(9)}  mirror`,
    ...r.executions.map((e) => `  ${e.program.padEnd(14)} ${String(e.original).padStart(12)} ${String(e.translated).padStart(12)} ${`+${e.percent.toFixed(1)}%`.padStart(9)}  ${e.mirrorCheck}`),
  ];
  const avg = r.executions.reduce((s, e) => s + e.percent, 0) / Math.max(1, r.executions.length);
  lines.push(`  average +${avg.toFixed(1)}%`);
  return lines.join('\n');
}
