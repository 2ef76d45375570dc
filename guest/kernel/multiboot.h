// What a multiboot (version 1) loader tells the kernel: the information block (only the
// fields MemV6 reads) and the entries of its memory map.
#define MB_INFO_MEMORY  0x001   // mem_lower and mem_upper are valid
#define MB_INFO_CMDLINE 0x004   // cmdline is valid
#define MB_INFO_MMAP    0x040   // mmap_length and mmap_addr are valid
#define MB_FLAGS        0       // offsets in the information block, for entry.S
#define MB_MMAP_LENGTH  44
#define MB_MMAP_ADDR    48
#define MB_ENTRY_ADDR   4       // offsets in a memory-map entry
#define MB_ENTRY_TYPE   20

// Memory-map types: usable RAM, and memvisor's mirror reserve (--mirror system), the
// half of memory where every frame pa of the native half has its twin pa + the
// reserve's start. Not a standard type: a kernel that does not know it leaves it alone.
#define MB_MEMORY_AVAILABLE 1
#define MB_MEMORY_MIRROR    0x20

#ifndef __ASSEMBLER__
struct multiboot_info {
  uint flags;
  uint mem_lower, mem_upper;
  uint boot_device, cmdline, mods_count, mods_addr;
  uint syms[4];
  uint mmap_length, mmap_addr;
};
struct multiboot_mmap_entry {
  uint size;          // of the rest of this entry
  uint addr_low, addr_high;
  uint len_low, len_high;
  uint type;
} __attribute__((packed));
#endif
