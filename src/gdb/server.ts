/**
 * `--gdb [HOST:]PORT` (and `-s`, QEMU's spelling of localhost:1234): a TCP listener whose
 * connections go to the stub, one debugger at a time.
 */
import { createServer, type Server } from 'node:net';
import { MemvisorError } from '../errors.js';
import type { GdbStub } from './stub.js';

export interface GdbAddress {
  host: string;
  port: number;
}

/** `PORT`, `:PORT` or `HOST:PORT` (localhost unless a host is given; port 0: the system chooses one). */
export function parseGdbAddress(text: string): GdbAddress {
  const m = /^(?:(.*):)?([0-9]+)$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !Number.isInteger(port) || port > 65535) throw new MemvisorError(`--gdb ${text}: expected [HOST:]PORT, e.g. localhost:1234`);
  return { host: m[1] || 'localhost', port };
}

/** Listens at `address`; every connection is offered to the stub. */
export function listenForDebugger(address: GdbAddress, stub: GdbStub): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => stub.attach(socket));
    server.once('error', (e: NodeJS.ErrnoException) => reject(new MemvisorError(`--gdb ${address.host}:${address.port}: cannot listen (${e.code ?? e.message})`)));
    server.listen(address.port, address.host, () => resolve(server));
  });
}
