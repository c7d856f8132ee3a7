// Decides whether REPL input is a complete Julia expression or needs more lines: open brackets, open blocks
// (`function` .. `end`), or an unterminated string or comment mean "keep reading". A light scanner, not a parser:
// when it is wrong the server's parser still reports a clear syntax error.

const BLOCK_OPENERS = new Set(['function', 'macro', 'module', 'baremodule', 'struct', 'begin', 'let', 'quote', 'if', 'for', 'while', 'try', 'do']);

export function isInputComplete(code: string): boolean {
  let brackets = 0;
  let blocks = 0;
  let i = 0;
  const n = code.length;
  let prev = ''; // the last significant character, to tell a char literal from the adjoint operator
  while (i < n) {
    const c = code[i];
    if (c === '#') {
      if (code[i + 1] === '=') {
        const end = skipBlockComment(code, i);
        if (end < 0) return false;
        i = end;
      } else {
        while (i < n && code[i] !== '\n') i++;
      }
      continue;
    }
    if (c === '"' || c === '`') {
      const triple = code.startsWith(c.repeat(3), i);
      const end = skipString(code, i + (triple ? 3 : 1), triple ? c.repeat(3) : c);
      if (end < 0) return false;
      i = end;
      prev = c;
      continue;
    }
    if (c === "'" && !/[\w)\]}'.!]/.test(prev)) {
      const end = skipString(code, i + 1, "'");
      if (end < 0) return false;
      i = end;
      prev = c;
      continue;
    }
    if ('([{'.includes(c)) brackets++;
    else if (')]}'.includes(c)) brackets--;
    else if (/[A-Za-z_]/.test(c)) {
      let j = i;
      while (j < n && /[\w!]/.test(code[j])) j++;
      const word = code.slice(i, j);
      // Inside brackets `end` is an index (`a[end]`) and `for`/`if` belong to comprehensions.
      const isField = prev === '.' || prev === ':';
      if (brackets === 0 && !isField) {
        if (BLOCK_OPENERS.has(word)) blocks++;
        else if (word === 'end') blocks--;
        else if ((word === 'abstract' || word === 'primitive') && /^\s+type\b/.test(code.slice(j))) blocks++;
      }
      i = j;
      prev = code[j - 1];
      continue;
    }
    if (!/\s/.test(c)) prev = c;
    i++;
  }
  return brackets <= 0 && blocks <= 0;
}

/** Index after the closing delimiter, or -1 when the string is still open. Handles `\` escapes and `$(...)`. */
function skipString(code: string, i: number, close: string): number {
  while (i < code.length) {
    if (code[i] === '\\') {
      i += 2;
      continue;
    }
    if (code.startsWith(close, i)) return i + close.length;
    if (close !== "'" && code.startsWith('$(', i)) {
      i = skipInterpolation(code, i + 2);
      if (i < 0) return -1;
      continue;
    }
    i++;
  }
  return -1;
}

/** Index after the `)` that closes `$(`, skipping strings nested inside it; -1 when still open. */
function skipInterpolation(code: string, i: number): number {
  let depth = 1;
  while (i < code.length) {
    const c = code[i];
    if (c === '"') {
      const triple = code.startsWith('"""', i);
      i = skipString(code, i + (triple ? 3 : 1), triple ? '"""' : '"');
      if (i < 0) return -1;
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
    i++;
  }
  return -1;
}

/** `#= ... =#` comments nest in Julia. */
function skipBlockComment(code: string, i: number): number {
  let depth = 0;
  while (i < code.length) {
    if (code.startsWith('#=', i)) {
      depth++;
      i += 2;
    } else if (code.startsWith('=#', i)) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return -1;
}
