/**
 * Every `memvisor` command line registers every command, so registering one must load no
 * more than its options and help text: what a command does (the machine, the translator,
 * the charts) is loaded only when that command runs (src/cli/lazy.ts). The modules a
 * command line loaded are read, in a child process, from the inspector's parsed scripts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const main = join(root, 'dist', 'src', 'cli', 'main.js');

/** The modules `memvisor ARGS` loaded: paths under dist/src, and package names. */
function modulesLoadedBy(args: string[]): { status: number | null; modules: string[] } {
  const child = `
    import { Session } from 'node:inspector';
    const session = new Session();
    session.connect();
    const urls = new Set();
    session.on('Debugger.scriptParsed', ({ params }) => urls.add(params.url));
    session.post('Debugger.enable');
    process.on('exit', () => process.stderr.write('\\nloaded ' + JSON.stringify([...urls]) + '\\n'));
    process.argv = [process.argv[0], ${JSON.stringify(main)}, ...${JSON.stringify(args)}];
    await import(${JSON.stringify(pathToFileURL(main).href)});
  `;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', child], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const line = run.stderr.split('\n').find((l) => l.startsWith('loaded '));
  assert.ok(line, `memvisor ${args.join(' ')}: no list of modules:\n${run.stderr}`);
  const modules = (JSON.parse(line.slice('loaded '.length)) as string[]).filter((url) => url.startsWith('file:')).map((url) => {
    const path = relative(root, fileURLToPath(url));
    return path.startsWith('node_modules/') ? path.split('/')[1]! : path;
  });
  return { status: run.status, modules: [...new Set(modules)] };
}

/** What only running a command may load. */
const HEAVY = [/^dist\/src\/cli\/actions\//, /^dist\/src\/(cpu|sbt|exec|bench|campaign|gdb|charts)\b/, /^dist\/src\/machine\/(pc|boot)\.js$/,
  /^dist\/src\/vmm\/(monitor|index)\.js$/, /^(iced-x86|vega|vega-lite|cli-progress|piscina)$/];

test('registering every command loads no command\'s implementation (--version, --help, a help page)', () => {
  for (const args of [['--version'], ['--help'], ['run', '--help'], ['bench', 'usertests', '--help'], ['campaign', 'plan', '--help']]) {
    const { status, modules } = modulesLoadedBy(args);
    assert.equal(status, 0, `memvisor ${args.join(' ')}`);
    assert.ok(modules.includes('dist/src/cli/commands/bench.js'), `memvisor ${args.join(' ')}: the list of modules is incomplete: ${modules.join(', ')}`);
    const heavy = modules.filter((m) => HEAVY.some((re) => re.test(m)));
    assert.deepEqual(heavy, [], `memvisor ${args.join(' ')} loaded what only running a command needs`);
  }
});

test('a command loads its own implementation and no other command\'s', () => {
  const dir = mkdtempSync(join(tmpdir(), 'memvisor-startup-'));
  try {
    const notElf = join(dir, 'not-an-elf');
    writeFileSync(notElf, 'hello\n');
    const cases: Array<[string[], number, string]> = [
      [['fs', 'ls', notElf], 2, 'fs'],
      [['translate', notElf, '-o', join(dir, 'out')], 2, 'translate'],
      [['exec', notElf], 2, 'exec'],
      [['run', '--kernel', notElf], 2, 'run'],
      [['bench', 'usertests', '--runs', '0'], 2, 'bench'],
    ];
    for (const [args, status, own] of cases) {
      const loaded = modulesLoadedBy(args);
      assert.equal(loaded.status, status, `memvisor ${args.join(' ')}`);
      const actions = loaded.modules.filter((m) => m.startsWith('dist/src/cli/actions/'));
      assert.deepEqual(actions, [`dist/src/cli/actions/${own}.js`], `memvisor ${args.join(' ')}`);
      // A benchmark loads the translator only when it translates: iced-x86's WebAssembly
      // loaded beside a machine made usertests' first run 0.1 s slower.
      if (own === 'bench') assert.ok(!loaded.modules.includes('iced-x86'), `memvisor ${args.join(' ')} loaded iced-x86`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
