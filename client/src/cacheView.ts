// The "Julia Compiled Cache" tree view: one item per cache entry with its size, age and state; delete one entry or
// clear all from the context menu / title bar. Refreshes when the server says the cache changed.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { CacheEntriesRequest, type CacheEntryInfo } from '../../shared/src/protocol.ts';
import { formatAge, formatBytes } from './format.ts';
import { errorMessage } from './languageClient.ts';

export const CACHE_VIEW_ID = 'juliaCache.cacheView';

export class CacheView implements vscode.TreeDataProvider<CacheEntryInfo>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly view: vscode.TreeView<CacheEntryInfo>;

  constructor(private readonly client: LanguageClient) {
    this.view = vscode.window.createTreeView(CACHE_VIEW_ID, { treeDataProvider: this, showCollapseAll: false });
  }

  refresh(): void {
    this.changed.fire();
  }

  async getChildren(element?: CacheEntryInfo): Promise<CacheEntryInfo[]> {
    if (element) return [];
    if (!this.client.isRunning()) {
      this.view.message = 'The Julia Compiled Cache server is not running.';
      return [];
    }
    try {
      const entries = await this.client.sendRequest(CacheEntriesRequest.type);
      this.view.message = entries.length ? undefined : 'No compiled work saved yet: run your code, then "Julia: Save Compiled Work".';
      this.view.description = entries.length ? formatBytes(entries.reduce((n, e) => n + e.bytes, 0)) : undefined;
      return entries;
    } catch (err) {
      this.view.message = `Cache unavailable: ${errorMessage(err)}`;
      return [];
    }
  }

  getTreeItem(entry: CacheEntryInfo): vscode.TreeItem {
    const item = new vscode.TreeItem(entry.label, vscode.TreeItemCollapsibleState.None);
    item.id = entry.id;
    item.description = `${formatBytes(entry.bytes)} · ${formatAge(entry.createdAt)}${entry.state === 'valid' ? '' : ` · ${entry.state}`}`;
    item.contextValue = 'cacheEntry';
    item.iconPath = new vscode.ThemeIcon(
      entry.state === 'valid' ? 'pass' : entry.state === 'stale' ? 'history' : 'error',
      entry.state === 'rejected' ? new vscode.ThemeColor('errorForeground') : undefined,
    );
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${entry.state}**${entry.reason ? `: ${entry.reason}` : ''}\n\n`);
    md.appendMarkdown(`${formatBytes(entry.bytes)}, created ${new Date(entry.createdAt).toLocaleString()}`);
    if (entry.lastUsedAt) md.appendMarkdown(`, last used ${new Date(entry.lastUsedAt).toLocaleString()}`);
    md.appendMarkdown(`\n\n${entry.methods.length} methods:\n`);
    md.appendCodeblock(entry.methods.slice(0, 20).join('\n') + (entry.methods.length > 20 ? `\n… ${entry.methods.length - 20} more` : ''), 'julia');
    item.tooltip = md;
    return item;
  }

  dispose(): void {
    this.view.dispose();
    this.changed.dispose();
  }
}
