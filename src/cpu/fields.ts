/**
 * How fields that hold any 32-bit value (an address, an EIP, a flag operand) are started.
 *
 * V8 gives a field the representation of the first value stored in it (a small integer, a
 * double, a pointer) and widens it later if it must, which deprecates the object's map and
 * throws away the code optimised for it. Where small integers are 31 bits wide (pointer
 * compression, as in every browser's V8) an address at or above 1 GiB is not one, so a
 * field that starts at 0 is widened the first time a kernel address lands in it: the
 * CPU's fields did so 12 times in the page's first seconds, each time sending the
 * optimised interpreter and dispatcher back to the slower tiers (usertests in the page
 * 3.06-3.19 s against 2.84-2.97 s when they start as doubles). In Node, whose V8 keeps
 * 32-bit small integers, the same addresses are small integers, and fields that are
 * doubles from the start cost 5% (usertests' first run 2.84 against 2.69 s).
 *
 * 2^30 is the one value that settles both: the smallest that is not a small integer in a
 * browser, and a small integer in Node. A field is first set to it, then to its real start
 * value; each engine then keeps the representation it begins with.
 */
export const ANY_INT32 = 2 ** 30;
