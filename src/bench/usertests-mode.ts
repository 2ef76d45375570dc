/**
 * One mode's process in `memvisor bench usertests` (see usertests.ts): started by the bench
 * with an IPC channel, it runs usertests once per job it is sent, reporting each finished
 * sub-test and then the run, and ends when the bench closes the channel or goes away.
 */
import { useBlockCache } from '../block-cache.js';
import { MemvisorError } from '../errors.js';
import { runOnMemvisor, type ModeJob, type ModeMessage } from './usertests.js';

const send = (m: ModeMessage) => process.send!(m);

if (process.send === undefined) {
  process.stderr.write('usertests-mode: started without the bench (run memvisor bench usertests)\n');
  process.exit(2);
}
useBlockCache();
process.on('disconnect', () => process.exit(0));
process.on('message', (job: ModeJob) => {
  runOnMemvisor(job, (label, name) => send({ progress: label, name })).then(
    (run) => send({ run }),
    (e: unknown) => send(e instanceof MemvisorError ? { error: e.message, user: true } : { error: e instanceof Error ? e.stack ?? e.message : String(e), user: false }),
  );
});
