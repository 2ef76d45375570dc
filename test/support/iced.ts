/**
 * iced-x86 as the tests' decoder oracle, and which of its instructions memvisor's CPU
 * implements: an instruction of any other CPUID feature (SSE, TSX, …) raises #UD.
 */
import iced from 'iced-x86';

export { default as iced } from 'iced-x86';

const { Code, CpuidFeature } = iced;

/** The iced CPUID features of instructions this CPU implements. */
export const SUPPORTED_FEATURES: ReadonlySet<number> = new Set<number>([
  CpuidFeature.INTEL8086, CpuidFeature.INTEL186, CpuidFeature.INTEL286, CpuidFeature.INTEL386, CpuidFeature.INTEL486,
  CpuidFeature.CMOV, CpuidFeature.CPUID, CpuidFeature.CX8, CpuidFeature.MSR, CpuidFeature.TSC, CpuidFeature.PAUSE,
  CpuidFeature.MULTIBYTENOP, CpuidFeature.RDPMC, CpuidFeature.FPU, CpuidFeature.FPU287, CpuidFeature.FPU387,
]);

/** Whether the CPU implements a decoded instruction (iced rejected nothing, and every feature it needs is supported). */
export function cpuImplements(instruction: iced.Instruction): boolean {
  return instruction.code !== Code.INVALID && Array.from(instruction.cpuidFeatures()).every((f) => SUPPORTED_FEATURES.has(f));
}

/** iced's name of an instruction code, for messages. */
export const CODE_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(Code).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v as number, k]));
