// Reads the extension's settings (all under `julia.cache.*`) into the shape the server expects.
import * as vscode from 'vscode';
import { defaultSettings, type ServerSettings } from '../../shared/src/protocol.ts';

export const SETTINGS_SECTION = 'julia.cache';

export function readSettings(): ServerSettings {
  const c = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  const trusted = vscode.workspace.isTrusted;
  return {
    juliaPath: c.get<string>('juliaPath', defaultSettings.juliaPath).trim(),
    juliaArgs: c.get<string[]>('juliaArgs', defaultSettings.juliaArgs),
    cacheDir: c.get<string>('cacheDir', defaultSettings.cacheDir),
    autoLoad: c.get<boolean>('autoLoad', defaultSettings.autoLoad),
    autoStart: c.get<boolean>('autoStart', defaultSettings.autoStart),
    maxCacheMB: c.get<number>('maxCacheMB', defaultSettings.maxCacheMB),
    trusted,
    remoteUrl: c.get<string>('remote.url', defaultSettings.remoteUrl).trim(),
    remotePull: c.get<boolean>('remote.pull', defaultSettings.remotePull),
    remotePush: c.get<boolean>('remote.push', defaultSettings.remotePush),
    remotePullBudgetMs: c.get<number>('remote.pullBudgetMs', defaultSettings.remotePullBudgetMs),
    remoteTrustedKeys: c.get<string[]>('remote.trustedKeys', defaultSettings.remoteTrustedKeys),
    remoteAuthHeaderEnv: c.get<string>('remote.authHeaderEnv', defaultSettings.remoteAuthHeaderEnv).trim(),
  };
}

/** Fires when any `julia.cache.*` setting changes. */
export function onSettingsChanged(listener: () => void): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration(SETTINGS_SECTION)) listener();
  });
}
