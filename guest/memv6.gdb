# MemV6 in gdb. From the repository root, with the guest waiting for a debugger:
#
#   npx memvisor run -s -S                   (or: qemu-system-i386 ... -s -S)
#   gdb -x guest/memv6.gdb
#
# Kernel symbols and sources come from build/guest/kernel (built with -ggdb). A user
# program's symbols are added with `memv6-user NAME`: the translated build/guest/mirrored/NAME
# (what fs-mirrored.img runs; its debug information was moved with its code by the
# translator, so source lines, locals and backtraces work there too), or the original with
# `memv6-plain NAME` (fs.img, and the plain* copies). Both halves share one address space
# view in gdb: the kernel above 0x80000000, the running process below.

set pagination off
set confirm off
file build/guest/kernel
set $memv6_mirror_offset = 0x40000000

define memv6-connect
  if $argc == 0
    target remote localhost:1234
  else
    target remote localhost:$arg0
  end
end
document memv6-connect
memv6-connect [PORT]: attach to memvisor run -s -S (or QEMU's -s -S) on localhost, port 1234 by default.
end

define memv6-proc
  if cpu0.proc == 0
    printf "no process: the scheduler runs\n"
  else
    printf "pid %d (%s), state %d, %u bytes", cpu0.proc->pid, cpu0.proc->name, cpu0.proc->state, cpu0.proc->sz
    if cpu0.proc->mirrored
      printf ", mirrored\n"
    else
      printf ", not mirrored\n"
    end
  end
end
document memv6-proc
memv6-proc: the running process (cpu0.proc): pid, name, state, size, whether its pages have twins.
end

define memv6-user
  add-symbol-file build/guest/mirrored/$arg0
end
document memv6-user
memv6-user NAME: add the symbols of the translated program NAME (build/guest/mirrored/NAME).
end

define memv6-plain
  add-symbol-file build/guest/user/$arg0
end
document memv6-plain
memv6-plain NAME: add the symbols of the untranslated program NAME (build/guest/user/NAME).
end

define memv6-exec
  tbreak exec if $_streq(path, "$arg0")
  continue
end
document memv6-exec
memv6-exec NAME: run until the kernel's exec() starts loading the program NAME.
end

python
import re

MIRROR_OFFSET = 0x40000000

class Mwatch(gdb.Command):
    """mwatch LVALUE: watch writes to a variable of a mirrored process and to its twin (at + 0x40000000):
translated code stores to both, so each store stops twice."""

    def __init__(self):
        super().__init__("mwatch", gdb.COMMAND_BREAKPOINTS)

    def invoke(self, argument, from_tty):
        value = gdb.parse_and_eval(argument)
        address = int(value.address) & 0xffffffff
        gdb.execute("watch %s" % argument)
        gdb.execute("watch *(%s *) 0x%x" % (value.type, address + MIRROR_OFFSET))

Mwatch()

class Memv6Poison(gdb.Command):
    """memv6-poison LVALUE: the frame that holds LVALUE loses its data now (monitor inject poison at
its guest-physical address, found with monitor mirror); the next read of it is a machine check
the monitor repairs from the twin, if there is one."""

    def __init__(self):
        super().__init__("memv6-poison", gdb.COMMAND_USER)

    def invoke(self, argument, from_tty):
        address = int(gdb.parse_and_eval("&(%s)" % argument)) & 0xffffffff
        view = gdb.execute("monitor mirror 0x%x 1" % address, to_string=True)
        found = re.search(r"guest-physical (0x[0-9a-f]+)", view)
        if not found:
            raise gdb.GdbError(view.strip())
        gdb.execute("monitor inject poison:addr=%s" % found.group(1))

Memv6Poison()
end
