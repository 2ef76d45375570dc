/* printf and strtod of doubles and long doubles, and libm: the x87 under glibc's formatting. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  static const char *inputs[] = { "0.1", "1e300", "-2.5e-310", "3.14159265358979323846", "123456789.987654321", "nan", "-inf", "0x1.8p-3" };
  double sum = 0;
  for (unsigned i = 0; i < sizeof inputs / sizeof *inputs; i++) {
    double d = strtod(inputs[i], 0);
    long double l = strtold(inputs[i], 0);
    printf("%-24s %.17g %e %a %Lg\n", inputs[i], d, d, d, l);
    if (isfinite(d)) sum += d;
  }
  printf("sum %.17g\n", sum);
  for (int i = -3; i <= 12; i++) {
    double x = i * 0.75 + 0.125;
    printf("%6.3f sqrt %.17g floor %g ceil %g rint %g fmod %.17g\n", x, sqrt(fabs(x)), floor(x), ceil(x), rint(x), fmod(x, 0.7));
    printf("       sin %.17g cos %.17g atan2 %.17g\n", sin(x), cos(x), atan2(x, 1.5));
    printf("       exp %.17g log %.17g pow %.17g\n", exp(x), log(fabs(x) + 1), pow(fabs(x), 1.7));
  }
  long double acc = 1;
  for (int i = 1; i <= 30; i++) acc = acc * i / (i + 0.5L);
  printf("product %.21Lg %La\n", acc, acc);
  float f = 1.0f / 3;
  printf("float %.9g %a int %d %lld\n", f, f, (int)(f * 1e6), (long long)(acc * 1e15));
  return 0;
}
