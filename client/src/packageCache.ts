// Build Package Cache from Tests: pick a package of the workspace (a folder with Project.toml naming a package and
// test/runtests.jl), then the server runs its tests in a session of their own and saves its package cache.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { BuildPackageCacheRequest, type PackageCacheSummary } from '../../shared/src/protocol.ts';
import { formatBytes } from './format.ts';

interface PackagePick extends vscode.QuickPickItem {
  dir: string;
}

export async function buildPackageCache(client: LanguageClient, log: vscode.LogOutputChannel, request: <T>(send: () => Promise<T>) => Promise<T | undefined>): Promise<void> {
  const pick = await vscode.window.showQuickPick(workspacePackages(), { placeHolder: 'Package whose tests build its cache' });
  if (!pick) return;
  const summary = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Julia: building ${pick.label}'s package cache from its tests`, cancellable: true },
    (_progress, cancelled) => request(() => client.sendRequest(BuildPackageCacheRequest.type, { packageDir: pick.dir }, cancelled)),
  );
  if (!summary) return;
  const text = packageCacheText(summary);
  log.info(text);
  void vscode.window.showInformationMessage(text);
}

export function packageCacheText(s: PackageCacheSummary): string {
  const t = s.tests;
  const failing = s.failedTestsets.length ? ` (failing: ${s.failedTestsets.join(', ')})` : '';
  return `${s.package} ${s.version}: tests ${t.passed} passed, ${t.failed} failed, ${t.errored} errored${failing}; ` +
    `saved ${s.methodsSaved} methods (${formatBytes(s.bytes)}); they load with the package in the next session`;
}

async function workspacePackages(): Promise<PackagePick[]> {
  const picks: PackagePick[] = [];
  for (const project of await vscode.workspace.findFiles('**/Project.toml', '**/{node_modules,.git}/**', 200)) {
    const dir = vscode.Uri.joinPath(project, '..');
    const name = /^name\s*=\s*"([^"]+)"/m.exec(Buffer.from(await vscode.workspace.fs.readFile(project)).toString('utf8'))?.[1];
    if (!name || !(await exists(vscode.Uri.joinPath(dir, 'test', 'runtests.jl')))) continue;
    picks.push({ label: name, description: vscode.workspace.asRelativePath(dir), dir: dir.fsPath });
  }
  return picks.sort((a, b) => a.label.localeCompare(b.label));
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}
