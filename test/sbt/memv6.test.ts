/**
 * Every MemV6 user program (build/guest/user/*, linked -N -Ttext 0 --emit-relocs) translates
 * and passes the independent verifier; the output carries the MemV6 note and keeps its
 * first segment at address 0 with page-aligned translated code after the image.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseElf, PT_LOAD, readTranslationNote } from '../../src/elf/index.js';
import { MIRROR_OFFSET } from '../../src/layout.js';
import { translateElf } from '../../src/sbt/index.js';
import { repoRoot } from './support.js';

const userDir = join(repoRoot, 'build', 'guest', 'user');

test('memv6: every user program translates and verifies', (t) => {
  assert.ok(existsSync(userDir), `${userDir} is missing: run \`npm install\` (or \`make -C guest user\`) to build the MemV6 user programs`);
  const programs = readdirSync(userDir).filter((f) => !f.includes('.') || f.endsWith('.elf')).sort();
  assert.ok(programs.length > 0, `no programs in ${userDir}`);
  const rows: string[] = [];
  let instructions = 0; let before = 0; let after = 0;
  for (const name of programs) {
    const path = join(userDir, name);
    const bytes = readFileSync(path);
    if (bytes[0] !== 0x7f) continue;
    const { output, report } = translateElf(bytes, { path, verify: true });
    assert.deepEqual(report.verify?.errors, [], `${name}: verifier`);
    const elf = parseElf(output, `${name}.translated`);
    assert.equal(readTranslationNote(elf)?.offset, MIRROR_OFFSET, `${name}: no MemV6 note for the mirror offset`);
    for (const p of elf.programHeaders.filter((h) => h.type === PT_LOAD)) {
      assert.equal(p.vaddr % 4096, 0, `${name}: segment at ${p.vaddr.toString(16)} is not page-aligned (MemV6 exec needs it)`);
      assert.equal(p.offset % 4096, p.vaddr % 4096, `${name}: file offset not congruent to address`);
    }
    instructions += report.instructions; before += report.originalCodeBytes; after += report.translatedCodeBytes;
    rows.push(`${name.padEnd(14)} ${String(report.instructions).padStart(6)} instr, ${report.growth}x, ${Object.entries(report.writers).map(([k, v]) => `${k} ${v}`).join(' ')}`);
  }
  const summary = [`memv6 programs: ${rows.length}, ${instructions} instructions, code ${before} -> ${after} bytes (${(after / before).toFixed(2)}x)`, ...rows].join('\n');
  t.diagnostic(summary);
  console.log(summary);
});
