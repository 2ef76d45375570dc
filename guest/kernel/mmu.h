// x86 memory-management definitions: control registers, segments, page tables.
#define FL_IF           0x00000200

#define CR0_PE          0x00000001
#define CR0_WP          0x00010000
#define CR0_PG          0x80000000
#define CR4_PSE         0x00000010
#define CR4_MCE         0x00000040  // machine checks raise #MC (else they shut down)

// Segment selectors' indices in the GDT.
#define SEG_KCODE 1
#define SEG_KDATA 2
#define SEG_UCODE 3
#define SEG_UDATA 4
#define SEG_TSS   5
#define NSEGS     6

#define DPL_USER  0x3

#define PGSIZE 4096
#define BIGPGSIZE 0x400000   // a 4 MiB page (PTE_PS in a directory entry)
#define PGROUNDUP(sz)  (((sz) + PGSIZE - 1) & ~(PGSIZE - 1))
#define PGROUNDDOWN(a) (((a)) & ~(PGSIZE - 1))
#define PDX(va) (((uint)(va) >> 22) & 0x3FF)
#define PTX(va) (((uint)(va) >> 12) & 0x3FF)
#define NPDENTRIES 1024
#define NPTENTRIES 1024

#define PTE_P  0x001
#define PTE_W  0x002
#define PTE_U  0x004
#define PTE_PCD 0x010   // cache disabled
#define PTE_PS 0x080
#define PTE_A   0x020   // accessed (set by the processor)
#define PTE_D   0x040   // dirty (set by the processor on a write)
#define PTE_ADDR(pte) ((uint)(pte) & ~0xFFF)
#define PTE_FLAGS(pte) ((uint)(pte) & 0xFFF)

#ifndef __ASSEMBLER__
struct segdesc {
  uint lim_15_0 : 16;
  uint base_15_0 : 16;
  uint base_23_16 : 8;
  uint type : 4;
  uint s : 1;
  uint dpl : 2;
  uint p : 1;
  uint lim_19_16 : 4;
  uint avl : 1;
  uint rsv1 : 1;
  uint db : 1;
  uint g : 1;
  uint base_31_24 : 8;
};

// A flat 4 GiB segment (limit in 4 KiB units) or a byte-granular one (the TSS).
#define SEG_FLAT(type, dpl) (struct segdesc) { 0xffff, 0, 0, type, 1, dpl, 1, 0xf, 0, 0, 1, 1, 0 }
#define SEG_BYTES(type, base, lim, dpl) (struct segdesc) \
  { (lim) & 0xffff, (uint)(base) & 0xffff, ((uint)(base) >> 16) & 0xff, type, 0, dpl, 1, \
    (uint)(lim) >> 16, 0, 0, 1, 0, (uint)(base) >> 24 }

#define STA_X 0x8
#define STA_W 0x2
#define STA_R 0x2
#define STS_T32A 0x9
#define STS_IG32 0xE   // interrupt gate: interrupts off on entry
#define STS_TG32 0xF   // trap gate: interrupts stay as they were

struct taskstate {
  uint link;
  uint esp0;
  ushort ss0, pad0;
  uint unused[22];
  ushort t, iomb;
};

// An IDT entry (an interrupt or trap gate), as two words: the handler's offset split
// around the code selector and the type, privilege and present bits (trap.c fills them).
struct gatedesc {
  uint lo;   // selector << 16 | offset bits 0-15
  uint hi;   // offset bits 16-31 << 16 | present | DPL << 13 | type << 8
};
#define GATE_PRESENT 0x8000
#endif
