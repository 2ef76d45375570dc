export { LinuxProcess, STACK_TOP, type ExecOptions, type ExecResult } from './linux.js';
export { AddressSpace } from './address-space.js';
