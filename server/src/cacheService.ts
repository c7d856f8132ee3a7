// The seam between the LSP server and the native cache (cache/nativeCacheService.ts): the server routes the cache
// requests here and tells the cache when a session started and when an evaluation finished.
import type { CancellationToken, WorkDoneProgressReporter } from 'vscode-languageserver/node';
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
  sessionStarted(session: JuliaSession): Promise<void>;
  /** Called with each finished evaluation before it is returned (fills timing.coldMs/savedMs when the cache saved time). */
  evaluated(session: JuliaSession, result: SessionEvalResult): void;
}
