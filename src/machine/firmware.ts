/**
 * What a PC's firmware leaves in low memory for a kernel that boots without BIOS calls:
 * the BIOS data area (COM1's port, the EBDA segment, base memory size, the text screen),
 * an EBDA holding the MP floating pointer and configuration table (one processor, the ISA
 * bus, the IOAPIC and every ISA interrupt's pin, with IRQ 0 on pin 2 as on QEMU), and a
 * real-mode interrupt vector table whose entries all point at an IRET.
 */
import type { PhysicalMemory } from '../cpu/memory.js';
import { CPUID_FEATURES, CPUID_SIGNATURE } from '../cpu/state.js';
import { IOAPIC_BASE, IOAPIC_VERSION, LAPIC_BASE, LAPIC_VERSION } from './apic.js';

export const EBDA = 0x9fc00;
export const BASE_MEMORY_KIB = EBDA / 1024;
/** F000:FF53, where a PC BIOS keeps its dummy IRET. */
const IRET_STUB = 0xfff53;
export const IOAPIC_ID = 1;

/** ISA IRQ → IOAPIC pin: the PIT's IRQ 0 arrives on pin 2, the rest on their own number. */
export function ioapicPin(irq: number): number {
  return irq === 0 ? 2 : irq;
}

function checksum(bytes: Uint8Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum = (sum + bytes[i]!) & 0xff;
  return (0x100 - sum) & 0xff;
}

/** Builds the MP configuration table and returns its bytes. */
function mpConfigTable(): Uint8Array {
  const entries: number[][] = [];
  const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  entries.push([0, 0, LAPIC_VERSION & 0xff, 0x03, ...u32(CPUID_SIGNATURE), ...u32(CPUID_FEATURES), 0, 0, 0, 0, 0, 0, 0, 0]);
  entries.push([1, 0, ...Array.from('ISA   ', (c) => c.charCodeAt(0))]);
  entries.push([2, IOAPIC_ID, IOAPIC_VERSION & 0xff, 0x01, ...u32(IOAPIC_BASE)]);
  for (let irq = 0; irq < 16; irq++) {
    if (irq === 2) continue;  // the cascade
    entries.push([3, 0, 0, 0, 0, irq, IOAPIC_ID, ioapicPin(irq)]);
  }
  entries.push([4, 3, 0, 0, 0, 0, 0xff, 0]);  // ExtINT → LINT0 of every processor
  entries.push([4, 1, 0, 0, 0, 0, 0xff, 1]);  // NMI → LINT1
  const body = entries.flat();
  const table = new Uint8Array(44 + body.length);
  const view = new DataView(table.buffer);
  table.set([0x50, 0x43, 0x4d, 0x50], 0);  // PCMP
  view.setUint16(4, table.length, true);
  table[6] = 4;  // MP spec 1.4
  table.set(Array.from('MEMVISORPC          ', (c) => c.charCodeAt(0)), 8);
  view.setUint16(34, entries.length, true);
  view.setUint32(36, LAPIC_BASE, true);
  table.set(body, 44);
  table[7] = checksum(table, 0, table.length);
  return table;
}

/** Writes the BIOS data area, the EBDA with the MP tables, and the real-mode IVT. */
export function installFirmwareTables(mem: PhysicalMemory): void {
  const ram = mem.ram;
  // Real-mode IVT: every vector → F000:FF53, an IRET.
  for (let v = 0; v < 256; v++) {
    mem.write16(v * 4, IRET_STUB & 0xffff);
    mem.write16(v * 4 + 2, 0xf000);
  }
  mem.write8(IRET_STUB, 0xcf);
  // BIOS data area.
  mem.write16(0x400, 0x3f8);                  // COM1
  mem.write16(0x40e, EBDA >> 4);              // EBDA segment
  mem.write16(0x410, 0x0220);                 // one serial port, 80x25 colour
  mem.write16(0x413, BASE_MEMORY_KIB);        // base memory in KiB
  mem.write8(0x449, 3);                       // video mode 3: 80x25 text
  mem.write16(0x44a, 80);
  mem.write16(0x463, 0x3d4);                  // CRT controller
  mem.write8(0x484, 24);                      // rows - 1
  // EBDA: its size (1 KiB), then the MP floating pointer and the configuration table.
  mem.write8(EBDA, 1);
  const floating = EBDA + 0x10;
  const config = floating + 0x10;
  const table = mpConfigTable();
  ram.set(table, mem.hostOffset(config));
  mem.noteHostWrite(mem.hostOffset(config), table.length);
  const fp = new Uint8Array(16);
  fp.set([0x5f, 0x4d, 0x50, 0x5f], 0);        // _MP_
  new DataView(fp.buffer).setUint32(4, config, true);
  fp[8] = 1;                                  // length in 16-byte units
  fp[9] = 4;                                  // spec 1.4
  fp[10] = checksum(fp, 0, 16);
  ram.set(fp, mem.hostOffset(floating));
  mem.noteHostWrite(mem.hostOffset(floating), fp.length);
}
