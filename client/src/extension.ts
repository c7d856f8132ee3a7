// Entry point: creates the parts and wires the server's notifications to them. Behaviour lives in the parts.
import * as vscode from 'vscode';
import { State } from 'vscode-languageclient/node';
import {
  CacheChangedNotification, EvaluationFinishedNotification, OutputNotification, SessionStatusNotification,
} from '../../shared/src/protocol.ts';
import { CacheView } from './cacheView.ts';
import { registerCommands } from './commands.ts';
import { createLanguageClient, errorMessage, followSettings } from './languageClient.ts';
import { ReplTerminal } from './replTerminal.ts';
import { SessionStatusTracker } from './sessionStatus.ts';
import { StatusBar } from './statusBar.ts';

let stopClient: (() => Promise<void>) | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel('Julia Compiled Cache', { log: true });
  const client = createLanguageClient(context, log);
  const session = new SessionStatusTracker(log);
  const statusBar = new StatusBar('juliaCache.openRepl');
  const repl = new ReplTerminal(client, () => session.status.state, log);
  const cacheView = new CacheView(client);
  context.subscriptions.push(log, session, statusBar, repl, cacheView);
  context.subscriptions.push(...registerCommands({ client, repl, cacheView, log }));
  context.subscriptions.push(followSettings(client, log));

  // Handlers registered before start() survive client restarts.
  client.onNotification(SessionStatusNotification.type, (s) => session.update(s));
  client.onNotification(OutputNotification.type, (o) => repl.output(o));
  client.onNotification(EvaluationFinishedNotification.type, (e) => statusBar.evaluationFinished(e));
  client.onNotification(CacheChangedNotification.type, () => cacheView.refresh());
  session.onDidChange((s) => statusBar.setStatus(s));
  session.onDidChange((s) => repl.sessionChanged(s));
  let lastCacheState = '';
  session.onDidChange((s) => {
    // The cache view follows loads and rejections too, not only saves.
    const key = `${s.cache.state}/${s.cache.methods}`;
    if (key !== lastCacheState) cacheView.refresh();
    lastCacheState = key;
  });
  client.onDidChangeState((e) => {
    if (e.newState === State.Running) cacheView.refresh();
    if (e.newState === State.Stopped) session.update({ state: 'stopped', cache: { state: 'none', methods: 0, bytes: 0 } });
  });

  stopClient = () => client.stop();
  try {
    await client.start();
  } catch (err) {
    log.error(`the language server did not start: ${errorMessage(err)}`);
    void vscode.window.showErrorMessage(`Julia Compiled Cache: the language server did not start: ${errorMessage(err)}`);
  }
}

export async function deactivate(): Promise<void> {
  await stopClient?.();
}
