/** Debugging the guest with gdb: a GDB remote stub in the memvisor process (see stub.ts). */
export { GdbStub, type StubOptions } from './stub.js';
export { listenForDebugger, parseGdbAddress, type GdbAddress } from './server.js';
export { monitorCommand } from './monitor-commands.js';
