// The Julia REPL as a VS Code pseudoterminal: a `julia> ` prompt with line editing and history, multi-line input
// while brackets or blocks are open, Ctrl+C to interrupt, and every evaluation's output, result and error
// (red). Code run from the editor goes through here too, echoed after the prompt, so the REPL shows everything
// the session ran, in order.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  EvaluateRequest, InterruptRequest, StartSessionRequest,
  type EvalError, type EvaluateResult, type OutputParams, type SessionState, type SessionStatus,
} from '../../shared/src/protocol.ts';
import { isInputComplete } from './inputComplete.ts';
import { keyText, LineEditor, parseKeys } from './lineEditor.ts';
import { errorMessage } from './languageClient.ts';

const PROMPT = '\x1b[32m\x1b[1mjulia> \x1b[0m';
const CONTINUATION = '       ';
const RED = '\x1b[31m';
const BOLD_RED = '\x1b[1m\x1b[31m';
const RESET = '\x1b[0m';
const DIM = '\x1b[90m';
const MAX_PENDING = 64 * 1024;
const ECHO_LINES = 8;
export const REPL_NAME = 'Julia REPL';

interface Job {
  code: string;
  file: string;
  line: number;
  resolve: (r: EvaluateResult | undefined) => void;
}

export class ReplTerminal implements vscode.Disposable {
  private terminal?: vscode.Terminal;
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private opened = false;
  private pending = ''; // written before the terminal opened
  private readonly editor = new LineEditor();
  private lines: string[] = []; // earlier lines of an unfinished multi-line input
  private readonly queue: Job[] = [];
  private running = false;
  private atLineStart = true; // whether the last thing written ended a line
  private promptShown = false; // whether the cursor sits on the prompt line being edited
  private replCount = 0;
  private typeAhead = ''; // keys typed while code runs, handled when it ends (like a terminal's type-ahead)
  private sessionPid?: number;
  private hadSession = false;

  constructor(
    private readonly client: LanguageClient,
    private readonly sessionState: () => SessionState,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  show(preserveFocus = false): void {
    if (!this.terminal) {
      const pty: vscode.Pseudoterminal = {
        onDidWrite: this.writeEmitter.event,
        open: () => this.onOpen(),
        close: () => this.onClose(),
        handleInput: (data) => this.onInput(data),
      };
      this.terminal = vscode.window.createTerminal({ name: REPL_NAME, pty, iconPath: new vscode.ThemeIcon('symbol-misc') });
    }
    this.terminal.show(preserveFocus);
  }

  /** Runs code from the editor: echoes it after the prompt, then its output and result, like typed input. */
  execute(code: string, file: string, line: number): Promise<EvaluateResult | undefined> {
    this.show(true);
    return new Promise((resolve) => {
      this.queue.push({ code, file, line, resolve });
      void this.drain();
    });
  }

  /** Output the session printed (`julia/output`), shown wherever the REPL is. */
  output(params: OutputParams): void {
    const text = params.stream === 'stderr' ? `${RED}${params.text}${RESET}` : params.text;
    if (this.running) this.write(text);
    else {
      // Printed between evaluations (a task, a timer): put it in place of the prompt line, then redraw the prompt.
      this.leavePrompt();
      this.write(text);
      this.redrawPrompt();
    }
  }

  dispose(): void {
    this.terminal?.dispose();
    this.writeEmitter.dispose();
  }

  private onOpen(): void {
    this.opened = true;
    this.write(`Julia session REPL (Julia Compiled Cache). Ctrl+C interrupts a running evaluation.\n\n`);
    if (this.pending) this.writeEmitter.fire(this.pending);
    this.pending = '';
    if (!this.running && this.queue.length === 0) this.redrawPrompt();
  }

  private onClose(): void {
    this.terminal = undefined;
    this.opened = false;
    this.lines = [];
    this.editor.clear();
  }

  /** Notes session changes in the scrollback, so output before and after a restart or crash is not confused. */
  sessionChanged(status: SessionStatus): void {
    if (status.state === 'idle' && status.pid && status.pid !== this.sessionPid) {
      if (this.hadSession) this.notice(`new Julia session (pid ${status.pid})`);
      this.sessionPid = status.pid;
      this.hadSession = true;
    } else if ((status.state === 'dead' || status.state === 'stopped') && this.sessionPid !== undefined) {
      const why = status.message ? `: ${status.message.split('\n')[0]}` : '';
      if (status.state === 'dead') this.notice(`the Julia session ended${why}`, RED);
      else this.notice('Julia session stopped');
      this.sessionPid = undefined;
    }
  }

  private notice(text: string, color = DIM): void {
    if (!this.running) this.leavePrompt();
    else this.endLine();
    this.write(`${color}[${text}]${RESET}\n`);
    this.redrawPrompt();
  }

  private onInput(data: string): void {
    if (this.running) {
      // Ctrl+C interrupts at once; anything else waits until the running code is done.
      if (data.includes('\x03')) this.interrupt();
      else this.typeAhead += data;
      return;
    }
    for (const key of parseKeys(data)) {
      if (key.kind === 'interrupt') {
        this.interrupt();
        continue;
      }
      if (this.running) {
        this.typeAhead += keyText(key);
        continue;
      }
      switch (key.kind) {
        case 'text': this.editor.insert(key.text); break;
        case 'backspace': this.editor.backspace(); break;
        case 'delete': this.editor.delete(); break;
        case 'left': this.editor.left(); break;
        case 'right': this.editor.right(); break;
        case 'home': this.editor.home(); break;
        case 'end': this.editor.end(); break;
        case 'up': this.editor.historyUp(); break;
        case 'down': this.editor.historyDown(); break;
        case 'clear':
          this.write('\x1b[2J\x1b[H'); // the cursor is now home: the prompt goes on the first line
          this.atLineStart = true;
          break;
        case 'enter': this.submitLine(); continue;
      }
      this.redrawPrompt();
    }
  }

  private submitLine(): void {
    const line = this.editor.take();
    this.write('\n');
    this.lines.push(line);
    const code = this.lines.join('\n');
    if (!code.trim()) {
      this.lines = [];
      this.redrawPrompt();
      return;
    }
    if (!isInputComplete(code)) {
      this.redrawPrompt();
      return;
    }
    this.lines = [];
    this.queue.push({ code, file: `REPL[${++this.replCount}]`, line: 1, resolve: () => {} });
    void this.drain();
  }

  private interrupt(): void {
    if (this.running) {
      this.write('^C');
      this.client.sendRequest(InterruptRequest.type).catch((err) => this.log.warn(`interrupt failed: ${errorMessage(err)}`));
      return;
    }
    this.write('^C\n');
    this.lines = [];
    this.editor.clear();
    this.redrawPrompt();
  }

  /** Evaluations run one at a time, in the order they were asked for. */
  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let job = this.queue.shift(); job; job = this.queue.shift()) {
        job.resolve(await this.run(job));
      }
    } finally {
      this.running = false;
      this.redrawPrompt();
      const pending = this.typeAhead;
      this.typeAhead = '';
      if (pending) this.onInput(pending);
    }
  }

  private async run(job: Job): Promise<EvaluateResult | undefined> {
    if (!job.file.startsWith('REPL[')) this.echo(job.code);
    try {
      const state = this.sessionState();
      if (state === 'stopped' || state === 'dead') await this.client.sendRequest(StartSessionRequest.type);
      const result = await this.client.sendRequest(EvaluateRequest.type, { code: job.code, file: job.file, line: job.line });
      this.showResult(result);
      return result;
    } catch (err) {
      this.endLine();
      this.write(`${BOLD_RED}ERROR:${RESET}${RED} ${errorMessage(err)}${RESET}\n\n`);
      return undefined;
    }
  }

  private echo(code: string): void {
    // Whatever the user had half-typed stays in the editor buffer and comes back with the next prompt.
    this.leavePrompt();
    // A whole file would bury its own output: show its start and say how much more ran.
    const lines = code.replace(/\n+$/, '').split('\n');
    const shown = lines.length > ECHO_LINES ? [...lines.slice(0, ECHO_LINES - 1), `${DIM}… ${lines.length - ECHO_LINES + 1} more lines${RESET}`] : lines;
    this.write(PROMPT + shown.join('\n' + CONTINUATION) + '\n');
  }

  private showResult(result: EvaluateResult): void {
    this.endLine();
    if (result.ok) {
      if (result.display !== undefined) this.write(result.display + '\n');
      this.write('\n');
    } else if (result.error) {
      this.write(formatError(result.error) + '\n');
    }
  }

  private redrawPrompt(): void {
    if (this.running || !this.opened) return;
    if (!this.promptShown) this.endLine();
    this.write(this.editor.render(this.lines.length ? CONTINUATION : PROMPT));
    this.promptShown = true;
  }

  /** Clears the prompt line being edited (so other text can take its place), or ends a partial output line. */
  private leavePrompt(): void {
    if (this.promptShown) this.write('\r\x1b[K');
    else this.endLine();
    this.atLineStart = true;
  }

  /** Starts a new line unless the cursor is already at the start of one (output may lack its last newline). */
  private endLine(): void {
    if (!this.atLineStart) this.write('\n');
  }

  private write(text: string): void {
    if (!text) return;
    this.atLineStart = text.endsWith('\n');
    this.promptShown = false;
    const data = text.replace(/\r?\n/g, '\r\n');
    if (this.opened) this.writeEmitter.fire(data);
    // Kept for when the terminal opens (or is reopened after the user closed it), bounded.
    else this.pending = (this.pending + data).slice(-MAX_PENDING);
  }
}

export function formatError(error: EvalError): string {
  const head = error.kind === 'syntax' ? 'syntax error' : error.kind === 'interrupted' ? 'interrupted' : '';
  const lines = [`${BOLD_RED}ERROR:${RESET}${RED} ${head && !error.message.toLowerCase().startsWith(head) ? `${head}: ` : ''}${error.message}${RESET}`];
  if (error.stack.length) {
    lines.push('Stacktrace:');
    error.stack.forEach((f, i) => lines.push(` [${i + 1}] ${f.func} at ${f.file}:${f.line}`));
  }
  return lines.join('\n') + '\n';
}
