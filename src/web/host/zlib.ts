/**
 * The two node:zlib functions snapshots use, in the web page's bundle (src/web/build.ts
 * maps node:zlib here): raw DEFLATE by fflate, so a page reads and writes the same
 * snapshot files as the command line (test/web/host.test.ts checks both directions).
 */
import { deflateSync, inflateSync } from 'fflate';

export const deflateRawSync = (data: Uint8Array): Uint8Array => deflateSync(data, { level: 1 });
export const inflateRawSync = (data: Uint8Array): Uint8Array => inflateSync(data);
