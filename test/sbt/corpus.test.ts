/**
 * The C corpus (test/sbt/corpus/*.c, freestanding, no heap) at -O0 -O1 -O2 -O3 -Os:
 * translated output == original output (stdout and exit status), zero mirror mismatches
 * at exit (the stub's native-vs-mirror oracle), and the verifier accepts every output.
 * A negative control (plain stores left unmirrored) must show mismatches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram, defaultRunner, parseMirrorCheck, repoRoot, runtimeObject, scratchDir, translateFile } from './support.js';
import { memvisorRunner } from '../support/build.js';

const corpusDir = join(repoRoot, 'test', 'sbt', 'corpus');
const LEVELS = ['-O0', '-O1', '-O2', '-O3', '-Os'];

test('corpus: translated programs print the same and keep the mirror equal to native memory', (t) => {
  const programs = readdirSync(corpusDir).filter((f) => f.endsWith('.c')).sort();
  assert.ok(programs.length >= 3, 'corpus programs missing');
  const rows: string[] = [];
  let runs = 0;
  for (const program of programs) {
    for (const level of LEVELS) {
      const name = `${program.replace(/\.c$/, '')}${level}`;
      const elf = buildProgram([runtimeObject(), join(corpusDir, program)], join(scratchDir, name), [level, `-I${corpusDir}`]);
      const translated = translateFile(elf, `${elf}.translated`);
      const a = defaultRunner(elf);
      const b = defaultRunner(translated.path);
      const check = parseMirrorCheck(b.stderr);
      assert.equal(b.stdout.toString('latin1'), a.stdout.toString('latin1'), `${name}: output differs`);
      assert.equal(b.status, a.status, `${name}: exit status differs`);
      assert.ok(check, `${name}: no mirror check line on stderr (${b.stderr.slice(0, 200)})`);
      assert.equal(check.mismatches, 0, `${name}: ${check.mismatches} mirror mismatches, first at 0x${check.first.toString(16)}`);
      const r = translated.report;
      rows.push(`${name.padEnd(14)} ${String(r.instructions).padStart(5)} instr, growth ${r.growth}x, writers ${Object.values(r.writers).reduce((x, y) => x + y, 0)}, code ptrs ${r.codePointersInData}+${r.codePointersInCode}`);
      runs++;
    }
  }
  // Negative control: without the plain-store template the exit oracle must see mismatches.
  const elf = join(scratchDir, 'mixed-O2');
  const control = translateFile(elf, `${elf}.control`, { disabledTemplates: new Set(['store', 'pushReg']), verify: false });
  const check = parseMirrorCheck(defaultRunner(control.path).stderr);
  assert.ok(check && check.mismatches > 0, 'negative control found no mismatch');
  rows.push(`negative control (store+pushReg off): ${check.mismatches} mismatches, first at 0x${check.first.toString(16)}`);
  const summary = [`corpus runs: ${runs}, all identical output, 0 mirror mismatches`, ...rows].join('\n');
  t.diagnostic(summary);
  console.log(summary);
});

test('corpus: translated programs also run on memvisor exec, with the same output and an equal mirror', (t) => {
  const programs = readdirSync(corpusDir).filter((f) => f.endsWith('.c')).sort();
  let runs = 0;
  const x87: string[] = [];
  for (const program of programs) {
    for (const level of LEVELS) {
      const name = `${program.replace(/\.c$/, '')}${level}`;
      const elf = buildProgram([runtimeObject(), join(corpusDir, program)], join(scratchDir, `${name}.exec`), [level, `-I${corpusDir}`]);
      const translated = translateFile(elf, `${elf}.translated`);
      const expected = defaultRunner(elf);
      const actual = memvisorRunner(translated.path);
      if (actual.status === 132 && /x87/.test(actual.stderr)) {
        x87.push(name); // memvisor has no x87; the program uses doubles at this level
        continue;
      }
      assert.equal(actual.stdout.toString('latin1'), expected.stdout.toString('latin1'), `${name}: output differs (${actual.stderr.trim()})`);
      assert.equal(actual.status, expected.status, `${name}: exit status differs`);
      const check = parseMirrorCheck(actual.stderr);
      assert.ok(check, `${name}: no mirror check line on stderr (${actual.stderr.slice(0, 200)})`);
      assert.equal(check.mismatches, 0, `${name}: ${check.mismatches} mirror mismatches on memvisor`);
      runs++;
    }
  }
  assert.ok(runs >= programs.length * LEVELS.length - 2, `too few programs ran (${runs}); x87 users: ${x87.join(', ')}`);
  t.diagnostic(`${runs} translated programs on memvisor exec, 0 mirror mismatches; skipped (x87): ${x87.join(', ') || 'none'}`);
});
