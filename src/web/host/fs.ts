/**
 * node:fs in the web page's bundle (src/web/build.ts maps it here): a page has no files.
 * The machine reads and writes files only when it is given paths, and the page gives it
 * bytes, so these are never reached; if one were, it says so in one line.
 */
import { MemvisorError } from '../../errors.js';

const noFiles = (what: string) => (): never => {
  throw new MemvisorError(`${what}: a web page has no file system (give the machine bytes, not a path)`);
};

export const readFileSync = noFiles('readFileSync');
export const statSync = noFiles('statSync');
export const openSync = noFiles('openSync');
export const writeSync = noFiles('writeSync');
export const closeSync = noFiles('closeSync');
export const renameSync = noFiles('renameSync');
export const writeFileSync = noFiles('writeFileSync');
export const fstatSync = noFiles('fstatSync');
export const readSync = noFiles('readSync');
/** The open flags src/input-file.ts names (only ever passed to openSync above). */
export const constants = { O_RDONLY: 0, O_NONBLOCK: 0 };
