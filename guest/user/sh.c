// sh: the MemV6 shell.
//
//   cmd args...          run a program (looked up as given, then in /)
//   a | b                pipe a's output into b
//   cmd < in > out       redirect input / output (>> appends)
//   a ; b                run a, then b
//   a & b                start a in the background, go on with b at once
//   ( a ; b ) > out      group commands (redirections apply to the whole group)
//   cd DIR               built in: change the shell's own directory
//   'x y' "x y"          quotes keep spaces inside one argument
//
// A line is split into tokens, parsed into a small tree of `node`s, and the tree is
// run in a child process, so nothing the command does (redirections, pipes) can
// disturb the shell itself.
#include "types.h"
#include "stat.h"
#include "fcntl.h"
#include "user.h"

#define LINE_MAX   512
#define MAX_TOKENS 128
#define MAX_NODES  64
#define MAX_ARGS   32
#define MAX_REDIRS 4

// ---- tokens ---------------------------------------------------------------

enum { WORD, PIPE_BAR, IN, OUT, APPEND, AMP, SEMI, OPEN_PAREN, CLOSE_PAREN, END };

struct token {
  int kind;
  char *word;   // for WORD: a NUL-terminated copy in word_space
};

static struct token tokens[MAX_TOKENS + 1];
static int ntokens, next_token;
static char word_space[2 * LINE_MAX];

static int
is_blank(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v';
}

static int
operator_kind(const char *p, int *length)
{
  *length = 1;
  switch(*p){
  case '|': return PIPE_BAR;
  case '<': return IN;
  case '&': return AMP;
  case ';': return SEMI;
  case '(': return OPEN_PAREN;
  case ')': return CLOSE_PAREN;
  case '>':
    if(p[1] == '>'){
      *length = 2;
      return APPEND;
    }
    return OUT;
  }
  return -1;
}

// Splits line into tokens; returns -1 (after a message) on an unfinished quote or
// too many tokens.
static int
tokenize(const char *p)
{
  char *w = word_space;
  int kind, length;

  ntokens = next_token = 0;
  for(;;){
    while(is_blank(*p))
      p++;
    if(*p == 0 || *p == '#')
      break;
    if(ntokens == MAX_TOKENS){
      printf(2, "sh: line too long\n");
      return -1;
    }
    kind = operator_kind(p, &length);
    if(kind >= 0){
      tokens[ntokens].kind = kind;
      tokens[ntokens++].word = 0;
      p += length;
      continue;
    }
    tokens[ntokens].kind = WORD;
    tokens[ntokens++].word = w;
    while(*p && !is_blank(*p) && operator_kind(p, &length) < 0){
      if(*p == '\'' || *p == '"'){
        char quote = *p++;
        while(*p && *p != quote)
          *w++ = *p++;
        if(*p != quote){
          printf(2, "sh: missing %c\n", quote);
          return -1;
        }
        p++;
      } else {
        *w++ = *p++;
      }
    }
    *w++ = 0;
  }
  tokens[ntokens].kind = END;
  return 0;
}

static int
peek(void)
{
  return tokens[next_token].kind;
}

static struct token*
take(void)
{
  struct token *t = &tokens[next_token];
  if(t->kind != END)
    next_token++;
  return t;
}

// ---- the command tree ----------------------------------------------------

enum { RUN, GROUP, PIPELINE, THEN, BACKGROUND };

struct redirect {
  int fd;        // 0 or 1
  int mode;      // open() flags
  int append;    // start writing at the end of the file
  char *file;
};

struct node {
  int type;
  char *argv[MAX_ARGS + 1];              // RUN
  struct redirect redirs[MAX_REDIRS];    // RUN, GROUP
  int nredirs;
  struct node *left, *right;             // GROUP: left; others: both (right may be 0)
};

static struct node nodes[MAX_NODES];
static int nnodes;
static int syntax_error;

static struct node*
new_node(int type)
{
  struct node *n;
  if(nnodes == MAX_NODES){
    syntax_error = 1;
    printf(2, "sh: command too complex\n");
    return 0;
  }
  n = &nodes[nnodes++];
  memset(n, 0, sizeof(*n));
  n->type = type;
  return n;
}

static void
complain(const char *what)
{
  if(!syntax_error)
    printf(2, "sh: syntax error: %s\n", what);
  syntax_error = 1;
}

static int
is_redirect(int kind)
{
  return kind == IN || kind == OUT || kind == APPEND;
}

// redirect := ('<' | '>' | '>>') WORD
static void
parse_redirect(struct node *n)
{
  int kind = take()->kind;
  struct token *file = take();
  struct redirect *r;

  if(file->kind != WORD){
    complain("redirection without a file name");
    return;
  }
  if(n->nredirs == MAX_REDIRS){
    complain("too many redirections");
    return;
  }
  r = &n->redirs[n->nredirs++];
  r->file = file->word;
  r->fd = kind == IN ? 0 : 1;
  r->mode = kind == IN ? O_RDONLY : kind == OUT ? (O_WRONLY | O_CREATE) : (O_RDWR | O_CREATE);
  r->append = kind == APPEND;
}

static struct node *parse_list(void);

// command := '(' list ')' redirect* | (WORD | redirect)+
static struct node*
parse_command(void)
{
  struct node *n;
  int argc = 0;

  if(peek() == OPEN_PAREN){
    take();
    if((n = new_node(GROUP)) == 0)
      return 0;
    n->left = parse_list();
    if(take()->kind != CLOSE_PAREN)
      complain("missing )");
    while(!syntax_error && is_redirect(peek()))
      parse_redirect(n);
    return n;
  }
  if((n = new_node(RUN)) == 0)
    return 0;
  while(!syntax_error && (peek() == WORD || is_redirect(peek()))){
    if(peek() != WORD){
      parse_redirect(n);
    } else if(argc == MAX_ARGS){
      complain("too many arguments");
    } else {
      n->argv[argc++] = take()->word;
    }
  }
  if(argc == 0 && n->nredirs == 0)
    complain("missing command");
  return n;
}

// pipeline := command ('|' command)*
static struct node*
parse_pipeline(void)
{
  struct node *n = parse_command(), *p;

  if(!syntax_error && peek() == PIPE_BAR){
    take();
    if((p = new_node(PIPELINE)) == 0)
      return 0;
    p->left = n;
    p->right = parse_pipeline();
    return p;
  }
  return n;
}

// list := pipeline ((';' | '&') pipeline?)*
static struct node*
parse_list(void)
{
  struct node *first, *n;
  int kind;

  first = parse_pipeline();
  if(syntax_error)
    return 0;
  kind = peek();
  if(kind != SEMI && kind != AMP)
    return first;
  take();
  if((n = new_node(kind == SEMI ? THEN : BACKGROUND)) == 0)
    return 0;
  n->left = first;
  if(peek() != END && peek() != CLOSE_PAREN)
    n->right = parse_list();
  return n;
}

static struct node*
parse(char *line)
{
  struct node *tree;

  nnodes = 0;
  syntax_error = 0;
  if(tokenize(line) < 0)
    return 0;
  if(ntokens == 0)
    return 0;
  tree = parse_list();
  if(!syntax_error && peek() != END)
    complain("unexpected symbol");
  return syntax_error ? 0 : tree;
}

// ---- running the tree (always in a child process) -----------------------

static int
fork_or_die(void)
{
  int pid = fork();
  if(pid < 0){
    printf(2, "sh: fork failed\n");
    exit();
  }
  return pid;
}

static void
wait_for(int pid)
{
  int w;
  while((w = wait()) >= 0 && w != pid)
    ;
}

static void
skip_to_end(int fd)
{
  static char scratch[512];
  while(read(fd, scratch, sizeof(scratch)) > 0)
    ;
}

static void
apply_redirects(struct node *n)
{
  int i, fd;
  for(i = 0; i < n->nredirs; i++){
    struct redirect *r = &n->redirs[i];
    if((fd = open(r->file, r->mode)) < 0){
      printf(2, "sh: cannot open %s\n", r->file);
      exit();
    }
    if(r->append)
      skip_to_end(fd);
    if(fd != r->fd){
      close(r->fd);
      dup(fd);      // lowest free descriptor: the one just closed
      close(fd);
    }
  }
}

static void
run_program(char **argv)
{
  static char in_root[LINE_MAX + 2];

  exec(argv[0], argv);
  if(strchr(argv[0], '/') == 0 && strlen(argv[0]) < LINE_MAX){
    in_root[0] = '/';
    strcpy(in_root + 1, argv[0]);
    exec(in_root, argv);
  }
  printf(2, "sh: cannot run %s\n", argv[0]);
}

static void run(struct node *n) __attribute__((noreturn));

static void
run(struct node *n)
{
  int ends[2], writer, reader;

  switch(n->type){
  case RUN:
    apply_redirects(n);
    if(n->argv[0] != 0)
      run_program(n->argv);
    break;

  case GROUP:
    apply_redirects(n);
    if(n->left)
      run(n->left);
    break;

  case PIPELINE:
    if(pipe(ends) < 0){
      printf(2, "sh: pipe failed\n");
      break;
    }
    if((writer = fork_or_die()) == 0){
      close(1);
      dup(ends[1]);
      close(ends[0]);
      close(ends[1]);
      run(n->left);
    }
    if((reader = fork_or_die()) == 0){
      close(0);
      dup(ends[0]);
      close(ends[0]);
      close(ends[1]);
      run(n->right);
    }
    close(ends[0]);
    close(ends[1]);
    wait_for(writer);
    wait_for(reader);
    break;

  case THEN:
    writer = fork_or_die();
    if(writer == 0)
      run(n->left);
    wait_for(writer);
    if(n->right)
      run(n->right);
    break;

  case BACKGROUND:
    // The background job's parent (this process) exits when the line is done, so
    // the job is adopted and eventually reaped by init.
    if(fork_or_die() == 0)
      run(n->left);
    if(n->right)
      run(n->right);
    break;
  }
  exit();
}

// ---- the interactive loop -------------------------------------------------

// Make sure fds 0, 1 and 2 exist (they are normally inherited from init).
static void
ensure_standard_fds(void)
{
  struct stat st;
  int fd;

  for(fd = 0; fd < 3; fd++){
    if(fstat(fd, &st) == 0)
      continue;
    if(open("console", O_RDWR) < 0 && open("/console", O_RDWR) < 0)
      exit();
  }
}

// `cd DIR` must run in the shell itself; returns 1 when the line was a cd.
static int
builtin_cd(struct node *tree)
{
  if(tree->type != RUN || tree->argv[0] == 0 || strcmp(tree->argv[0], "cd") != 0)
    return 0;
  if(tree->argv[1] == 0)
    printf(2, "usage: cd dir\n");
  else if(tree->argv[2] != 0)
    printf(2, "cd: too many arguments\n");
  else if(chdir(tree->argv[1]) < 0)
    printf(2, "cd: cannot cd %s\n", tree->argv[1]);
  return 1;
}

int
main(void)
{
  static char line[LINE_MAX];
  struct node *tree;
  int pid;

  ensure_standard_fds();
  for(;;){
    printf(2, "$ ");
    gets(line, sizeof(line));
    if(line[0] == 0)
      break;                      // end of input
    if((tree = parse(line)) == 0)
      continue;
    if(builtin_cd(tree))
      continue;
    pid = fork();
    if(pid < 0){
      printf(2, "sh: fork failed\n");
      continue;
    }
    if(pid == 0)
      run(tree);
    wait_for(pid);
  }
  exit();
}
