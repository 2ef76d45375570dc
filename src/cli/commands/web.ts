/**
 * `memvisor web [--port N] [--open]`: serves the web page `npm install` built (dist/web,
 * with the MemV6 images it boots) on this machine's loopback address, and opens it in
 * the default browser on request. The page is static: any web server can serve
 * dist/web just as well.
 */
import type { Command } from 'commander';
import { lazyAction } from '../lazy.js';

const DEFAULT_PORT = 8080;

export function register(program: Command): void {
  program
    .command('web')
    .description('serve the web page: MemV6 in your browser, its memory map, faults and recovery')
    .option('--port <n>', `TCP port on 127.0.0.1 (0: any free one; default ${DEFAULT_PORT})`, String(DEFAULT_PORT))
    .option('--open', 'open the page in the default browser')
    .allowExcessArguments(false)
    .action(lazyAction(() => import('../actions/web.js'), 'web'));
}
