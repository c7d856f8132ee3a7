// Starts the language server (dist/server.js, a Node process over stdio) and restarts it when settings change.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
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

/** Restarting is how settings reach the server: it ends the Julia session and starts a fresh one with them. */
export function restartOnSettingsChange(client: LanguageClient, output: vscode.LogOutputChannel): vscode.Disposable {
  return onSettingsChanged(() => {
    output.info('settings or workspace trust changed: restarting the language server');
    client.restart().catch((err) => output.error(`restart failed: ${errorMessage(err)}`));
  });
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
