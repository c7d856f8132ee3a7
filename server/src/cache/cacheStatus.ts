// What the status bar says about the cache, decided here only: the session carries its CacheStatus to the client,
// and the cache service (nativeCacheService.ts) is the one that sets it, from these rules.
import type { CacheStatus, SaveSummary } from '../../../shared/src/protocol.ts';
import { CACHE_JULIA_VERSION } from '../session/juliaProbe.ts';
import type { JuliaSession } from '../session/juliaSession.ts';

const EMPTY = { methods: 0, bytes: 0 };

export const NONE: CacheStatus = { state: 'none', ...EMPTY };
export const LOADING: CacheStatus = { state: 'loading', ...EMPTY };

export function rejectedStatus(reason: string): CacheStatus {
  return { state: 'rejected', ...EMPTY, reason };
}

function disabledStatus(reason: string): CacheStatus {
  return { state: 'disabled', ...EMPTY, reason };
}

/** Cache state implied by the Julia version alone (the agent may still refuse later, e.g. an unusual build). */
export function cacheStatusForVersion(version: string | undefined): CacheStatus {
  if (version === CACHE_JULIA_VERSION) return NONE;
  const running = version ? `Julia ${version} is running` : 'the Julia version is unknown';
  return disabledStatus(`${running}, but the compiled cache works only with Julia ${CACHE_JULIA_VERSION}: this session runs without it.`);
}

/** Why a freshly started session runs without the cache, or undefined when its cache may be loaded. */
export function disabledAtStart(session: JuliaSession, settings: { autoLoad: boolean; trusted: boolean }): CacheStatus | undefined {
  const byVersion = cacheStatusForVersion(session.status().juliaVersion);
  if (byVersion.state === 'disabled') return byVersion;
  const info = session.agentInfo;
  if (!info?.supported) return disabledStatus(info?.reason ?? 'the agent reports that the cache cannot work here');
  if (!settings.trusted) return disabledStatus('workspace not trusted: the cache is not loaded');
  if (!settings.autoLoad) return disabledStatus('automatic reload is off (julia.cache.autoLoad)');
  return undefined;
}

/** Entries installed; `reason` names the first entry that was left out, if any. */
export function loadedStatus(loaded: Omit<CacheStatus, 'state'>): CacheStatus {
  const { packages, ...rest } = loaded;
  return { state: 'loaded', ...rest, ...(packages?.length ? { packages } : {}) };
}

/** After Save Compiled Work: what this session saved so far (it loads in the next session); the state is unchanged. */
export function withSaved(status: CacheStatus, summary: SaveSummary): CacheStatus {
  const before = status.saved ?? EMPTY;
  return { ...status, saved: { methods: before.methods + summary.methodsSaved, bytes: before.bytes + summary.bytes } };
}
