/**
 * The web page in a real browser (Debian's chromium, driven by playwright-core), served
 * by `memvisor web` as a user starts it: MemV6 boots to its prompt in the page's worker,
 * usertests sub-tests typed on the console pass, ten poisoned mirrored pages are
 * recovered with the shell still working (and the map, screenshotted, shows them), the
 * same run switched to `off` loses a process, a snapshot saved by the page continues in
 * `memvisor run --restore` (and one saved by `memvisor run` in the page), and a plan in
 * the page's address gives the same instruction count as the `memvisor run` command the
 * page prints. Without chromium every test fails, naming the package to install.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ROLE_COLOURS } from '../../src/web/map-view.js';
import type { Status } from '../../src/web/protocol.js';
import { repoRoot, scratch } from '../support/build.js';
import { countColour, decodePng } from '../support/png.js';

const CHROMIUM = '/usr/bin/chromium';
const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const dir = scratch('web');

let server: ChildProcess;
let url = '';
let browser: BrowserContext;
let page: Page;

before(async () => {
  if (!existsSync(CHROMIUM)) assert.fail(`${CHROMIUM} is missing: the browser tests need Debian's chromium (apt-get install -y chromium)`);
  server = spawn(process.execPath, [cli, 'web', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  url = await new Promise<string>((resolve, reject) => {
    let out = '';
    server.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /serving the web page at (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    server.once('exit', (code) => reject(new Error(`memvisor web exited with ${code}: ${out}`)));
  });
  browser = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    viewport: { width: 1600, height: 1200 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage();
  page.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
});

after(async () => {
  await browser?.close();
  server?.kill();
});

const transcript = () => page.evaluate(() => window.memvisor.transcript());
const status = () => page.evaluate(() => window.memvisor.status()) as Promise<Status>;

/** Waits until the console (since character `from`) matches; the console is in the message if it never does. */
async function waitForConsole(pattern: RegExp, from = 0, timeout = 120_000): Promise<void> {
  try {
    await page.waitForFunction(([source, flags, start]) => new RegExp(source, flags).test(window.memvisor.transcript().slice(start)), [pattern.source, pattern.flags, from] as const, { timeout, polling: 100 });
  } catch (e) {
    assert.fail(`the console never matched ${pattern} (${(e as Error).message.split('\n')[0]}); it shows:\n${(await transcript()).slice(-3000)}`);
  }
}

/** Types on the console (the terminal has the keyboard focus once clicked); returns where the console was before. */
async function type(text: string): Promise<number> {
  const before = (await transcript()).length;
  await page.click('#terminal');
  await page.keyboard.type(text);
  return before;
}

async function waitForStatus(check: (s: Status) => boolean, what: string, timeout = 60_000): Promise<Status> {
  const started = Date.now();
  for (;;) {
    const s = await status();
    if (s && check(s)) return s;
    if (Date.now() - started > timeout) assert.fail(`${what}: never happened; status ${JSON.stringify(s)}\n${(await transcript()).slice(-2000)}`);
    await page.waitForTimeout(100);
  }
}

test('web: the page boots mirrored MemV6 to its prompt in a worker, and usertests sub-tests typed on the console pass', async () => {
  await page.goto(`${url}#mode=guest&seed=1`);
  await waitForConsole(/^\$ $/m, 0, 60_000);
  const from = await type('usertests printf forkwait sbrkgrow pipebig\n');
  await waitForConsole(/^ALL TESTS PASSED\r?$/m, from);
  const output = (await transcript()).slice(from);
  for (const name of ['printf', 'forkwait', 'sbrkgrow', 'pipebig']) assert.match(output, new RegExp(`^${name} ok\\r?$`, 'm'));
  assert.equal((await status()).mirror, 'guest');
});

let injectedAt = 0;

test('web: ten faults injected in the shell\'s mirrored pages: every one the shell reads is recovered, the shell goes on, and the map shows them', async (t) => {
  await waitForConsole(/\$ $/);
  await page.selectOption('#kind', 'poison');
  await page.selectOption('#target', 'user-native');
  await page.fill('#count', '10');
  await page.dispatchEvent('#count', 'input');
  await page.selectOption('#when', '0');
  assert.equal(await page.inputValue('#spec'), 'poison:target=user-native,count=10');
  await page.click('#inject');
  await page.waitForFunction(() => window.memvisor.plan().faults.length === 1);
  const spec = (await page.evaluate(() => window.memvisor.plan().faults[0]))!;
  assert.match(spec, /^poison:target=user-native,count=10,at=\d+$/);
  injectedAt = Number(/at=(\d+)/.exec(spec)![1]);
  // They land at the shell's next system call. Fork shares pages copy-on-write, so a
  // fault is consumed (and recovered) only when a page is read or first written: the
  // stack, data and code the shell runs; a page it never touches again keeps its fault
  // latent, harmless, until it is read or freed.
  const from = await type('echo alive\n');
  await waitForConsole(/^alive\r?$/m, from);
  const again = await type('echo still here\n');
  await waitForConsole(/^still here\r?$/m, again);
  const s = await waitForStatus((x) => x.counters.injected === 10 && x.counters.recovered > 0 && x.counters.recovered === x.counters.activated, 'every consumed fault recovered');
  const { recovered } = s.counters;
  assert.deepEqual(s.counters, { injected: 10, activated: recovered, recovered, recoveredByGuest: 0, machineChecks: 0, killed: 0 });
  t.diagnostic(`${recovered} of 10 faults consumed and recovered; ${10 - recovered} latent or overwritten`);
  const log = await page.locator('#log li.recovered').allTextContents();
  assert.equal(log.length, recovered, log.join('\n'));
  assert.ok(log.every((line) => / ms; host frame 0x[0-9a-f]+ retired$/.test(line)), log.join('\n'));

  // The map after recovery, as a test artifact, shows the recovered frames' colour.
  await page.waitForTimeout(600);  // the next map (five a second)
  const shot = join(dir, 'map-after-recovery.png');
  await page.locator('#map').screenshot({ path: shot });
  await page.screenshot({ path: join(dir, 'page-after-recovery.png') });
  const image = decodePng(readFileSync(shot));
  const recoveredPixels = countColour(image, ROLE_COLOURS.recovered);
  assert.ok(recoveredPixels >= recovered * 9, `the map screenshot ${shot} shows ${recoveredPixels} pixels of the recovered colour`);
  t.diagnostic(`map screenshot: ${shot} (${recoveredPixels} recovered-colour pixels)`);

  // Hovering a recovered frame tells its story: the page it holds, its owner, its history.
  // A recovered page the shell shared with a child may have gone with the child, so every
  // recovered frame tells its history and at least one, still the shell's, names it.
  const [r, g, b] = ROLE_COLOURS.recovered;
  const box = (await page.locator('#map').boundingBox())!;
  const told: string[] = [];
  for (let at = 0; at < image.rgba.length && told.length < recovered; at += 4) {
    if (!(image.rgba[at] === r && image.rgba[at + 1] === g && image.rgba[at + 2] === b)) continue;
    await page.mouse.move(box.x + ((at / 4) % image.width) + 0.5, box.y + Math.floor(at / 4 / image.width) + 0.5);
    await page.waitForFunction(() => /recovered/.test(document.getElementById('frame-details')!.textContent ?? ''));
    const details = (await page.textContent('#frame-details'))!;
    if (told.includes(details)) continue;
    told.push(details);
    assert.match(details, /\(spare pool\): recovered/);
    assert.match(details, /recovered: recovered by the monitor into spare host frame/);
  }
  assert.ok(told.some((d) => /pid \d+ \(sh\): native page at va 0x[0-9a-f]+, twin host frame 0x/.test(d)), `no recovered frame names the shell as its owner:\n${told.join('\n')}`);
});

test('web: the same faults with mirroring off lose the shell\'s data: MemV6 kills it and starts another', async () => {
  await page.selectOption('#mode', 'off');
  await waitForConsole(/^\$ $/m, 0, 60_000);
  assert.equal((await status()).mirror, 'off');
  assert.match(await page.evaluate(() => location.hash), /mode=off/);
  await page.check('#fast');
  await waitForStatus((s) => s.cycles > injectedAt, `guest time past the faults' cycle ${injectedAt}`);
  const from = await type('echo alive\n');
  await waitForConsole(/which has no healthy copy: killing it/, from);
  // Each fault lands at a system call, on a fresh page of the process making it: a process
  // with fewer pages than faults leaves the rest for later calls, of the next shell, say,
  // which they may take too. Type until every fault has landed and a shell still answers.
  let answered = false;
  for (let attempt = 0; attempt < 6 && !answered; attempt++) {
    const allLanded = (await status()).counters.injected === 10;
    await waitForConsole(/\$ $/, from);
    const again = await type('echo alive again\n');
    const echoed = await page.waitForFunction((start) => /^alive again\r?$/m.test(window.memvisor.transcript().slice(start)), again, { timeout: 20_000 }).then(() => true, () => false);
    answered = echoed && allLanded;
  }
  assert.ok(answered, `no shell answered once every fault had landed: status ${JSON.stringify(await status())}\n${(await transcript()).slice(from)}`);
  const { counters } = await status();
  assert.equal(counters.injected, 10);
  assert.ok(counters.killed > 0);
  assert.equal(counters.recovered, 0);
  assert.ok(counters.machineChecks > 0);
  assert.ok((await page.locator('#log li.guest').allTextContents()).some((l) => /killing it/.test(l)));
});

test('web: a snapshot saved by the page continues in memvisor run --restore, and one memvisor run saved continues in the page', async () => {
  const marker = await type('echo before the snapshot\n');
  await waitForConsole(/^before the snapshot\r?\n\$ $/m, marker);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
  const file = join(dir, 'page.snap');
  await download.saveAs(file);
  const run = spawnSync(process.execPath, [cli, 'run', '--restore', file, '--send', 'echo restored on the command line\\n', '--until', '^restored on the command line', '--timeout', '120'], { encoding: 'utf8' });
  assert.equal(run.status, 0, `memvisor run --restore ${file}: ${run.stderr}\n${run.stdout.slice(-2000)}`);

  const cliSnapshot = join(dir, 'cli.snap');
  const save = spawnSync(process.execPath, [cli, 'run', '--seed', '1', '--send', 'echo saved on the command line\\n', '--snapshot-at', '^saved on the command line\\r?\\n\\$ $', '--snapshot', cliSnapshot, '--until', '^saved on the command line\\r?\\n\\$ $', '--timeout', '120'], { encoding: 'utf8' });
  assert.equal(save.status, 0, save.stderr);
  await page.setInputFiles('#restore', cliSnapshot);
  await waitForConsole(/^saved on the command line\r?\n\$ $/m);
  assert.equal((await status()).mirror, 'guest');
  const from = await type('echo restored in the page\n');
  await waitForConsole(/^restored in the page\r?$/m, from);
});

test('web: a plan in the page\'s address runs to the same instruction count as the memvisor run command the page prints', async () => {
  // The window ends before the run does (about 1.7 million instructions since the boot no
  // longer writes into every free page), so all five faults are injected.
  const plan = new URLSearchParams({ mode: 'guest', seed: '7', fault: 'poison:target=user-native,count=5,window=500000-1500000', send: 'usertests forkwait pipebig', until: 'ALL TESTS PASSED' });
  await page.goto(`${url}#${plan}`);
  await page.reload();
  await page.check('#fast');
  await page.waitForFunction(() => window.memvisor.finished() !== null, null, { timeout: 180_000 });
  const finished = (await page.evaluate(() => window.memvisor.finished()))!;
  assert.equal(finished.outcome, 'matched');
  const command = (await page.textContent('#command'))!;
  assert.match(command, /^npx memvisor run --mirror guest --seed 7 --inject .* --send 'usertests forkwait pipebig\\n' --until 'ALL TESTS PASSED'$/);
  const stats = join(dir, 'replay.json');
  const replay = spawnSync('bash', ['-c', `${command.replace(/^npx memvisor/, `node ${cli}`)} --stats ${stats}`], { encoding: 'utf8' });
  assert.equal(replay.status, 0, replay.stderr);
  const cliRun = JSON.parse(readFileSync(stats, 'utf8')) as { instructions: number; memoryErrors: { injected: number; activated: number; recoveredByMonitor: number } };
  assert.equal(finished.instructions, cliRun.instructions, `the page and ${command} differ`);
  const counters = (await status()).counters;
  assert.deepEqual([counters.injected, counters.activated, counters.recovered], [5, cliRun.memoryErrors.activated, cliRun.memoryErrors.recoveredByMonitor]);
  assert.equal(cliRun.memoryErrors.injected, 5);
  assert.ok(cliRun.memoryErrors.activated > 0);
  writeFileSync(join(dir, 'replayed-command.txt'), `${command}\n`);
});

test('web: text typed on the page reaches the guest as the same UTF-8 bytes as from the command line, and shows as typed', async () => {
  await page.goto(`${url}#mode=off&seed=1`);
  await page.reload();
  await waitForConsole(/^\$ $/m, 0, 60_000);
  const text = 'echo café ünï €';
  const from = await type(`${text}\n`);
  // The transcript holds one character per byte: the guest printed the UTF-8 bytes it was given.
  const bytes = String.fromCharCode(...Buffer.from('café ünï €', 'utf8'));
  await waitForConsole(new RegExp(`^${bytes}\\r?$`, 'm'), from);
  // memvisor run, given the same text with --send, gets the same bytes back.
  const r = spawnSync(process.execPath, [cli, 'run', '--mirror', 'off', '--send', `${text}\\n`, '--until', '^café ünï €$', '--timeout', '120'], { timeout: 180_000 });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.ok(r.stdout.includes(Buffer.from('\ncafé ünï €\n', 'utf8')), r.stdout.toString('latin1').slice(-400));
  // And the terminal decodes them as UTF-8, as the user's terminal does for memvisor run.
  await page.waitForFunction(() => /café ünï €/.test(document.querySelector('#terminal .xterm-rows')?.textContent ?? ''));
});
