/* The few helpers the sbt corpus programs share (no libc, no heap). */
int sys_write(int fd, const void *buf, int n);
static int str_length(const char *s) { int n = 0; while (s[n]) n++; return n; }
static void print(const char *s) { sys_write(1, s, str_length(s)); }
static void print_hex(unsigned v) {
  char b[11];
  b[0] = '0'; b[1] = 'x';
  for (int i = 0; i < 8; i++) b[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15];
  b[10] = '\n';
  sys_write(1, b, 11);
}
