# The benchmark program (a static i386 Linux ELF, not a MemV6 program): build/guest/bench/mips
BENCH_CFLAGS := -m32 -O2 -fno-pic -fno-pie -static -nostdlib -fno-builtin -fno-stack-protector -fcf-protection=none \
                -fno-asynchronous-unwind-tables -no-pie -Wl,--build-id=none -Wl,-z,noexecstack
all: bench
bench: $(OUT)/bench/mips
$(OUT)/bench/mips: bench/mips.c bench/start.S
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ bench/start.S bench/mips.c -lgcc
.PHONY: bench
