// initializationOptions -> ServerSettings: every field is optional and type-checked; a wrong type falls back to the
// default and is reported, so a bad setting never stops the server.
import { defaultSettings, type ServerSettings } from '../../../shared/src/protocol.ts';

export function readSettings(raw: unknown): { settings: ServerSettings; problems: string[] } {
  const settings: ServerSettings = { ...defaultSettings, juliaArgs: [...defaultSettings.juliaArgs], remoteTrustedKeys: [] };
  const problems: string[] = [];
  if (raw === undefined || raw === null) return { settings, problems };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return { settings, problems: ['initializationOptions must be an object of julia.cache settings; using defaults'] };
  }
  const given = raw as Record<string, unknown>;
  const take = <K extends keyof ServerSettings>(key: K, ok: (v: unknown) => boolean, expected: string) => {
    const value = given[key];
    if (value === undefined) return;
    if (ok(value)) settings[key] = value as ServerSettings[K];
    else problems.push(`setting ${key} must be ${expected}; got ${JSON.stringify(value)}, using ${JSON.stringify(settings[key])}`);
  };
  const isString = (v: unknown) => typeof v === 'string';
  const isBool = (v: unknown) => typeof v === 'boolean';
  take('juliaPath', isString, 'a string');
  take('juliaArgs', (v) => Array.isArray(v) && v.every(isString), 'an array of strings');
  take('cacheDir', (v) => isString(v) && v !== '', 'a non-empty string');
  take('autoLoad', isBool, 'true or false');
  take('autoStart', isBool, 'true or false');
  take('maxCacheMB', (v) => typeof v === 'number' && Number.isFinite(v) && v > 0, 'a positive number');
  take('trusted', isBool, 'true or false');
  take('remoteUrl', isString, 'a string');
  take('remotePull', isBool, 'true or false');
  take('remotePush', isBool, 'true or false');
  take('remotePullBudgetMs', (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0, 'a number of milliseconds');
  take('remoteTrustedKeys', (v) => Array.isArray(v) && v.every(isString), 'an array of strings');
  take('remoteAuthHeaderEnv', (v) => isString(v) && /^[A-Za-z_][A-Za-z0-9_]*$|^$/.test(v as string), 'an environment variable name');
  return { settings, problems };
}
