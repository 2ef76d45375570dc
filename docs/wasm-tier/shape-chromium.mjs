// shape.mjs in chromium (Debian's, as `bench web` uses):
//   node docs/wasm-tier/shape-chromium.mjs js wexp wloop
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
const here = new URL('.', import.meta.url);
const enc = readFileSync(new URL('../../dist/src/cpu/wasm/encoder.js', here), 'utf8').replace(/^export /gm, '');
const exp = readFileSync(new URL('shape.mjs', here), 'utf8').replace(/^import .*$/m, '');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
for (const mode of process.argv.slice(2)) {
  const page = await browser.newPage();
  page.on('console', (m) => console.log(m.text()));
  page.on('pageerror', (e) => console.log('error', e.message));
  const env = { N: process.env.N ?? '500', CALLS: process.env.CALLS ?? '10000000', PER: process.env.PER ?? '50' };
  const src = `const process = { argv: [0, 0, ${JSON.stringify(mode)}], env: ${JSON.stringify(env)} };\n${enc}\n${exp}\nwindow.__done = true;`;
  await page.addScriptTag({ type: 'module', content: src });
  await page.waitForFunction(() => window.__done === true, undefined, { timeout: 120000 });
  await page.close();
}
await browser.close();
