/**
 * src/paths.ts in the web page's bundle (src/web/build.ts maps it here): a page has no
 * package directory, only memvisor's version (snapshots record it), which the bundler
 * writes in from package.json.
 */
declare const MEMVISOR_VERSION: string;

export const VERSION: string = MEMVISOR_VERSION;
