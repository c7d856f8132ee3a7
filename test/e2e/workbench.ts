// Drives code-server's workbench in headless Chromium (playwright-core, Debian's /usr/bin/chromium) the way a user
// does (command palette, keyboard), and reads what the user sees: status bar, notifications, the REPL terminal.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const STATUS_ITEM = '#jlcache\\.julia-compiled-cache\\.juliaCache\\.status';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run',
];

export class Workbench {
  private shots = 0;

  private constructor(
    private readonly browser: Browser,
    readonly page: Page,
    private readonly artifacts: string,
  ) {}

  static async open(url: string, artifacts: string): Promise<Workbench> {
    mkdirSync(artifacts, { recursive: true });
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(url);
    await page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
    return new Workbench(browser, page, artifacts);
  }

  /** Saves a numbered screenshot of the whole workbench into the artifacts directory. */
  async screenshot(step: string): Promise<string> {
    const file = join(this.artifacts, `${String(++this.shots).padStart(2, '0')}-${step}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  async runCommand(title: string): Promise<void> {
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: 10_000 });
    await input.fill(`>${title}`);
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    await row.waitFor({ timeout: 10_000 });
    await this.page.keyboard.press('Enter');
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
  }

  /** Opens the Julia REPL terminal and gives it keyboard focus (typing before xterm has focus goes elsewhere). */
  async focusRepl(): Promise<void> {
    await this.runCommand('Julia: Open REPL');
    await this.page.locator('.terminal-wrapper.active .xterm').click();
    await this.page.locator('.terminal-wrapper.active .xterm.focus').waitFor({ timeout: 10_000 });
  }

  /** Types a line into the focused terminal and presses Enter. */
  async typeLine(line: string): Promise<void> {
    await this.page.keyboard.type(line);
    await this.page.keyboard.press('Enter');
  }

  /** Opens a workspace file through Quick Open and waits until its editor has focus. */
  async openFile(name: string): Promise<void> {
    await this.page.keyboard.press('Control+P');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: 10_000 });
    await input.fill(name);
    await this.page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 10_000 });
    await this.page.keyboard.press('Enter');
    await this.page.locator('.tab.active', { hasText: name }).waitFor({ timeout: 10_000 });
    await this.page.locator('.editor-instance .monaco-editor.focused').waitFor({ timeout: 10_000 });
  }

  /** Puts the cursor at the start of a 1-based line in the active editor (Go to Line). */
  /** Text of the code lenses the active editor shows (one line per lens). */
  async codeLensText(): Promise<string> {
    return (await this.page.locator('.editor-instance .monaco-editor .codelens-decoration').allInnerTexts()).join('\n');
  }

  async waitForCodeLens(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    return this.waitFor(() => this.codeLensText(), pattern, timeoutMs, 'code lens');
  }

  async goToLine(line: number): Promise<void> {
    await this.page.keyboard.press('Control+G');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: 10_000 });
    await input.fill(`:${line}`);
    await this.page.keyboard.press('Enter');
    await this.page.locator('.editor-instance .monaco-editor.focused').waitFor({ timeout: 10_000 });
  }

  /** The 1-based line of the cursor in the active editor, from the status bar's "Ln N, Col M". */
  async cursorLine(): Promise<number> {
    const text = await this.page.locator('#status\\.editor\\.selection').innerText();
    return Number(/Ln (\d+)/.exec(text)?.[1] ?? NaN);
  }

  async statusText(): Promise<string> {
    return (await this.page.locator(STATUS_ITEM).innerText()).trim();
  }

  async waitForStatus(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    return this.waitFor(() => this.statusText(), pattern, timeoutMs, 'status bar');
  }

  /** The status bar item's tooltip (hover text) as VS Code exposes it to screen readers. */
  async statusTooltip(): Promise<string> {
    return (await this.page.locator(STATUS_ITEM).getAttribute('aria-label')) ?? '';
  }

  /** Waits until the status bar reports an evaluation whose first line starts with `code` (its tooltip names the
   * last evaluation) and returns the status text then, which holds that evaluation's latency. */
  async waitForEvaluation(code: string, timeoutMs = 120_000): Promise<string> {
    await this.waitFor(() => this.statusTooltip(), new RegExp(`Last evaluation\\*\\*: \`${escapeRegExp(code)}`), timeoutMs, 'status tooltip');
    return this.statusText();
  }

  /** Visible text of the terminal panel (the DOM renderer keeps one element per row). */
  async terminalText(): Promise<string> {
    const rows = this.page.locator('.terminal-wrapper.active .xterm-rows > div');
    return (await rows.allInnerTexts()).map((r) => r.replace(/\u00a0/g, ' ').trimEnd()).join('\n');
  }

  async waitForTerminal(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    return this.waitFor(() => this.terminalText(), pattern, timeoutMs, 'terminal');
  }

  /** Text of all visible notification toasts. */
  async notifications(): Promise<string> {
    return (await this.page.locator('.notification-toast').allInnerTexts()).join('\n---\n');
  }

  async waitForNotification(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    return this.waitFor(() => this.notifications(), pattern, timeoutMs, 'notification');
  }

  async clearNotifications(): Promise<void> {
    await this.runCommand('Notifications: Clear All Notifications');
  }

  async close(): Promise<void> {
    await this.browser.close();
  }

  private async waitFor(read: () => Promise<string>, pattern: RegExp, timeoutMs: number, what: string): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      last = await read().catch((err: Error) => `(could not read the ${what}: ${err.message.split('\n')[0]})`);
      if (pattern.test(last)) return last;
      if (Date.now() > deadline) {
        const shot = await this.screenshot(`timeout-${what.replace(/\W+/g, '-')}`).catch(() => '');
        throw new Error(`timed out after ${timeoutMs} ms waiting for the ${what} to match ${pattern}; it shows:\n${last}\n(screenshot: ${shot})`);
      }
      await this.page.waitForTimeout(200);
    }
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
