// Finds the top-level function definitions of a Julia file and the statement each belongs to, with the same
// statement text and hash as the agent (server/julia/agent/src/statements.jl): a statement runs from its first token
// to the end of the line where it ends (a comment on that line included, `a; b` on one line is one statement),
// trimmed; a docstring on the line right above belongs to the statement it documents; hash = sha1("<module>\n" * text),
// the module being Main, or for a file evaluated by `include`, the module the include ran in.
// A small scanner, not a parser: it knows strings, comments, characters, brackets and the keywords that open a
// block closed by `end`, which is what finding statement boundaries needs.
import { createHash } from 'node:crypto';

export interface FunctionDefinition {
  /**
   * Qualified as the compile log prints it in signatures (jl_static_show: a module below Main without `Main.`):
   * `Main.f`, `M.f` (inside `module M`), `Base.show` (a method of another module's function).
   */
  name: string;
  /** False for a method added to another module's function (`Base.show`). */
  own: boolean;
  /** 0-based line of the definition (`function f` or `f(x) =`), where its lens goes. */
  line: number;
  /** Hash of the top-level statement that defines it (for functions inside a module: the module's). */
  statementHash: string;
}

export const EVAL_MODULE = 'Main';

export function statementHash(text: string, module = EVAL_MODULE): string {
  return createHash('sha1').update(`${module}\n${text}`).digest('hex');
}

interface Statement {
  start: number;
  /** End of the text (exclusive), trailing whitespace excluded. */
  end: number;
  /** Offsets where a line starts at nesting depth 1 inside this statement (for `module M ... end`). */
  innerLines: number[];
}

const BLOCK_OPENERS = new Set(['function', 'macro', 'module', 'baremodule', 'struct', 'begin', 'let', 'quote', 'do', 'try', 'while', 'for', 'if']);
const IDENT = /[A-Za-z_\u00a1-\uffff][\w!\u00a1-\uffff]*/y;
/** A line ending in one of these continues the statement on the next line (a binary operator or a comma). */
const CONTINUES = /(?:[=+\-*/\\^&|<>,%~]|->|::)$/;

/** `module`: where the file's top level runs (Main, or the module an `include` of the file ran in). */
export function findFunctions(text: string, module = EVAL_MODULE): FunctionDefinition[] {
  const out: FunctionDefinition[] = [];
  const lineOf = lineIndex(text);
  for (const st of splitTopLevel(text)) {
    const stText = text.slice(st.start, st.end);
    const hash = statementHash(stText, module);
    const head = skipDocstring(text, st.start, st.end);
    const mod = /^module\s+([A-Za-z_][\w!]*)/.exec(text.slice(head, st.end));
    if (mod) {
      for (const at of st.innerLines) {
        const d = definitionAt(text, at, st.end);
        if (d) out.push({ ...qualify(d, `${module}.${mod[1]}`), line: lineOf(at), statementHash: hash });
      }
      continue;
    }
    const d = definitionAt(text, head, st.end);
    if (d) out.push({ ...qualify(d, module), line: lineOf(head), statementHash: hash });
  }
  return out;
}

function qualify(name: string, module: string): { name: string; own: boolean } {
  return name.includes('.') ? { name, own: false } : { name: `${shownModule(module)}.${name}`, own: true };
}

/** A module as jl_static_show prints it: `Main`, and `Geo.Units` for Main.Geo.Units. */
function shownModule(module: string): string {
  return module === EVAL_MODULE ? module : module.replace(/^Main\./, '');
}

/** The function name if a definition starts at `at` (after optional macros such as @inline), else undefined. */
function definitionAt(text: string, at: number, end: number): string | undefined {
  const s = text.slice(at, end).replace(/^(?:@[A-Za-z_]\w*\s+)*/, '');
  const long = /^function\s+((?:[A-Za-z_][\w!]*\.)*[A-Za-z_\u00a1-\uffff][\w!\u00a1-\uffff]*)\s*(?:\{[^}]*\}\s*)?\(/.exec(s);
  if (long) return long[1];
  const short = /^((?:[A-Za-z_][\w!]*\.)*[A-Za-z_\u00a1-\uffff][\w!\u00a1-\uffff]*)\s*(?:\{[^}]*\}\s*)?\(/.exec(s);
  if (!short) return undefined;
  const close = matchingClose(s, short[0].length - 1);
  if (close < 0) return undefined;
  // Between the argument list and `=`: only a return type and `where` clauses (so `f(x)[1] = 2` and `f(x) == y`
  // are no definitions).
  const rest = s.slice(close + 1);
  const eq = /(?<![=<>!])=(?![=>])/.exec(rest);
  if (!eq) return undefined;
  const between = rest.slice(0, eq.index).trim();
  return between === '' || between.startsWith('::') || /^where\b/.test(between) ? short[1] : undefined;
}

/** Index of the bracket that closes the one at `open`, skipping strings and comments; -1 if none. */
function matchingClose(s: string, open: number): number {
  let depth = 0;
  for (const tok of tokens(s, open)) {
    if (tok.kind === 'open') depth++;
    else if (tok.kind === 'close' && --depth === 0) return tok.at;
  }
  return -1;
}

/** Where the code after a leading docstring starts (the docstring's statement starts at `start`). */
function skipDocstring(text: string, start: number, end: number): number {
  if (text[start] !== '"') return start;
  const after = skipString(text, start);
  const nl = text.indexOf('\n', after);
  return nl >= 0 && nl < end && /^[ \t]*$/.test(text.slice(after, nl)) ? nl + 1 : start;
}

/** Top-level statements with their exact extent. */
export function splitTopLevel(text: string): Statement[] {
  const out: Statement[] = [];
  const stack: string[] = []; // '(' '[' '{' or 'block'
  let current: Statement | undefined;
  let lineStart = 0;
  let lastTokenEnd = 0;
  let lastTokenText = '';
  let prevWord = '';
  for (const tok of tokens(text, 0)) {
    if (tok.kind === 'newline') {
      if (current && stack.length === 0 && !CONTINUES.test(lastTokenText)) {
        current.end = lastTokenEnd;
        out.push(current);
        current = undefined;
      }
      lineStart = tok.at + 1;
      continue;
    }
    if (tok.kind === 'comment') {
      lastTokenEnd = tok.end; // part of the statement's text when on its last line
      continue;
    }
    if (!current) {
      const doc = out.at(-1);
      // A docstring right above (no blank line) and the statement it documents are one statement.
      if (doc && text[doc.start] === '"' && skipString(text, doc.start) === doc.end && text.slice(doc.end, tok.at).split('\n').length === 2) {
        current = out.pop()!;
      } else {
        current = { start: tok.at, end: tok.end, innerLines: [] };
      }
    } else if (stack.length === 1 && stack[0] === 'block' && text.slice(lineStart, tok.at).trim() === '') {
      current.innerLines.push(tok.at);
    }
    const top = stack.at(-1);
    if (tok.kind === 'open') stack.push(tok.text);
    else if (tok.kind === 'close') {
      const want = { ')': '(', ']': '[', '}': '{' }[tok.text];
      while (stack.length && stack.pop() !== want);
    } else if (tok.kind === 'word') {
      const inBrackets = top !== undefined && top !== 'block';
      if (tok.text === 'end') {
        if (top === 'block') stack.pop(); // inside brackets `end` is an index
      } else if (tok.text === 'type' && (prevWord === 'abstract' || prevWord === 'primitive')) {
        stack.push('block');
      } else if (BLOCK_OPENERS.has(tok.text) && !(inBrackets && (tok.text === 'for' || tok.text === 'if' || tok.text === 'begin'))) {
        stack.push('block');
      }
      prevWord = tok.text;
    }
    lastTokenEnd = tok.end;
    lastTokenText = tok.text;
  }
  if (current) {
    current.end = lastTokenEnd;
    out.push(current);
  }
  return out;
}

interface Token {
  kind: 'word' | 'open' | 'close' | 'newline' | 'comment' | 'other';
  at: number;
  end: number;
  text: string;
}

function* tokens(text: string, from: number): Generator<Token> {
  let i = from;
  let prev = ''; // previous significant character, to tell a character literal from the transpose operator
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') {
      yield { kind: 'newline', at: i, end: i + 1, text: c };
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (c === '#') {
      i = text[i + 1] === '=' ? skipBlockComment(text, i) : lineEnd(text, i);
      yield { kind: 'comment', at: start, end: i, text: text.slice(start, i) };
      continue;
    }
    if (c === '"' || c === '`') {
      i = skipString(text, i);
      prev = '"';
      yield { kind: 'other', at: start, end: i, text: '"' };
      continue;
    }
    if (c === "'" && !/[\w)\]}'!.\u00a1-\uffff]/.test(prev)) {
      i = skipChar(text, i);
      prev = "'";
      yield { kind: 'other', at: start, end: i, text: "'" };
      continue;
    }
    IDENT.lastIndex = i;
    const word = IDENT.exec(text);
    if (word) {
      i += word[0].length;
      const quoted = prev === ':' && text[start - 1] === ':' && text[start - 2] !== ':'; // :end, :function (symbols)
      const field = prev === '.' && text[start - 1] === '.';
      prev = 'a';
      yield { kind: quoted || field ? 'other' : 'word', at: start, end: i, text: word[0] };
      continue;
    }
    i++;
    prev = c;
    const kind = '([{'.includes(c) ? 'open' : ')]}'.includes(c) ? 'close' : 'other';
    yield { kind, at: start, end: i, text: c };
  }
}

function lineEnd(text: string, i: number): number {
  const nl = text.indexOf('\n', i);
  return nl < 0 ? text.length : nl;
}

function skipBlockComment(text: string, i: number): number {
  let depth = 0;
  while (i < text.length) {
    if (text.startsWith('#=', i)) {
      depth++;
      i += 2;
    } else if (text.startsWith('=#', i)) {
      i += 2;
      if (--depth === 0) return i;
    } else i++;
  }
  return i;
}

/** End (exclusive) of the string or command literal starting at `i` ("...", """...""", `...`). */
function skipString(text: string, i: number): number {
  const q = text[i];
  const delim = text.startsWith(q.repeat(3), i) ? q.repeat(3) : q;
  i += delim.length;
  while (i < text.length) {
    if (text[i] === '\\') i += 2;
    else if (text.startsWith(delim, i)) return i + delim.length;
    else if (text.startsWith('$(', i)) i = skipInterpolation(text, i + 1);
    else i++;
  }
  return i;
}

/** `$( ... )` inside a string: may hold strings of its own. Returns the index after its `)`. */
function skipInterpolation(text: string, i: number): number {
  let depth = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      i = skipString(text, i);
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
    i++;
  }
  return i;
}

function skipChar(text: string, i: number): number {
  const close = text.indexOf("'", text[i + 1] === '\\' ? i + 3 : i + 2);
  return close < 0 || close - i > 12 ? i + 1 : close + 1;
}

/** 0-based line of an offset. */
function lineIndex(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
}
