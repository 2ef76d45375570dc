/**
 * `npm run build:web`: bundles the web page with esbuild into dist/web, a static site
 * that works from any host (every URL in it is relative): index.html, the page and its
 * worker (the machine, from the same src/ as the command line), the styles, and the
 * MemV6 images it boots (copied from build/guest; run again after rebuilding the guest).
 *
 * The browser has no node:fs, node:zlib or node:crypto: the few the machine's modules
 * import are mapped to src/web/host/ (no files; raw deflate by fflate; SHA-256 by
 * @noble/hashes), and src/paths.ts to a module with the version only. Any other Node
 * module reached from the page is an error here, not in the browser.
 */
import { build, type Plugin } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MEMV6_IMAGES, MIRROR_MODES } from '../vmm/index.js';
import { builtFile, packageRoot, VERSION } from '../paths.js';

const source = join(packageRoot, 'src');
const out = join(packageRoot, 'dist', 'web');
const host = (file: string) => join(source, 'web', 'host', file);

const BROWSER_HOST: Record<string, string> = {
  'node:fs': host('fs.ts'),
  'node:zlib': host('zlib.ts'),
  'node:crypto': host('crypto.ts'),
};

const browserHost: Plugin = {
  name: 'memvisor-browser-host',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => {
      const mapped = BROWSER_HOST[args.path];
      if (mapped) return { path: mapped };
      return { errors: [{ text: `${args.path} (imported by ${args.importer}) has no browser version: keep it out of the page's modules, or map it in src/web/build.ts` }] };
    });
    b.onResolve({ filter: /(^|\/)paths\.js$/ }, (args) => (join(args.resolveDir, args.path) === join(source, 'paths.js') ? { path: host('paths.ts') } : undefined));
  },
};

rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: { page: join(source, 'web', 'page.ts'), worker: join(source, 'web', 'worker.ts') },
  outdir: out,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  define: { MEMVISOR_VERSION: JSON.stringify(VERSION) },
  plugins: [browserHost],
  logLevel: 'warning',
});
copyFileSync(join(source, 'web', 'index.html'), join(out, 'index.html'));
copyFileSync(join(source, 'web', 'style.css'), join(out, 'style.css'));
copyFileSync(join(packageRoot, 'node_modules', '@xterm', 'xterm', 'css', 'xterm.css'), join(out, 'xterm.css'));
mkdirSync(join(out, 'guest'));
for (const name of new Set(MIRROR_MODES.flatMap((mode) => [MEMV6_IMAGES.kernel(mode), MEMV6_IMAGES.disk(mode)]))) copyFileSync(builtFile(name), join(out, 'guest', name));
process.stdout.write(`memvisor: the web page is in ${out}\n`);
