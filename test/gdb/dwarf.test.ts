/**
 * The translator moves a program's DWARF with its code: for every MemV6 program, gdb (no
 * target, the files alone) finds each function of the translated program at the same source
 * line as in the original, at the function's own new address, with the same variables in
 * scope at its entry (where the prologue ends is gdb's guess from the code, so a block
 * that starts there may fall on either side of it; the entry is exact); and `translate --report` says every debug section was moved.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { scratch } from '../support/build.js';
import { build, cli, requireGdb } from './support.js';

const dir = scratch('gdb-dwarf');

/** The functions a program defines (nm: text symbols), in order. */
function functions(program: string): string[] {
  const r = spawnSync('nm', ['--defined-only', program], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').map((l) => l.split(' ')).filter((f) => f[1] === 'T' || f[1] === 't').map((f) => f[2]!).sort();
}

/** For each function: the source line gdb gives its start (where `break FUNC` stops), and the names of the symbols in scope at its entry. */
function sourceView(program: string, names: string[]): string[] {
  const args = ['-nx', '-batch', program, ...names.flatMap((f) => ['-ex', `echo @@ ${f}\\n`, '-ex', `info line ${f}`, '-ex', `info scope *${f}`])];
  const r = spawnSync('gdb', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `gdb ${args.join(' ')}:\n${r.stderr}`);
  return (r.stdout + r.stderr).split('@@ ').slice(1).map((part) => {
    const name = part.slice(0, part.indexOf('\n'));
    const line = /Line (\d+) of "([^"]+)"\s+starts at address 0x[0-9a-f]+ <([^>+]+)>/.exec(part);
    const symbols = [...part.matchAll(/Symbol (\w+) is/g)].map((m) => m[1]).join(',');
    return `${name}: ${line ? `${line[2]}:${line[1]} at <${line[3]}>` : 'no line'}; scope ${symbols}`;
  });
}

test('translate: every MemV6 program keeps its source lines and scopes in gdb', () => {
  requireGdb();
  const programs = readdirSync(join(build, 'mirrored')).sort();
  assert.ok(programs.length >= 15, `only ${programs.length} translated programs in build/guest/mirrored`);
  let checked = 0;
  for (const name of programs) {
    const original = join(build, 'user', name);
    const report = spawnSync(process.execPath, [cli, 'translate', original, '-o', join(dir, name), '--report'], { encoding: 'utf8' });
    assert.equal(report.status, 0, report.stderr);
    assert.match(report.stdout, /debug information: \d+ sections moved with the code/, `memvisor translate ${original} --report`);
    const names = functions(original);
    assert.deepEqual(functions(join(dir, name)), names, `${name}: the translated program defines other functions`);
    const before = sourceView(original, names), after = sourceView(join(dir, name), names);
    assert.ok(before.filter((l) => !l.includes('no line')).length >= 3, `${name}: gdb found too few source lines in the original:\n${before.join('\n')}`);
    assert.deepEqual(after, before, `${name}: gdb sees other source lines or scopes in the translated program`);
    checked += names.length;
  }
  assert.ok(checked > 100, `only ${checked} functions checked`);
});
