/* Quicksort, merge sort, heap sort and insertion sort on the same data; checksums of each. */
#include "corpus.h"
#define N 3000
static int a[N], b[N], tmp[N];
static void swap(int *x, int *y) { int t = *x; *x = *y; *y = t; }
static void quicksort(int *v, int lo, int hi) {
  while (lo < hi) {
    int p = v[(lo + hi) / 2], i = lo, j = hi;
    while (i <= j) { while (v[i] < p) i++; while (v[j] > p) j--; if (i <= j) { swap(&v[i], &v[j]); i++; j--; } }
    if (j - lo < hi - i) { quicksort(v, lo, j); lo = i; } else { quicksort(v, i, hi); hi = j; }
  }
}
static void merge_sort(int *v, int n) {
  for (int width = 1; width < n; width *= 2)
    for (int lo = 0; lo < n; lo += 2 * width) {
      int mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n, i = lo, j = mid, k = lo;
      while (i < mid && j < hi) tmp[k++] = v[i] <= v[j] ? v[i++] : v[j++];
      while (i < mid) tmp[k++] = v[i++];
      while (j < hi) tmp[k++] = v[j++];
      for (k = lo; k < hi; k++) v[k] = tmp[k];
    }
}
static void sift(int *v, int start, int end) {
  int root = start;
  while (2 * root + 1 <= end) {
    int child = 2 * root + 1, s = root;
    if (v[s] < v[child]) s = child;
    if (child + 1 <= end && v[s] < v[child + 1]) s = child + 1;
    if (s == root) return;
    swap(&v[root], &v[s]); root = s;
  }
}
static void heap_sort(int *v, int n) {
  for (int start = (n - 2) / 2; start >= 0; start--) sift(v, start, n - 1);
  for (int end = n - 1; end > 0; end--) { swap(&v[end], &v[0]); sift(v, 0, end - 1); }
}
static void insertion_sort(short *v, int n) {
  for (int i = 1; i < n; i++) { short key = v[i]; int j = i - 1; while (j >= 0 && v[j] > key) { v[j + 1] = v[j]; j--; } v[j + 1] = key; }
}
static u32 checksum(const int *v, int n) { u32 h = 2166136261u; for (int i = 0; i < n; i++) h = (h ^ (u32)v[i]) * 16777619u; return h; }
static int sorted(const int *v, int n) { for (int i = 1; i < n; i++) if (v[i - 1] > v[i]) return 0; return 1; }
static short shorts[500];
int main(void) {
  for (int i = 0; i < N; i++) a[i] = (int)(lcg() % 100000) - 50000;
  for (int i = 0; i < N; i++) b[i] = a[i];
  quicksort(b, 0, N - 1); line_hex("quicksort", checksum(b, N)); line("sorted", sorted(b, N));
  for (int i = 0; i < N; i++) b[i] = a[i];
  merge_sort(b, N); line_hex("mergesort", checksum(b, N)); line("sorted", sorted(b, N));
  for (int i = 0; i < N; i++) b[i] = a[i];
  heap_sort(b, N); line_hex("heapsort", checksum(b, N)); line("sorted", sorted(b, N));
  for (int i = 0; i < 500; i++) shorts[i] = (short)(lcg() & 0xffff);
  insertion_sort(shorts, 500);
  u32 h = 0; for (int i = 0; i < 500; i++) h = h * 31 + (u32)(unsigned short)shorts[i];
  line_hex("insertion", h);
  line("median", (u64)(b[N / 2] + 50000));
  return 0;
}
