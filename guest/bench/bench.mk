# The benchmark program (a static i386 Linux ELF, not a MemV6 program): build/guest/bench/mips
BENCH_CFLAGS := -m32 -O2 -fno-pic -fno-pie -static -nostdlib -fno-builtin -fno-stack-protector -fcf-protection=none \
                -fno-asynchronous-unwind-tables -no-pie -Wl,--build-id=none -Wl,-z,noexecstack
all: bench
bench: $(OUT)/bench/mips
$(OUT)/bench/mips: bench/mips.c bench/start.S
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ bench/start.S bench/mips.c -lgcc
.PHONY: bench

# The C corpus (test/corpus) at every optimisation level, linked with relocations so the
# translator can rewrite it: build/guest/corpus/NAME-LEVEL, for `memvisor bench sbt`.
CORPUS_NAMES := arith hashing recursion sorting strings
CORPUS_LEVELS := O0 O1 O2 O3 Os
CORPUS_PROGRAMS := $(foreach n,$(CORPUS_NAMES),$(foreach l,$(CORPUS_LEVELS),$(OUT)/corpus/$(n)-$(l)))
all: corpus
corpus: $(CORPUS_PROGRAMS)
$(OUT)/corpus/%: bench/start.S ../test/corpus/corpus.h $(wildcard ../test/corpus/*.c)
	@mkdir -p $(dir $@)
	$(CC) $(subst -O2,-$(lastword $(subst -, ,$*)),$(BENCH_CFLAGS)) -Wl,-q -Wl,-N -Wl,--no-warn-rwx-segments \
	  -o $@ bench/start.S ../test/corpus/$(firstword $(subst -, ,$*)).c -lgcc
.PHONY: corpus
