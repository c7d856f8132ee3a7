// Starts the language server (dist/server.js, a Node process over stdio), sends it the settings when they change, and
// restarts it when the workspace becomes trusted.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DidChangeConfigurationNotification, LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { ServerCommands } from '../../shared/src/protocol.ts';
import { onSettingsChanged, readSettings } from './config.ts';

export function createLanguageClient(context: vscode.ExtensionContext, output: vscode.LogOutputChannel): LanguageClient {
  const serverModule = context.asAbsolutePath(path.join('dist', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.stdio },
    // `F5` from .vscode/launch.json: the server waits for nothing but listens for the "Attach to Server" config.
    debug: { module: serverModule, transport: TransportKind.stdio, options: { execArgv: ['--nolazy', '--inspect=6011'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'julia' },
      { scheme: 'untitled', language: 'julia' },
    ],
    outputChannel: output,
    // A function, so every (re)start sends the settings and the trust state of that moment.
    initializationOptions: () => readSettings(),
    middleware: {
      // A lens offering Save Compiled Work names the server's command, which saves without any UI: run the editor's
      // own command instead, which shows the progress and the summary.
      provideCodeLenses: async (document, token, next) => {
        const lenses = await next(document, token);
        for (const lens of lenses ?? []) {
          if (lens.command?.command === ServerCommands.saveCompiledWork) lens.command.command = 'juliaCache.saveCompiledWork';
        }
        return lenses;
      },
    },
  };
  return new LanguageClient('juliaCache', 'Julia Compiled Cache', serverOptions, clientOptions);
}

/**
 * Changed settings go to the server (workspace/didChangeConfiguration, in the initializationOptions' shape): it
 * applies what needs no restart at once and restarts Julia only for a new path or arguments. Granted trust restarts
 * the server: everything it may do (start Julia, load the cache) changes.
 */
export function followSettings(client: LanguageClient, output: vscode.LogOutputChannel): vscode.Disposable {
  return vscode.Disposable.from(
    onSettingsChanged(() => {
      client.sendNotification(DidChangeConfigurationNotification.type, { settings: readSettings() })
        .catch((err) => output.error(`sending the settings failed: ${errorMessage(err)}`));
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      output.info('workspace trusted: restarting the language server');
      client.restart().catch((err) => output.error(`restart failed: ${errorMessage(err)}`));
    }),
  );
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
