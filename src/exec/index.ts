export { LinuxProcess, STACK_TOP, type ExecOptions, type ExecResult } from './linux.js';
export { runCaptured, type CapturedRun } from './captured.js';
export { AddressSpace } from './address-space.js';
