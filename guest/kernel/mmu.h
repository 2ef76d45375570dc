// x86 memory-management definitions: control registers, segments, page tables.
#define FL_IF           0x00000200

#define CR0_PE          0x00000001
#define CR0_WP          0x00010000
#define CR0_PG          0x80000000
#define CR4_PSE         0x00000010
#define CR4_MCE         0x00000040  // machine checks raise #MC (else they shut down)
#define CR4_PGE         0x00000080  // global pages: a CR3 load keeps their TLB entries

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
#define PTE_G  0x100   // global: the same in every address space (the kernel's half)
#define PTE_A   0x020   // accessed (set by the processor)
#define PTE_D   0x040   // dirty (set by the processor on a write)
#define PTE_COW 0x200   // (a bit for the system) copy-on-write: writable once copied
#define PTE_ZERO 0x400  // (a bit for the system) known zero: a mirrored page, read-only, never
                        // written, whose twin is made at its first write (vm.c)
#define PTE_IMAGE 0x800 // (a bit for the system) a program-image page: not present, to be read
                        // from the program file at its first touch; present, holding the
                        // file's bytes unchanged, read-only (PTE_COW) until written (vm.c)
#define PTE_ADDR(pte) ((uint)(pte) & ~0xFFF)
#define PTE_FLAGS(pte) ((uint)(pte) & 0xFFF)

#ifndef __ASSEMBLER__
// Segment types: code and data (with SEG_CODEDATA), then system types.
#define STA_X 0x8      // executable
#define STA_W 0x2      // data: writable
#define STA_R 0x2      // code: readable
#define STS_T32A 0x9   // an available 32-bit TSS
#define STS_IG32 0xE   // interrupt gate: interrupts off on entry
#define STS_TG32 0xF   // trap gate: interrupts stay as they were

// A segment descriptor, as the two words the processor reads from the GDT.
struct segdesc {
  uint lo;   // base bits 0-15 << 16 | limit bits 0-15
  uint hi;   // base 24-31 << 24 | flags << 20 | limit 16-19 << 16 | access << 8 | base 16-23
};
// The access byte: present, privilege (DPL << 5), code/data or system, and the type.
#define SEG_PRESENT  0x80
#define SEG_CODEDATA 0x10   // not a system segment (a TSS is one)
// The flags.
#define SEGF_32BIT   0x4    // 32-bit operands and addresses (D/B)
#define SEGF_PAGES   0x8    // the limit counts 4 KiB pages, not bytes (G)

static inline struct segdesc
segment(uint base, uint limit, uint access, uint flags)
{
  struct segdesc d;
  d.lo = (base & 0xFFFF) << 16 | (limit & 0xFFFF);
  d.hi = (base & 0xFF000000) | flags << 20 | (limit & 0xF0000) | access << 8 | ((base >> 16) & 0xFF);
  return d;
}

// A code or data segment covering all 4 GiB from 0, and the task state segment.
#define SEG_FLAT(type, dpl) segment(0, 0xFFFFF, SEG_PRESENT | SEG_CODEDATA | (dpl) << 5 | (type), SEGF_32BIT | SEGF_PAGES)
#define SEG_TASK(ts) segment((uint)(ts), sizeof(*(ts)) - 1, SEG_PRESENT | STS_T32A, SEGF_32BIT)

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
