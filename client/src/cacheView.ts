// The "Julia Compiled Cache" tree view: one item per cache entry with its size, age and state, package caches grouped
// under their package; delete one entry or clear all from the context menu / title bar. Refreshes when the server
// says the cache changed.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { CacheEntriesRequest, type CacheEntryInfo } from '../../shared/src/protocol.ts';
import { formatAge, formatBytes } from './format.ts';
import { errorMessage } from './languageClient.ts';

export const CACHE_VIEW_ID = 'juliaCache.cacheView';

/** A package's entries (Build Package Cache from Tests), shown as one group. */
interface PackageGroup {
  package: string;
  entries: CacheEntryInfo[];
}
type Node = CacheEntryInfo | PackageGroup;
const isGroup = (n: Node): n is PackageGroup => 'entries' in n;

export class CacheView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly view: vscode.TreeView<Node>;

  constructor(private readonly client: LanguageClient) {
    this.view = vscode.window.createTreeView(CACHE_VIEW_ID, { treeDataProvider: this, showCollapseAll: false });
  }

  refresh(): void {
    this.changed.fire();
  }

  async getChildren(element?: Node): Promise<Node[]> {
    if (element) return isGroup(element) ? element.entries : [];
    if (!this.client.isRunning()) {
      this.view.message = 'The Julia Compiled Cache server is not running.';
      return [];
    }
    try {
      const entries = await this.client.sendRequest(CacheEntriesRequest.type);
      this.view.message = entries.length ? undefined : 'No compiled work saved yet: run your code, then "Julia: Save Compiled Work".';
      this.view.description = entries.length ? formatBytes(entries.reduce((n, e) => n + e.bytes, 0)) : undefined;
      return groupByPackage(entries);
    } catch (err) {
      this.view.message = `Cache unavailable: ${errorMessage(err)}`;
      return [];
    }
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (isGroup(node)) {
      const group = new vscode.TreeItem(node.package, vscode.TreeItemCollapsibleState.Expanded);
      group.id = `package:${node.package}`;
      group.description = `package cache · ${formatBytes(node.entries.reduce((n, e) => n + e.bytes, 0))}`;
      group.iconPath = new vscode.ThemeIcon('package');
      group.tooltip = `Built from ${node.package}'s tests; installed when a session loads ${node.package}`;
      return group;
    }
    const entry = node;
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

/** The session's own entries first, then one group per package, by name. */
function groupByPackage(entries: CacheEntryInfo[]): Node[] {
  const groups = new Map<string, CacheEntryInfo[]>();
  for (const e of entries) if (e.package) groups.set(e.package, [...(groups.get(e.package) ?? []), e]);
  const names = [...groups.keys()].sort();
  return [...entries.filter((e) => !e.package), ...names.map((name) => ({ package: name, entries: groups.get(name)! }))];
}
