/* CRC-32, FNV-1a, Adler-32, SHA-256 and a Murmur-style mix over generated data. */
#include "corpus.h"
static unsigned char data[20000];
static u32 crc_table[256];
static void crc_init(void) {
  for (u32 i = 0; i < 256; i++) { u32 c = i; for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1; crc_table[i] = c; }
}
static u32 crc32(const unsigned char *p, int n) { u32 c = 0xffffffffu; while (n--) c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8); return c ^ 0xffffffffu; }
static u32 fnv1a(const unsigned char *p, int n) { u32 h = 2166136261u; while (n--) { h ^= *p++; h *= 16777619u; } return h; }
static u32 adler32(const unsigned char *p, int n) { u32 a = 1, b = 0; while (n--) { a = (a + *p++) % 65521; b = (b + a) % 65521; } return (b << 16) | a; }
static u32 ror(u32 x, int n) { return (x >> n) | (x << (32 - n)); }
static const u32 K[64] = {
  0x428a2f98,0x71374491,0xb5c0fbcf,0xe9b5dba5,0x3956c25b,0x59f111f1,0x923f82a4,0xab1c5ed5,0xd807aa98,0x12835b01,0x243185be,0x550c7dc3,
  0x72be5d74,0x80deb1fe,0x9bdc06a7,0xc19bf174,0xe49b69c1,0xefbe4786,0x0fc19dc6,0x240ca1cc,0x2de92c6f,0x4a7484aa,0x5cb0a9dc,0x76f988da,
  0x983e5152,0xa831c66d,0xb00327c8,0xbf597fc7,0xc6e00bf3,0xd5a79147,0x06ca6351,0x14292967,0x27b70a85,0x2e1b2138,0x4d2c6dfc,0x53380d13,
  0x650a7354,0x766a0abb,0x81c2c92e,0x92722c85,0xa2bfe8a1,0xa81a664b,0xc24b8b70,0xc76c51a3,0xd192e819,0xd6990624,0xf40e3585,0x106aa070,
  0x19a4c116,0x1e376c08,0x2748774c,0x34b0bcb5,0x391c0cb3,0x4ed8aa4a,0x5b9cca4f,0x682e6ff3,0x748f82ee,0x78a5636f,0x84c87814,0x8cc70208,
  0x90befffa,0xa4506ceb,0xbef9a3f7,0xc67178f2};
static void sha256_block(u32 *h, const unsigned char *p) {
  u32 w[64];
  for (int i = 0; i < 16; i++) w[i] = (u32)p[4*i] << 24 | (u32)p[4*i+1] << 16 | (u32)p[4*i+2] << 8 | p[4*i+3];
  for (int i = 16; i < 64; i++) {
    u32 s0 = ror(w[i-15], 7) ^ ror(w[i-15], 18) ^ (w[i-15] >> 3), s1 = ror(w[i-2], 17) ^ ror(w[i-2], 19) ^ (w[i-2] >> 10);
    w[i] = w[i-16] + s0 + w[i-7] + s1;
  }
  u32 a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int i = 0; i < 64; i++) {
    u32 t1 = hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
    u32 t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}
static void sha256(const unsigned char *p, u32 n, u32 *h) {
  static const u32 init[8] = {0x6a09e667,0xbb67ae85,0x3c6ef372,0xa54ff53a,0x510e527f,0x9b05688c,0x1f83d9ab,0x5be0cd19};
  for (int i = 0; i < 8; i++) h[i] = init[i];
  u32 i = 0;
  for (; i + 64 <= n; i += 64) sha256_block(h, p + i);
  unsigned char last[128]; u32 rest = n - i;
  for (u32 k = 0; k < 128; k++) last[k] = 0;
  for (u32 k = 0; k < rest; k++) last[k] = p[i + k];
  last[rest] = 0x80;
  u32 blocks = rest + 9 > 64 ? 2 : 1;
  u64 bits = (u64)n * 8;
  for (int k = 0; k < 8; k++) last[blocks * 64 - 1 - k] = (unsigned char)(bits >> (8 * k));
  for (u32 k = 0; k < blocks; k++) sha256_block(h, last + 64 * k);
}
static u64 mix64(u64 k) { k ^= k >> 33; k *= 0xff51afd7ed558ccdULL; k ^= k >> 33; k *= 0xc4ceb9fe1a85ec53ULL; k ^= k >> 33; return k; }
int main(void) {
  for (int i = 0; i < (int)sizeof data; i++) data[i] = (unsigned char)(lcg() >> 7);
  crc_init();
  line_hex("crc32", crc32(data, sizeof data));
  line_hex("fnv1a", fnv1a(data, sizeof data));
  line_hex("adler32", adler32(data, sizeof data));
  u32 h[8];
  sha256((const unsigned char *)"abc", 3, h);
  put("sha256(abc) "); for (int i = 0; i < 8; i++) put_hex(h[i]); put("\n");
  sha256(data, sizeof data, h);
  put("sha256(data) "); for (int i = 0; i < 8; i++) put_hex(h[i]); put("\n");
  u64 m = 0; for (u64 i = 0; i < 5000; i++) m += mix64(i * 0x9e3779b97f4a7c15ULL);
  line("mix64", m);
  return 0;
}
