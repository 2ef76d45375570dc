// The parts of ELF32 that exec reads.
#define ELF_MAGIC 0x464C457FU  // "\x7FELF" little-endian
struct elfhdr {
  uint magic;
  uchar elf[12];
  ushort type, machine;
  uint version, entry, phoff, shoff, flags;
  ushort ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct proghdr {
  uint type, off, vaddr, paddr, filesz, memsz, flags, align;
};
#define ELF_PROG_LOAD 1
