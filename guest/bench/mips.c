/*
 * The fixed CPU-heavy program behind `memvisor bench mips`: hashing, sorting, a sieve,
 * string scanning and 64-bit arithmetic, repeated ROUNDS times (argv[1] overrides).
 * Integer only; prints a checksum so every engine can be checked to do the same work.
 */
typedef unsigned int u32;
typedef unsigned long long u64;
int sys_write(int fd, const void *buf, int n);

static u32 seed = 1;
static u32 next(void) { seed = seed * 1664525u + 1013904223u; return seed; }
static u32 ror(u32 x, int n) { return (x >> n) | (x << (32 - n)); }

static u32 crc_table[256];
static unsigned char buffer[16384];
static int values[4096], scratch[4096];
static unsigned char composite[65536];

static u32 crc(void) {
  u32 c = 0xffffffffu;
  for (u32 i = 0; i < sizeof buffer; i++) c = crc_table[(c ^ buffer[i]) & 0xff] ^ (c >> 8);
  return ~c;
}

static u32 mix(void) {
  u32 a = 0x6a09e667, b = 0xbb67ae85, c = 0x3c6ef372, d = 0xa54ff53a;
  for (u32 i = 0; i < sizeof buffer; i += 4) {
    u32 w = (u32)buffer[i] | (u32)buffer[i + 1] << 8 | (u32)buffer[i + 2] << 16 | (u32)buffer[i + 3] << 24;
    u32 t = a + (ror(b, 6) ^ ror(b, 11) ^ ror(b, 25)) + ((b & c) ^ (~b & d)) + w;
    a = d; d = c; c = b; b = t;
  }
  return a ^ b ^ c ^ d;
}

static void merge_sort(int n) {
  for (int width = 1; width < n; width *= 2)
    for (int lo = 0; lo < n; lo += 2 * width) {
      int mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n, i = lo, j = mid, k = lo;
      while (i < mid && j < hi) scratch[k++] = values[i] <= values[j] ? values[i++] : values[j++];
      while (i < mid) scratch[k++] = values[i++];
      while (j < hi) scratch[k++] = values[j++];
      for (k = lo; k < hi; k++) values[k] = scratch[k];
    }
}

static u32 sieve(void) {
  u32 count = 0;
  for (u32 i = 0; i < sizeof composite; i++) composite[i] = 0;
  for (u32 i = 2; i < sizeof composite; i++)
    if (!composite[i]) { count++; for (u32 j = i + i; j < sizeof composite; j += i) composite[j] = 1; }
  return count;
}

static u32 words(void) {
  u32 n = 0, in = 0;
  for (u32 i = 0; i < sizeof buffer; i++) { u32 space = buffer[i] < 64; if (!space && !in) n++; in = !space; }
  return n;
}

static u64 arithmetic(void) {
  u64 acc = 0;
  for (u32 i = 1; i < 2000; i++) { u64 a = (u64)next() << 16 | next(); acc += a / (i | 1) + a % 977 + (a >> (i & 31)); }
  return acc;
}

static int parse(const char *s) { int v = 0; while (*s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0'); return v; }

int main(int argc, char **argv) {
  int rounds = argc > 1 ? parse(argv[1]) : 40;
  for (u32 i = 0; i < 256; i++) { u32 c = i; for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1; crc_table[i] = c; }
  u32 check = 0;
  for (int r = 0; r < rounds; r++) {
    for (u32 i = 0; i < sizeof buffer; i++) buffer[i] = (unsigned char)(next() >> 24);
    for (int i = 0; i < 4096; i++) values[i] = (int)next();
    check = check * 31 + crc();
    check = check * 31 + mix();
    merge_sort(4096);
    check = check * 31 + (u32)values[r & 4095];
    check = check * 31 + sieve();
    check = check * 31 + words();
    check = check * 31 + (u32)arithmetic();
  }
  char out[20] = "checksum 00000000\n";
  for (int i = 0; i < 8; i++) out[9 + i] = "0123456789abcdef"[(check >> (28 - 4 * i)) & 15];
  sys_write(1, out, 18);
  return 0;
}
