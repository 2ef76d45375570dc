// Address layout (see DESIGN: user 0-1 GiB, user mirror 1-2 GiB, kernel from 2 GiB, its
// mirror map from 3 GiB).
#define KERNBASE   0x80000000          // kernel virtual = physical + KERNBASE
#define KERNLINK   (KERNBASE + 0x100000) // where the kernel is linked
#define USERTOP    0x40000000          // user memory ends here; mirrors live above
#define MIRROR_OFFSET 0x40000000       // a mirrored page at va has its twin at va + this
#define PHYSMAX    0x30000000          // direct-map at most 768 MiB of RAM
#define DEVSPACE   0xFE000000          // IOAPIC, LAPIC: mapped 1:1
#define KMIRROR    (KERNBASE + MIRROR_OFFSET) // the kernel's mirror map: the twin of the direct map

#ifndef __ASSEMBLER__
#define V2P(a) (((uint)(a)) - KERNBASE)
#define P2V(a) ((void *)(((char *)(a)) + KERNBASE))
#endif
#define V2P_WO(x) ((x) - KERNBASE)
