/**
 * Our own layout pass (reference §4.2): every item's size is fixed except branches, which
 * start short and are widened until every target fits (monotone, so it terminates). Then
 * each item is encoded at its final address with its branch target and any code-address
 * immediate filled in; the encoded length must equal the planned one.
 */
import { MemvisorError } from '../errors.js';
import { Code, Encoder, OpKind, type Instruction } from './iced.js';

export interface Item {
  /** Owned by the item list; freed by freeItems. */
  instruction: Instruction;
  /** Direct branch: index of the item it jumps to. */
  branchTo?: number;
  /** An imm32 operand that must hold the final address of item `immediateTo`. */
  immediateTo?: number;
  /** An imm32 operand that must hold the end of the translated image (it held the symbol `end`). */
  immediateToEnd?: boolean;
  /** The instruction writes memory (the store pairs are computed from these). */
  writes?: boolean;
  /** Index of the original instruction this item reproduces (the original, not its mirror). */
  origin?: number;
  role: 'original' | 'inserted' | 'stub';
}

export interface Layout {
  addresses: number[];
  sizes: number[];
  code: Uint8Array;
  /** Address just past the last item. */
  end: number;
}

function isShortOnly(instruction: Instruction): boolean {
  return instruction.isLoop || instruction.isLoopcc || instruction.isJcxShort;
}

function immediateOperand(instruction: Instruction): number {
  for (let op = 0; op < instruction.opCount; op++) if (instruction.opKind(op) === OpKind.Immediate32) return op;
  throw new Error(`internal error: no imm32 operand in code ${instruction.code}`);
}

export function layoutItems(items: Item[], base: number, describe: (item: Item) => string): Layout {
  const encoder = new Encoder(32);
  const sizeOf = (instruction: Instruction, at: number): number => {
    const length = encoder.encode(instruction, BigInt(at));
    encoder.takeBuffer();
    return length;
  };
  const sizes: number[] = [];
  for (const item of items) {
    if (item.branchTo !== undefined) {
      if (!isShortOnly(item.instruction) && item.instruction.code !== Code.Call_rel32_32) item.instruction.asShortBranch();
      sizes.push(item.instruction.code === Code.Call_rel32_32 ? 5 : (item.instruction.isJccShortOrNear && item.instruction.isJccNear) ? 6 : 2);
      if (item.instruction.isJmpNear) sizes[sizes.length - 1] = 5;
    } else {
      sizes.push(sizeOf(item.instruction, base));
    }
  }
  const addresses = new Array<number>(items.length + 1);
  for (let changed = true; changed;) {
    changed = false;
    let at = base;
    for (let i = 0; i < items.length; i++) { addresses[i] = at; at += sizes[i]!; }
    addresses[items.length] = at;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (item.branchTo === undefined || sizes[i] !== 2) continue;
      const delta = addresses[item.branchTo]! - (addresses[i]! + 2);
      if (delta >= -128 && delta <= 127) continue;
      if (isShortOnly(item.instruction)) {
        throw new MemvisorError(`${describe(item)}: loop/jecxz target out of rel8 range after translation`);
      }
      item.instruction.asNearBranch();
      sizes[i] = item.instruction.isJmpNear ? 5 : 6;
      changed = true;
    }
  }
  const end = addresses[items.length]!;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (item.branchTo !== undefined) item.instruction.nearBranch32 = addresses[item.branchTo]!;
    if (item.immediateTo !== undefined) item.instruction.setImmediateU32(immediateOperand(item.instruction), addresses[item.immediateTo]!);
    if (item.immediateToEnd) item.instruction.setImmediateU32(immediateOperand(item.instruction), end);
    const length = encoder.encode(item.instruction, BigInt(addresses[i]!));
    if (length !== sizes[i]) throw new Error(`internal error: ${describe(item)} encoded as ${length} bytes, planned ${sizes[i]}`);
  }
  const code = encoder.takeBuffer();
  encoder.free();
  if (code.length !== end - base) throw new Error('internal error: layout size mismatch');
  addresses.length = items.length;
  return { addresses, sizes, code, end };
}

export function freeItems(items: Item[]): void {
  for (const item of items) item.instruction.free();
  items.length = 0;
}
