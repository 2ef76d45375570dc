# The MemV6 kernel: a multiboot ELF at $(OUT)/kernel. Included by guest/Makefile.
KOBJ := $(OUT)/obj/kernel
KERNEL_C := main console uart cga kbd lapic ioapic mp kalloc vm proc trap mce syscall \
            sysproc sysfile file pipe exec fs log bio ide string
KERNEL_S := swtch trapentry initblob
# entry.o first: the multiboot header must lie in the first 8 KiB of the file.
KERNEL_OBJS := $(KOBJ)/entry.o $(addprefix $(KOBJ)/,$(addsuffix .o,$(KERNEL_C) $(KERNEL_S)))
KERNEL_HEADERS := $(wildcard kernel/*.h include/*.h)
KERNEL_CFLAGS := $(CFLAGS) -Ikernel -mno-sse -mno-mmx -mno-80387 -fno-tree-loop-distribute-patterns

all: kernel
kernel: $(OUT)/kernel $(OUT)/kernel-system $(OUT)/kernel-mirrorbug

# Linked with its relocations (-q) so that it can be translated: kernel-system is the same
# kernel with every store mirrored at +0x40000000, for --mirror system
# (docs/system-mode.md). Its mirror sequences keep scratch values on the stack: interrupts
# re-enter the kernel.
$(OUT)/kernel: $(KERNEL_OBJS) kernel/kernel.ld
	$(LD) -q -T kernel/kernel.ld -o $@ $(KERNEL_OBJS)

$(OUT)/kernel-system: $(OUT)/kernel ../dist/src/cli/main.js
	$(MEMVISOR) translate $< -o $@ --scratch stack

# The negative control for the mirroring tests (test/guest/mirror.test.ts), never booted
# otherwise: vm.c built with MIRRORBUG_READ, so that copyout leaves the twins alone
# during read() and the divergence check has something to find.
MIRRORBUG_OBJS := $(filter-out $(KOBJ)/vm.o,$(KERNEL_OBJS)) $(KOBJ)/vm-mirrorbug.o

$(OUT)/kernel-mirrorbug: $(MIRRORBUG_OBJS) kernel/kernel.ld
	$(LD) -T kernel/kernel.ld -o $@ $(MIRRORBUG_OBJS)

$(KOBJ)/vm-mirrorbug.o: kernel/vm.c $(KERNEL_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(KERNEL_CFLAGS) -DMIRRORBUG_READ -c -o $@ $<

$(KOBJ)/%.o: kernel/%.c $(KERNEL_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(KERNEL_CFLAGS) -c -o $@ $<

$(KOBJ)/%.o: kernel/%.S $(KERNEL_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ASFLAGS) -Ikernel -c -o $@ $<

$(KOBJ)/initblob.o: kernel/initblob.S $(KOBJ)/initcode.bin
	$(CC) $(ASFLAGS) -Wa,-I$(KOBJ) -c -o $@ $<

$(KOBJ)/initcode.bin: kernel/initcode.S include/syscall.h
	@mkdir -p $(@D)
	$(CC) $(ASFLAGS) -c -o $(KOBJ)/initcode.o $<
	$(LD) -N -e start -Ttext 0 -o $(KOBJ)/initcode.elf $(KOBJ)/initcode.o
	$(OBJCOPY) -S -O binary $(KOBJ)/initcode.elf $@
