// From settings to a team cache client: the server's URL, the auth header (read from the environment variable the
// settings name, never from the settings themselves), this user's signing key and the keys they trust.
import { fail, ok, type Result } from '../cache/result.ts';
import { headerFromEnv, HttpCache } from './httpCache.ts';
import { loadOrCreateTeamKey, trustedKeys, type TeamKey } from './teamKey.ts';

export interface RemoteSettings {
  url: string;
  /** Name of an environment variable holding `Header-Name: value` (or a bare Authorization value). */
  authHeaderEnv?: string;
  /** `ed25519:<base64>` public keys whose entries may be installed, besides this user's own. */
  trustedKeys: string[];
  /** Directory of the signing keys (default: the cache key directory). */
  keyDir?: string;
}

export interface TeamCache {
  http: HttpCache;
  key: TeamKey;
  trusted: ReadonlySet<string>;
  /** Settings that were ignored, in words (e.g. a trusted key that is not a key). */
  problems: string[];
}

export async function connectTeamCache(s: RemoteSettings, signal: AbortSignal): Promise<Result<TeamCache>> {
  let url: URL;
  try {
    url = new URL(s.url);
  } catch {
    return fail(`julia.cache.remote.url "${s.url.slice(0, 200)}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return fail(`julia.cache.remote.url must be http:// or https://, not ${url.protocol}`);
  if (url.username || url.password) return fail('julia.cache.remote.url must not contain credentials; use julia.cache.remote.authHeaderEnv');
  const header = headerFromEnv(s.authHeaderEnv);
  if (!header.ok) return header;
  const key = await loadOrCreateTeamKey(s.keyDir);
  if (!key.ok) return key;
  const { keys, problems } = trustedKeys(key.value, s.trustedKeys);
  return ok({ http: new HttpCache({ url: s.url, header: header.value }, signal), key: key.value, trusted: keys, problems });
}
