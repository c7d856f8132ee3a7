// Line editing for the REPL terminal: keys decoded from the terminal's input, a buffer with a cursor, and
// history. Pure (no vscode) so it is unit-tested; replTerminal.ts does the I/O.

type SpecialKey = 'enter' | 'backspace' | 'delete' | 'left' | 'right' | 'up' | 'down' | 'home' | 'end' | 'interrupt' | 'clear';
export type Key = { kind: 'text'; text: string } | { kind: SpecialKey };

// xterm sends one of several sequences for some keys, depending on its cursor-key mode.
const SEQUENCES: [string, SpecialKey][] = [
  ['\x1b[A', 'up'], ['\x1bOA', 'up'],
  ['\x1b[B', 'down'], ['\x1bOB', 'down'],
  ['\x1b[C', 'right'], ['\x1bOC', 'right'],
  ['\x1b[D', 'left'], ['\x1bOD', 'left'],
  ['\x1b[H', 'home'], ['\x1bOH', 'home'], ['\x1b[1~', 'home'],
  ['\x1b[F', 'end'], ['\x1bOF', 'end'], ['\x1b[4~', 'end'],
  ['\x1b[3~', 'delete'],
];
const CONTROL: Record<string, SpecialKey> = {
  '\r': 'enter', '\n': 'enter', '\x7f': 'backspace', '\b': 'backspace', '\x03': 'interrupt',
  '\x01': 'home', '\x05': 'end', '\x0c': 'clear',
};

/** Splits raw terminal input (keystrokes or a paste) into keys; unknown escape sequences are dropped. */
export function parseKeys(data: string): Key[] {
  const keys: Key[] = [];
  let text = '';
  const flush = () => {
    if (text) keys.push({ kind: 'text', text });
    text = '';
  };
  let i = 0;
  while (i < data.length) {
    const c = data[i];
    if (c === '\x1b') {
      flush();
      const seq = SEQUENCES.find(([s]) => data.startsWith(s, i));
      if (seq) {
        keys.push({ kind: seq[1] });
        i += seq[0].length;
      } else {
        const m = /^\x1b(\[[0-9;]*[~A-Za-z]|O[A-Za-z]|.)?/.exec(data.slice(i));
        i += m ? m[0].length : 1;
      }
      continue;
    }
    if (c === '\r' && data[i + 1] === '\n') i++; // a pasted CRLF is one line break
    const control = CONTROL[data[i]];
    if (control) {
      flush();
      keys.push({ kind: control });
    } else if (data[i] >= ' ' || data[i] === '\t') text += data[i];
    i++;
  }
  flush();
  return keys;
}

export class LineEditor {
  private chars: string[] = []; // code points, so the cursor never splits a character
  private cursor = 0;
  private readonly history: string[] = [];
  private historyIndex = 0; // == history.length when editing a fresh line
  private draft: string[] = [];

  get text(): string {
    return this.chars.join('');
  }

  insert(text: string): void {
    const add = Array.from(text.replace(/\t/g, '    '));
    this.chars.splice(this.cursor, 0, ...add);
    this.cursor += add.length;
  }

  backspace(): void {
    if (this.cursor === 0) return;
    this.chars.splice(--this.cursor, 1);
  }

  delete(): void {
    this.chars.splice(this.cursor, 1);
  }

  left(): void {
    this.cursor = Math.max(0, this.cursor - 1);
  }

  right(): void {
    this.cursor = Math.min(this.chars.length, this.cursor + 1);
  }

  home(): void {
    this.cursor = 0;
  }

  end(): void {
    this.cursor = this.chars.length;
  }

  historyUp(): void {
    if (this.historyIndex === 0) return;
    if (this.historyIndex === this.history.length) this.draft = this.chars;
    this.show(Array.from(this.history[--this.historyIndex]));
  }

  historyDown(): void {
    if (this.historyIndex === this.history.length) return;
    this.historyIndex++;
    this.show(this.historyIndex === this.history.length ? this.draft : Array.from(this.history[this.historyIndex]));
  }

  /** Ends the line: returns its text, records it in history (once, if not blank or a repeat) and clears the buffer. */
  take(): string {
    const line = this.text;
    if (line.trim() && this.history[this.history.length - 1] !== line) this.history.push(line);
    this.historyIndex = this.history.length;
    this.clear();
    return line;
  }

  clear(): void {
    this.chars = [];
    this.cursor = 0;
    this.draft = [];
    this.historyIndex = this.history.length;
  }

  /** Escape sequence that redraws the whole input line with `prompt` and puts the terminal cursor in place. */
  render(prompt: string): string {
    const back = this.chars.length - this.cursor;
    return `\r\x1b[K${prompt}${this.text}${back > 0 ? `\x1b[${back}D` : ''}`;
  }

  private show(chars: string[]): void {
    this.chars = [...chars];
    this.cursor = this.chars.length;
  }
}

/** The raw input for a key (the first sequence that decodes to it), to queue keys and replay them later. */
export function keyText(key: Key): string {
  if (key.kind === 'text') return key.text;
  const control = Object.entries(CONTROL).find(([, k]) => k === key.kind);
  if (control) return control[0];
  return SEQUENCES.find(([, k]) => k === key.kind)?.[0] ?? '';
}
