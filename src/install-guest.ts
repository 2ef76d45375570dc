/** `node dist/src/install-guest.js` (npm install's prepare step): see installGuest in prebuilt.ts. */
import { installGuest } from './prebuilt.js';

process.exitCode = installGuest();
