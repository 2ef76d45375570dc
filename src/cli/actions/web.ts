/** What `memvisor web` does (its options and help: ../commands/web.ts). */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { MemvisorError } from '../../errors.js';
import { webRoot } from '../../paths.js';
import { wholeNumber } from '../parse.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.map': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml',
};

/** The file under the web root a request path names, or null (outside the root, or not a file). */
function fileFor(urlPath: string): string | null {
  let path: string;
  try {
    path = decodeURIComponent(urlPath.split('?')[0]!);
  } catch {
    return null;
  }
  const file = normalize(join(webRoot, path.endsWith('/') ? `${path}index.html` : path));
  if (file !== webRoot && !file.startsWith(webRoot + sep)) return null;
  return existsSync(file) && statSync(file).isFile() ? file : null;
}

export function serveWebPage(port: number, host = '127.0.0.1'): Promise<{ server: Server; url: string }> {
  if (!existsSync(join(webRoot, 'index.html'))) throw new MemvisorError(`${webRoot} has no web page: build it first (npm install, or npm run build:web)`);
  const server = createServer((request, response) => {
    const file = request.method === 'GET' || request.method === 'HEAD' ? fileFor(request.url ?? '/') : null;
    if (!file) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    response.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': statSync(file).size,
      'cache-control': 'no-cache',
    });
    if (request.method === 'HEAD') response.end();
    else createReadStream(file).pipe(response);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') reject(new MemvisorError(`--port ${port}: the port is in use (another memvisor web?); give another with --port N, or --port 0 for any free one`));
      else if (e.code === 'EACCES') reject(new MemvisorError(`--port ${port}: not allowed to listen there; give a port above 1023`));
      else reject(e);
    });
    server.listen(port, host, () => {
      const address = server.address();
      const actual = typeof address === 'object' && address ? address.port : port;
      resolve({ server, url: `http://${host}:${actual}/` });
    });
  });
}

/** Opens a URL in the desktop's browser, if there is one; says so if not. */
function openInBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(command, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => process.stderr.write(`memvisor: could not start ${command} to open a browser: open ${url} yourself\n`));
  child.unref();
}

export async function web(options: { port: string; open?: boolean }): Promise<void> {
  const port = wholeNumber('--port', options.port, 0, 65535);
  const { url } = await serveWebPage(port);
  process.stdout.write(`memvisor: serving the web page at ${url} (Ctrl-C stops)\n`);
  if (options.open) openInBrowser(url);
}
