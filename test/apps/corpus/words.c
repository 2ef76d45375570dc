/* Reads stdin: counts lines, words and bytes, and prints the most frequent words. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct word { char *text; int count; };
static struct word words[4096];
static int nwords;

static int by_count(const void *a, const void *b) {
  const struct word *x = a, *y = b;
  return x->count != y->count ? y->count - x->count : strcmp(x->text, y->text);
}

int main(void) {
  long lines = 0, bytes = 0, total = 0;
  char word[64];
  int len = 0;
  for (int c; (c = getchar()) != EOF;) {
    bytes++;
    if (c == '\n') lines++;
    if (isalnum(c) && len < 63) { word[len++] = (char)tolower(c); continue; }
    if (len == 0) continue;
    word[len] = 0;
    len = 0;
    total++;
    int i = 0;
    while (i < nwords && strcmp(words[i].text, word)) i++;
    if (i == nwords && nwords < 4096) words[nwords++].text = strdup(word);
    if (i < nwords) words[i].count++;
  }
  qsort(words, nwords, sizeof *words, by_count);
  printf("%ld lines, %ld words, %ld bytes, %d distinct\n", lines, total, bytes, nwords);
  for (int i = 0; i < nwords && i < 10; i++) printf("%6d %s\n", words[i].count, words[i].text);
  return 0;
}
