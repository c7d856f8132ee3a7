// The latency indicator: session state, the last evaluation's latency and its compile share, what the cache
// saved, and the cache state. Clicking it opens the REPL.
import * as vscode from 'vscode';
import type { CacheStatus, EvaluationFinishedParams, SessionStatus } from '../../shared/src/protocol.ts';
import { formatBytes, formatMs } from './format.ts';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('juliaCache.status', vscode.StatusBarAlignment.Left, 100);
  private status: SessionStatus = { state: 'stopped', cache: { state: 'none', methods: 0, bytes: 0 } };
  private last?: EvaluationFinishedParams;

  constructor(openCommand: string) {
    this.item.name = 'Julia Session';
    this.item.command = openCommand;
    this.render();
    this.item.show();
  }

  setStatus(status: SessionStatus): void {
    // A new session (other pid) makes the last evaluation's numbers meaningless.
    if (status.pid !== this.status.pid) this.last = undefined;
    this.status = status;
    this.render();
  }

  evaluationFinished(params: EvaluationFinishedParams): void {
    this.last = params;
    this.render();
  }

  dispose(): void {
    this.item.dispose();
  }

  private render(): void {
    const s = this.status;
    const name = s.juliaVersion ? `Julia ${s.juliaVersion}` : 'Julia';
    const parts: string[] = [];
    this.item.backgroundColor = undefined;
    switch (s.state) {
      case 'stopped':
        parts.push(`$(circle-slash) ${name}: stopped`);
        break;
      case 'starting':
        parts.push(`$(loading~spin) ${name}: starting`);
        break;
      case 'dead':
        parts.push(`$(error) ${name}: not running`);
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        break;
      case 'busy':
        parts.push(`$(loading~spin) ${name}`, 'running');
        break;
      case 'idle':
        parts.push(name);
        if (this.last) parts.push(...latencyParts(this.last));
        break;
    }
    if (s.state === 'idle' || s.state === 'busy') parts.push(cacheText(s.cache));
    this.item.text = parts.join(' · ');
    this.item.tooltip = this.tooltip();
  }

  private tooltip(): vscode.MarkdownString {
    const s = this.status;
    const md = new vscode.MarkdownString(undefined, true);
    md.isTrusted = { enabledCommands: ['juliaCache.openRepl', 'juliaCache.showOutput', 'juliaCache.restartSession'] };
    md.appendMarkdown(`**Julia session**: ${s.state}`);
    if (s.juliaVersion) md.appendMarkdown(` · Julia ${s.juliaVersion}`);
    if (s.pid) md.appendMarkdown(` · pid ${s.pid}`);
    md.appendMarkdown('\n\n');
    if (s.message) md.appendMarkdown(`$(warning) ${escape(s.message)}\n\n`);
    if (this.last) {
      const t = this.last.result.timing;
      // Backslash escapes do not apply inside a code span: only backticks need replacing.
      md.appendMarkdown(`**Last evaluation**: \`${this.last.code.replace(/`/g, "'")}\`\n\n`);
      md.appendMarkdown(`- total ${formatMs(t.totalMs)}, of which native compile ${formatMs(t.compileMs)} (${t.methodsCompiled} methods)\n`);
      if (t.coldMs !== undefined) md.appendMarkdown(`- first run without the cache took ${formatMs(t.coldMs)}\n`);
      if (t.savedMs !== undefined) md.appendMarkdown(`- the cache saved ${formatMs(t.savedMs)}\n`);
      md.appendMarkdown('\n');
    }
    md.appendMarkdown(`**Compiled cache**: ${cacheDetails(s.cache)}\n\n`);
    if (s.cache.saved) md.appendMarkdown(`**Saved from this session**: ${s.cache.saved.methods} methods, ${formatBytes(s.cache.saved.bytes)} (they load in the next session)\n\n`);
    if (s.cache.packages?.length) md.appendMarkdown(`**Package caches**: ${s.cache.packages.map(escape).join(', ')} (installed as each loads)\n\n`);
    if (s.cache.teamCache) md.appendMarkdown(`**Team cache**: ${escape(s.cache.teamCache)}\n\n`);
    md.appendMarkdown('[Open REPL](command:juliaCache.openRepl) · [Show Output](command:juliaCache.showOutput) · ');
    md.appendMarkdown('[Restart Session](command:juliaCache.restartSession)');
    return md;
  }
}

function latencyParts(last: EvaluationFinishedParams): string[] {
  const t = last.result.timing;
  const parts = [t.compileMs >= 1 ? `${formatMs(t.totalMs)} (${formatMs(t.compileMs)} compile)` : formatMs(t.totalMs)];
  if (t.savedMs !== undefined && t.savedMs > 0) parts.push(`saved ${formatMs(t.savedMs)}`);
  return parts;
}

function cacheText(c: CacheStatus): string {
  switch (c.state) {
    case 'loaded':
      return `cache: ${c.methods} methods`;
    case 'loading':
      return 'cache: loading';
    case 'rejected':
      return 'cache: rejected';
    case 'disabled':
      return 'cache: off';
    case 'none':
      return c.saved ? `cache: ${c.saved.methods} saved` : 'no cache';
  }
}

function cacheDetails(c: CacheStatus): string {
  const why = c.reason ? ` (${escape(c.reason)})` : '';
  switch (c.state) {
    case 'loaded': {
      const took = c.loadMs !== undefined ? `, loaded in ${formatMs(c.loadMs)}` : '';
      return `${c.methods} methods, ${formatBytes(c.bytes)}${took}`;
    }
    case 'loading':
      return 'loading';
    case 'rejected':
      return `rejected${why}`;
    case 'disabled':
      return `disabled${why}`;
    case 'none':
      return `none yet${why || ' (run your code, then "Save Compiled Work")'}`;
  }
}

function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
