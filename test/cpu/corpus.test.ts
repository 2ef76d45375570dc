/**
 * The C corpus under qemu-i386 and memvisor exec: same output, same exit status,
 * for every program at every optimisation level; and the CLI end to end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CORPUS_PROGRAMS, OPT_LEVELS, buildCorpusProgram } from './corpus.js';
import { CPU_TIERS, memvisorRunner, qemuUserRunner, repoRoot, scratch } from '../support/build.js';
import { requireQemuUser } from '../support/qemu.js';

const dir = scratch('cpu-corpus');
const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

for (const name of CORPUS_PROGRAMS) {
  test(`corpus: ${name} prints the same as under qemu-i386 at ${OPT_LEVELS.join(' ')}, on every CPU tier`, (t) => {
    requireQemuUser();
    for (const opt of OPT_LEVELS) {
      const elf = buildCorpusProgram(name, opt, dir);
      const expected = qemuUserRunner(elf, ['one', 'two']);
      assert.ok(expected.stdout.length > 0, `${name}${opt}: qemu-i386 printed nothing: ${expected.stderr}`);
      for (const [tier, threshold, engine] of CPU_TIERS) {
        const actual = memvisorRunner(elf, ['one', 'two'], 2e9, threshold, { engine });
        assert.equal(actual.stdout.toString('latin1'), expected.stdout.toString('latin1'), `${name}${opt} (${tier}): output differs (${actual.stderr.trim()})`);
        assert.equal(actual.status, expected.status, `${name}${opt} (${tier}): exit status`);
      }
    }
    t.diagnostic(`${OPT_LEVELS.length} builds compared, each on ${CPU_TIERS.length} CPU tiers`);
  });
}

test('memvisor exec runs a corpus program from the command line, with arguments and exit status', () => {
  requireQemuUser();
  const elf = buildCorpusProgram('strings', '-O2', dir);
  const expected = qemuUserRunner(elf, ['alpha', 'beta']);
  const run = spawnSync(process.execPath, [cli, 'exec', elf, 'alpha', 'beta'], { encoding: 'latin1' });
  assert.equal(run.stdout, expected.stdout.toString('latin1'));
  assert.equal(run.status, 3, 'strings returns argc');
  assert.equal(run.stderr, '');
});
