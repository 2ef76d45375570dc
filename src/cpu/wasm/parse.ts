/**
 * A parser for the JavaScript the block compiler writes (compile.ts), and only for that:
 * integer expressions, typed-array element accesses, the CPU's fields and methods, helper
 * calls, `if`, labelled `for (;;)` loops, one `switch` and `break`/`continue`. The WebAssembly tier translates this tree, so that the
 * generated text stays the one description of what a region does; anything outside the
 * grammar is a ParseError, and the region then stays JavaScript.
 */

export type Expr =
  | { k: 'num'; v: number }
  | { k: 'bool'; v: boolean }
  | { k: 'id'; name: string }
  | { k: 'member'; obj: string; prop: string }
  | { k: 'index'; arr: string; index: Expr }
  | { k: 'call'; callee: Expr; args: Expr[] }
  | { k: 'unary'; op: string; e: Expr }
  | { k: 'binary'; op: string; a: Expr; b: Expr }
  | { k: 'cond'; test: Expr; yes: Expr; no: Expr }
  | { k: 'seq'; list: Expr[] }
  | { k: 'assign'; op: string; target: Expr; value: Expr }
  | { k: 'array'; items: Expr[] };

export type Stmt =
  | { k: 'decl'; decls: Array<[string, Expr]> }
  | { k: 'expr'; e: Expr }
  | { k: 'if'; test: Expr; yes: Stmt; no: Stmt | null }
  | { k: 'block'; body: Stmt[] }
  | { k: 'break'; label: string }
  | { k: 'continue'; label: string }
  | { k: 'return' }
  | { k: 'loop'; label: string; body: Stmt }
  | { k: 'switch'; disc: Expr; cases: Array<{ test: number | null; body: Stmt[] }> };

/** A block's source: the function's parameter and body. */
export interface ParsedBlock {
  param: string;
  body: Stmt[];
}

export class ParseError extends Error {}

const PUNCTUATION = ['>>>=', '>>>', '===', '!==', '<<=', '>>=', '+=', '-=', '|=', '&=', '^=', '&&', '||', '<<', '>>', '<=', '>=',
  '=', '[', ']', ',', ';', '(', ')', '{', '}', '.', ':', '?', '+', '-', '*', '/', '%', '|', '&', '^', '<', '>', '!', '~'];

/** Punctuation by first character (an ASCII code), longest first. */
const BY_FIRST: Array<readonly string[]> = Array.from({ length: 128 }, (_, ch) =>
  PUNCTUATION.filter((p) => p.charCodeAt(0) === ch).sort((a, b) => b.length - a.length));
const isLetter = (ch: number) => (ch >= 97 && ch <= 122) || (ch >= 65 && ch <= 90) || ch === 95 || ch === 36;
const isDigit = (ch: number) => ch >= 48 && ch <= 57;
/** A token (as tokenize makes them) that is a name or keyword, or a number. */
const isName = (t: string) => isLetter(t.charCodeAt(0));
const isNumber = (t: string) => isDigit(t.charCodeAt(0));

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  const n = text.length;
  outer: while (i < n) {
    const ch = text.charCodeAt(i);
    if (ch === 32 || ch === 10 || ch === 9 || ch === 13) { i++; continue; }
    if (isLetter(ch) || isDigit(ch)) {
      let j = i + 1;
      if (isLetter(ch)) while (j < n && (isLetter(text.charCodeAt(j)) || isDigit(text.charCodeAt(j)))) j++;
      else if (ch === 48 && text.charCodeAt(j) === 120) {
        // A hexadecimal literal (0xff00).
        j++;
        while (j < n && (isDigit(text.charCodeAt(j)) || isLetter(text.charCodeAt(j)))) j++;
      } else while (j < n && isDigit(text.charCodeAt(j))) j++;
      tokens.push(text.slice(i, j));
      i = j;
      continue;
    }
    const candidates = BY_FIRST[ch];
    if (candidates !== undefined) {
      for (const p of candidates) {
        if (p.length === 1 || text.startsWith(p, i)) { tokens.push(p); i += p.length; continue outer; }
      }
    }
    throw new ParseError(`unexpected character ${JSON.stringify(text[i])}`);
  }
  return tokens;
}

/** Binary operators by precedence (JavaScript's), lowest first. */
const LEVELS: string[][] = [['||'], ['&&'], ['|'], ['^'], ['&'], ['===', '!=='], ['<', '<=', '>', '>='], ['<<', '>>', '>>>'], ['+', '-'], ['*', '/', '%']];
/** Each binary operator's level in LEVELS (higher binds tighter). */
const PRECEDENCE = new Map<string, number>(LEVELS.flatMap((ops, level) => ops.map((op) => [op, level] as const)));
const ASSIGN = new Set(['=', '+=', '-=', '|=', '&=', '^=', '<<=', '>>=', '>>>=']);

class Parser {
  private at = 0;
  constructor(private readonly tokens: string[]) {}

  private peek(offset = 0): string | undefined {
    return this.tokens[this.at + offset];
  }
  private next(): string {
    const t = this.tokens[this.at++];
    if (t === undefined) throw new ParseError('unexpected end');
    return t;
  }
  private expect(t: string): void {
    const got = this.next();
    if (got !== t) throw new ParseError(`expected ${t}, found ${got}`);
  }
  private accept(t: string): boolean {
    if (this.peek() !== t) return false;
    this.at++;
    return true;
  }
  private identifier(): string {
    const t = this.next();
    if (!isName(t)) throw new ParseError(`expected a name, found ${t}`);
    return t;
  }
  get done(): boolean {
    return this.at >= this.tokens.length;
  }

  block(): ParsedBlock {
    this.expect('return');
    this.expect('(');
    this.expect('function');
    this.identifier();
    this.expect('(');
    const param = this.identifier();
    this.expect(')');
    const body = this.braced();
    this.expect(')');
    this.expect(';');
    if (!this.done) throw new ParseError(`text after the block: ${this.peek()}`);
    return { param, body };
  }

  private declarations(): Array<[string, Expr]> {
    const decls: Array<[string, Expr]> = [];
    do {
      const name = this.identifier();
      this.expect('=');
      decls.push([name, this.assignment()]);
    } while (this.accept(','));
    return decls;
  }

  private braced(): Stmt[] {
    this.expect('{');
    const body: Stmt[] = [];
    while (!this.accept('}')) body.push(this.statement());
    return body;
  }

  statement(): Stmt {
    const t = this.peek();
    if (t === '{') return { k: 'block', body: this.braced() };
    if (t === 'const' || t === 'let') {
      this.next();
      const decls = this.declarations();
      this.expect(';');
      return { k: 'decl', decls };
    }
    if (t === 'if') {
      this.next();
      this.expect('(');
      const test = this.expression();
      this.expect(')');
      const yes = this.statement();
      const no = this.accept('else') ? this.statement() : null;
      return { k: 'if', test, yes, no };
    }
    if (t === 'break' || t === 'continue') {
      this.next();
      const label = this.identifier();
      this.expect(';');
      return { k: t, label };
    }
    if (t === 'return') {
      this.next();
      this.expect(';');
      return { k: 'return' };
    }
    if (t === 'switch') return this.switchStatement();
    if (t !== undefined && this.peek(1) === ':' && isName(t)) {
      // label: for (;;) statement
      const label = this.identifier();
      this.expect(':');
      this.expect('for');
      this.expect('(');
      this.expect(';');
      this.expect(';');
      this.expect(')');
      return { k: 'loop', label, body: this.statement() };
    }
    const e = this.expression();
    this.expect(';');
    return { k: 'expr', e };
  }

  private switchStatement(): Stmt {
    this.expect('switch');
    this.expect('(');
    const disc = this.expression();
    this.expect(')');
    this.expect('{');
    const cases: Array<{ test: number | null; body: Stmt[] }> = [];
    while (!this.accept('}')) {
      let test: number | null = null;
      if (this.accept('default')) this.expect(':');
      else {
        this.expect('case');
        const e = this.unary();
        if (e.k !== 'num') throw new ParseError('a case that is not a number');
        test = e.v;
        this.expect(':');
      }
      const body: Stmt[] = [];
      while (this.peek() !== 'case' && this.peek() !== 'default' && this.peek() !== '}') body.push(this.statement());
      cases.push({ test, body });
    }
    return { k: 'switch', disc, cases };
  }

  expression(): Expr {
    const first = this.assignment();
    if (this.peek() !== ',') return first;
    const list = [first];
    while (this.accept(',')) list.push(this.assignment());
    return { k: 'seq', list };
  }

  private assignment(): Expr {
    const target = this.conditional();
    const op = this.peek();
    if (op !== undefined && ASSIGN.has(op)) {
      this.next();
      if (target.k !== 'id' && target.k !== 'member' && target.k !== 'index') throw new ParseError('assignment to an expression');
      return { k: 'assign', op, target, value: this.assignment() };
    }
    return target;
  }

  private conditional(): Expr {
    const test = this.binary(0);
    if (!this.accept('?')) return test;
    const yes = this.assignment();
    this.expect(':');
    return { k: 'cond', test, yes, no: this.assignment() };
  }

  /** Operators binding at `min` or tighter, left to right (precedence climbing over LEVELS). */
  private binary(min: number): Expr {
    let a = this.unary();
    for (;;) {
      const op = this.peek();
      const level = op === undefined ? undefined : PRECEDENCE.get(op);
      if (level === undefined || level < min) return a;
      this.next();
      a = { k: 'binary', op: op!, a, b: this.binary(level + 1) };
    }
  }

  private unary(): Expr {
    const t = this.peek();
    if (t === '!' || t === '~' || t === '-') {
      this.next();
      const e = this.unary();
      if (t === '-' && e.k === 'num') return { k: 'num', v: -e.v };
      return { k: 'unary', op: t, e };
    }
    return this.postfix();
  }

  private postfix(): Expr {
    let e = this.primary();
    for (;;) {
      if (this.accept('.')) {
        if (e.k !== 'id') throw new ParseError('a member of an expression');
        e = { k: 'member', obj: e.name, prop: this.identifier() };
      } else if (this.accept('[')) {
        if (e.k !== 'id') throw new ParseError('an index into an expression');
        e = { k: 'index', arr: e.name, index: this.expression() };
        this.expect(']');
      } else if (this.accept('(')) {
        const args: Expr[] = [];
        if (!this.accept(')')) {
          do args.push(this.assignment()); while (this.accept(','));
          this.expect(')');
        }
        e = { k: 'call', callee: e, args };
      } else return e;
    }
  }

  private primary(): Expr {
    const t = this.next();
    if (t === '(') {
      const e = this.expression();
      this.expect(')');
      return e;
    }
    if (t === '[') {
      const items: Expr[] = [];
      if (!this.accept(']')) {
        do items.push(this.assignment()); while (this.accept(','));
        this.expect(']');
      }
      return { k: 'array', items };
    }
    if (isNumber(t)) {
      const v = Number(t);
      if (Number.isNaN(v)) throw new ParseError(`not a number: ${t}`);
      if (v > 0xffffffff) throw new ParseError(`a number beyond 32 bits: ${t}`);
      return { k: 'num', v };
    }
    if (t === 'true' || t === 'false') return { k: 'bool', v: t === 'true' };
    if (isName(t)) return { k: 'id', name: t };
    throw new ParseError(`unexpected ${t}`);
  }
}

/** Parses a block's source as compile.ts writes it. */
export function parseBlock(source: string): ParsedBlock {
  return new Parser(tokenize(source)).block();
}
