# MemV6 user space: the C library and the programs that go into fs.img.
# Included by guest/Makefile (paths are relative to guest/).
#
# Each program is one C file, linked at address 0 with the library. Symbols and
# relocations are kept (--emit-relocs): the binary translator needs them.
# xv6compat is the exception: it is built the way xv6 builds its programs (its own
# stubs and declarations, no MemV6 headers or library, no --emit-relocs), to show that
# a program made with xv6's conventions runs unchanged. It lands in $(OUT)/xv6/, not
# $(OUT)/user/: without relocations it cannot be translated, and everything in
# $(OUT)/user/ is meant to be. It still goes into fs.img (as /xv6compat).

USER_NAMES := init sh cat echo grep kill ln ls mkdir rm wc \
              stressfs forktest zombie usertests mstat spin
USER_LIB := usys ulib printf malloc

USER_OBJ := $(OUT)/obj/user
USER_LIB_OBJS := $(addprefix $(USER_OBJ)/,$(addsuffix .o,$(USER_LIB)))
USER_PROGRAMS := $(addprefix $(OUT)/user/,$(USER_NAMES)) $(OUT)/xv6/xv6compat

# gcc may turn a byte loop into a call to memset or memcpy, which inside ulib.c
# itself would recurse forever; keep loops as written.
USER_CFLAGS := $(CFLAGS) -fno-tree-loop-distribute-patterns
USER_HEADERS := user/user.h $(wildcard include/*.h)

user: $(USER_PROGRAMS)

$(USER_OBJ)/%.o: user/%.c $(USER_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -c -o $@ $<

$(USER_OBJ)/%.o: user/%.S include/syscall.h
	@mkdir -p $(@D)
	$(CC) $(ASFLAGS) -c -o $@ $<

$(OUT)/user/%: $(USER_OBJ)/%.o $(USER_LIB_OBJS)
	@mkdir -p $(@D)
	$(LD) -N -e main -Ttext 0 --emit-relocs --no-warn-rwx-segments -o $@ $^

XV6COMPAT_OBJS := $(USER_OBJ)/xv6compat/xv6compat.o $(USER_OBJ)/xv6compat/syscalls.o

$(USER_OBJ)/xv6compat/%.o: user/xv6compat/%.c
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -c -o $@ $<

$(USER_OBJ)/xv6compat/%.o: user/xv6compat/%.S
	@mkdir -p $(@D)
	$(CC) $(ASFLAGS) -c -o $@ $<

$(OUT)/xv6/xv6compat: $(XV6COMPAT_OBJS)
	@mkdir -p $(@D)
	$(LD) -N -e main -Ttext 0 --no-warn-rwx-segments -o $@ $^

# Keep the objects (they are intermediates of a pattern chain).
.SECONDARY: $(USER_LIB_OBJS) $(XV6COMPAT_OBJS) \
            $(addprefix $(USER_OBJ)/,$(addsuffix .o,$(USER_NAMES)))
