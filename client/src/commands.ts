// Every command the extension contributes (package.json "contributes.commands"), one small handler each.
import * as vscode from 'vscode';
import { LSPErrorCodes, ResponseError, WorkDoneProgress, type LanguageClient } from 'vscode-languageclient/node';
import {
  ClearCacheRequest, DeleteCacheEntryRequest, InterruptRequest, PullTeamCacheRequest, PushCompiledWorkRequest, RestartSessionRequest,
  SaveCompiledWorkRequest, StartSessionRequest, StopSessionRequest, type CacheEntryInfo, type SaveSummary, type TeamCacheSummary,
} from '../../shared/src/protocol.ts';
import type { CacheView } from './cacheView.ts';
import { saveSummaryText, teamCacheSummaryText } from './format.ts';
import { isInputComplete } from './inputComplete.ts';
import { buildPackageCache } from './packageCache.ts';
import { errorMessage } from './languageClient.ts';
import type { ReplTerminal } from './replTerminal.ts';

export interface CommandContext {
  client: LanguageClient;
  repl: ReplTerminal;
  cacheView: CacheView;
  log: vscode.LogOutputChannel;
}

export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  const { client, repl, log } = ctx;
  const handlers: Record<string, (...args: any[]) => unknown> = {
    'juliaCache.startSession': () => request(() => client.sendRequest(StartSessionRequest.type)),
    'juliaCache.restartSession': () => request(() => client.sendRequest(RestartSessionRequest.type)),
    'juliaCache.stopSession': () => request(() => client.sendRequest(StopSessionRequest.type)),
    'juliaCache.interrupt': () => request(() => client.sendRequest(InterruptRequest.type)),
    'juliaCache.executeSelectionOrLine': () => executeSelectionOrLine(repl),
    'juliaCache.executeFile': () => executeFile(repl),
    'juliaCache.saveCompiledWork': () => saveCompiledWork(client, log),
    'juliaCache.buildPackageCache': () => buildPackageCache(client, log, request),
    'juliaCache.pushCompiledWork': () => teamCache('Pushed', () => client.sendRequest(PushCompiledWorkRequest.type), log),
    'juliaCache.pullTeamCache': () => teamCache('Pulled', () => client.sendRequest(PullTeamCacheRequest.type), log),
    'juliaCache.clearCache': () => clearCache(client),
    'juliaCache.deleteCacheEntry': (entry?: CacheEntryInfo) => deleteEntry(client, entry),
    'juliaCache.refreshCacheView': () => ctx.cacheView.refresh(),
    'juliaCache.openRepl': () => repl.show(),
    'juliaCache.showOutput': () => log.show(),
  };
  return Object.entries(handlers).map(([id, handler]) => vscode.commands.registerCommand(id, handler));
}

/** A request whose failure the user should see (the server's message says what went wrong). */
async function request<T>(send: () => Promise<T>): Promise<T | undefined> {
  try {
    return await send();
  } catch (err) {
    if (isCancellation(err)) {
      void vscode.window.showInformationMessage('Julia: cancelled; nothing was written');
      return undefined;
    }
    void vscode.window.showErrorMessage(`Julia: ${errorMessage(err)}`);
    return undefined;
  }
}

/** The user cancelled (VS Code's CancellationError, or the server's answer to $/cancelRequest). */
function isCancellation(err: unknown): boolean {
  return err instanceof vscode.CancellationError || (err instanceof ResponseError && err.code === LSPErrorCodes.RequestCancelled);
}

/** Shift+Enter: the selection, or the current line (extended to the whole block when it opens one); then the
 * cursor moves to the next non-blank line, so repeated Shift+Enter walks through a file. */
async function executeSelectionOrLine(repl: ReplTerminal): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) return;
  const doc = editor.document;
  const sel = editor.selection;
  let first: number;
  let last: number;
  if (!sel.isEmpty) {
    first = sel.start.line;
    // A selection that ends at column 0 of a line does not include that line.
    last = sel.end.character === 0 && sel.end.line > first ? sel.end.line - 1 : sel.end.line;
  } else {
    first = last = sel.active.line;
    while (last < doc.lineCount - 1 && !isInputComplete(doc.getText(lineSpan(doc, first, last)))) last++;
  }
  const code = sel.isEmpty ? doc.getText(lineSpan(doc, first, last)) : doc.getText(sel);
  let next = last + 1;
  while (next < doc.lineCount && doc.lineAt(next).isEmptyOrWhitespace) next++;
  if (next < doc.lineCount) {
    const pos = new vscode.Position(next, doc.lineAt(next).firstNonWhitespaceCharacterIndex);
    editor.selection = new vscode.Selection(pos, pos);
    editor.revealRange(new vscode.Range(pos, pos));
  }
  if (code.trim()) await repl.execute(code, fileName(doc), first + 1);
}

async function executeFile(repl: ReplTerminal): Promise<void> {
  const doc = vscode.window.activeTextEditor?.document;
  if (!doc) {
    void vscode.window.showWarningMessage('Julia: open a Julia file to execute it.');
    return;
  }
  await repl.execute(doc.getText(), fileName(doc), 1);
}

let saveCount = 0;

async function saveCompiledWork(client: LanguageClient, log: vscode.LogOutputChannel): Promise<void> {
  const summary = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Julia: saving compiled work', cancellable: true },
    async (progress, cancelled) => {
      // The server reports its stages (capture, codegen, store) as LSP work-done progress on our token.
      const token = `juliaCache.save.${++saveCount}`;
      let percent = 0;
      const sub = client.onProgress(WorkDoneProgress.type, token, (value) => {
        if (value.kind === 'end') return;
        const next = value.percentage ?? percent;
        progress.report({ message: value.message, increment: Math.max(0, next - percent) });
        percent = Math.max(percent, next);
      });
      try {
        return await request(() => client.sendRequest<SaveSummary>(SaveCompiledWorkRequest.type.method, { workDoneToken: token }, cancelled));
      } finally {
        sub.dispose();
      }
    },
  );
  if (!summary) return;
  const text = saveSummaryText(summary);
  log.info(text);
  const choice = await vscode.window.showInformationMessage(text, ...(summary.skipped.length ? ['Show skipped'] : []));
  if (choice === 'Show skipped') {
    log.info(`skipped methods (${summary.skipped.length}):`);
    for (const s of summary.skipped) log.info(`  ${s.signature}: ${s.reason}`);
    log.show();
  }
}

async function teamCache(verb: 'Pushed' | 'Pulled', send: () => Promise<TeamCacheSummary>, log: vscode.LogOutputChannel): Promise<void> {
  const title = verb === 'Pushed' ? 'Julia: pushing compiled work to the team cache' : 'Julia: pulling the team cache';
  const summary = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, () => request(send));
  if (!summary) return;
  const text = teamCacheSummaryText(verb, summary);
  log.info(text);
  for (const p of summary.problems) log.warn(p);
  void vscode.window.showInformationMessage(text);
}

async function clearCache(client: LanguageClient): Promise<void> {
  const ok = await vscode.window.showWarningMessage(
    'Delete all compiled code saved for this workspace? The next session compiles from scratch.',
    { modal: true },
    'Clear Cache',
  );
  if (ok !== 'Clear Cache') return;
  if ((await request(() => client.sendRequest(ClearCacheRequest.type).then(() => true))) === true) {
    void vscode.window.showInformationMessage('Julia: compiled cache cleared.');
  }
}

async function deleteEntry(client: LanguageClient, entry?: CacheEntryInfo): Promise<void> {
  if (!entry?.id) return;
  await request(() => client.sendRequest(DeleteCacheEntryRequest.type, { id: entry.id }));
}

function lineSpan(doc: vscode.TextDocument, first: number, last: number): vscode.Range {
  return new vscode.Range(first, 0, last, doc.lineAt(last).text.length);
}

function fileName(doc: vscode.TextDocument): string {
  return doc.uri.scheme === 'file' ? doc.uri.fsPath : doc.uri.toString();
}
