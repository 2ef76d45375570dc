/**
 * The host a benchmark ran on, printed at the top of every `memvisor bench` report and kept
 * in usertests' results.json. The same build gives other ratios on other machines: on two
 * 2-core VMs of the same kind, memvisor's compiled code ran 1.6 times slower on one while
 * QEMU ran as fast (README, *Speed*), so a figure means little without its processor.
 */
import { availableParallelism, cpus, type } from 'node:os';

export function hostDescription(): string {
  const cpu = cpus()[0];
  const model = cpu?.model.replace(/\s+/g, ' ').trim() || 'an unnamed processor';
  const speed = cpu !== undefined && cpu.speed > 0 ? ` at ${(cpu.speed / 1000).toFixed(2)} GHz` : '';
  const cores = availableParallelism();
  return `${model}${speed}, ${cores} core${cores === 1 ? '' : 's'}; ${type()} ${process.arch}, Node ${process.version}`;
}
