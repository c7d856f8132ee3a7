// The seam between the LSP server and the native cache: the server routes the cache requests here and tells the
// cache when a session started. The real implementation is wired in by main.ts; until then every request answers
// "cache not available".
import { ResponseError, type CancellationToken, type WorkDoneProgressReporter } from 'vscode-languageserver/node';
import type { BuildPackageCacheParams, CacheEntryInfo, PackageCacheSummary, SaveSummary, TeamCacheSummary } from '../../shared/src/protocol.ts';
import type { SessionEvalResult } from './session/agentProtocol.ts';
import type { JuliaSession } from './session/juliaSession.ts';

export interface CacheService {
  /** A cancelled token stops the save at its next step and writes nothing. */
  saveCompiledWork(progress: WorkDoneProgressReporter, token?: CancellationToken): Promise<SaveSummary>;
  /** Runs a package's tests in a session of its own and saves its package cache (packages/buildPackageCache.ts). */
  buildPackageCache(params: BuildPackageCacheParams, progress: WorkDoneProgressReporter, token?: CancellationToken): Promise<PackageCacheSummary>;
  cacheEntries(): Promise<CacheEntryInfo[]>;
  deleteCacheEntry(id: string): Promise<CacheEntryInfo[]>;
  clearCache(): Promise<void>;
  /** The team cache (julia.cache.remote.url): publish the local entries, fetch trusted ones. */
  pushCompiledWork(): Promise<TeamCacheSummary>;
  pullTeamCache(): Promise<TeamCacheSummary>;
  /** Called after each successful session start (e.g. to load valid entries); reports through session.setCacheStatus. */
  sessionStarted?(session: JuliaSession): Promise<void>;
  /** Called with each finished evaluation before it is returned (fills timing.coldMs/savedMs when the cache saved time). */
  evaluated?(session: JuliaSession, result: SessionEvalResult): void;
}

/** Error code for "this feature cannot answer now" (in the JSON-RPC range reserved for servers). */
export const CACHE_UNAVAILABLE = -32001;

const unavailable = (): never => {
  throw new ResponseError(CACHE_UNAVAILABLE, 'cache not available: the native cache is not part of this server build yet');
};

export const unavailableCacheService: CacheService = {
  saveCompiledWork: async () => unavailable(),
  buildPackageCache: async () => unavailable(),
  cacheEntries: async () => unavailable(),
  deleteCacheEntry: async () => unavailable(),
  clearCache: async () => unavailable(),
  pushCompiledWork: async () => unavailable(),
  pullTeamCache: async () => unavailable(),
};
