// The LSP server's CacheService: Save Compiled Work, the cache view's listing, delete and clear, and the automatic
// reload when a session starts (only in a trusted workspace with autoLoad on), preceded by a team cache pull when one
// is configured (remote/teamCacheFlows.ts).
import { LSPErrorCodes, ResponseError, type CancellationToken, type WorkDoneProgressReporter } from 'vscode-languageserver/node';
import type { BuildPackageCacheParams, CacheEntryInfo, PackageCacheSummary, SaveSummary, TeamCacheSummary } from '../../../shared/src/protocol.ts';
import { CacheChangedNotification, OutputNotification } from '../../../shared/src/protocol.ts';
import { buildPackageCache } from '../packages/buildPackageCache.ts';
import type { CacheService } from '../cacheService.ts';
import type { ServerContext } from '../server.ts';
import type { SessionEvalResult } from '../session/agentProtocol.ts';
import type { JuliaSession } from '../session/juliaSession.ts';
import { ensureAgentCode } from '../capture/agentCode.ts';
import { disabledAtStart, LOADING, rejectedStatus, withSaved } from './cacheStatus.ts';
import { LoadAheadTracker } from './loadAhead.ts';
import { loadCache } from './loadFlow.ts';
import { TeamCacheFlows } from '../remote/teamCacheFlows.ts';
import { ensureProven, proveSavedEntry } from './prove.ts';
import { saveCompiledWork } from './saveFlow.ts';
import { cacheRoot, openSessionStore } from './sessionStore.ts';
import { readColdTimes, SavedTime } from './statementTimes.ts';
import type { Store } from './store.ts';

const CACHE_ERROR = -32003;

export function createNativeCacheService(ctx: ServerContext): CacheService {
  const { connection, session, settings, workspaceRoot } = ctx;
  // Read at each use: settings change without a restart (server.ts applySettings).
  const storeSettings = () => ({ cacheDir: settings.cacheDir, maxCacheMB: settings.maxCacheMB, workspaceRoot });
  // Signatures saved from the current Julia process: a second save stores only what is new.
  let saved = { pid: -1, signatures: new Set<string>() };
  // Sessions running with a loaded cache: what it saved per evaluation (statementTimes.ts).
  const savedTime = new WeakMap<JuliaSession, SavedTime>();

  const store = async (): Promise<Store> => {
    const s = await openSessionStore(session, storeSettings());
    if (!s.ok) throw new ResponseError(CACHE_ERROR, s.error);
    return s.value;
  };
  const changed = () => void connection.sendNotification(CacheChangedNotification.type, {});
  // The store is opened and listed while each session warms up (loadAhead.ts); sessionStarted takes that result.
  const ahead = new LoadAheadTracker(() => ({ ...storeSettings(), autoLoad: settings.autoLoad, trusted: settings.trusted }));
  ahead.watch(session);
  const team = new TeamCacheFlows(settings, { info: (m) => connection.console.info(m), warn: (m) => connection.console.warn(m) }, workspaceRoot);

  return {
    async saveCompiledWork(progress: WorkDoneProgressReporter, token?: CancellationToken): Promise<SaveSummary> {
      const pid = session.agentInfo?.pid ?? -1;
      if (saved.pid !== pid) saved = { pid, signatures: new Set() };
      const save = { title: 'Save Compiled Work', label: 'Save Compiled Work', message: 'capturing compiled methods' };
      return withProgress(progress, token, save, async (signal) => {
        const target = await store();
        const { entryId, ...summary } = await saveCompiledWork(session, target, {
          alreadySaved: saved.signatures,
          report: (message, percent) => progress.report(percent, message),
          signal,
        });
        changed();
        if (summary.methodsSaved > 0) session.setCacheStatus(withSaved(session.status().cache, summary));
        // Once per agent version: the capture code, built in a sibling session so later saves need not compile it.
        void ensureAgentCode(session);
        // Prove the new entry now, in the background (prove.ts); once proven it goes to the team cache, if any.
        if (entryId) {
          void proveSavedEntry(target, entryId, { session }).then((proof) => {
            changed();
            if (proof.usable.length > 0) team.pushInBackground(target, entryId);
          });
        }
        return summary;
      });
    },
    async buildPackageCache(params: BuildPackageCacheParams, progress: WorkDoneProgressReporter, token?: CancellationToken): Promise<PackageCacheSummary> {
      // Running a package's tests is running its code: never in a workspace the user has not trusted.
      if (!settings.trusted) throw new ResponseError(CACHE_ERROR, 'the workspace is not trusted: package tests are not run');
      const build = { title: 'Build Package Cache from Tests', label: 'Build Package Cache', message: 'starting a session for the tests' };
      return withProgress(progress, token, build, async (signal) => {
        const { entryId: _, ...summary } = await buildPackageCache(params.packageDir, {
          cacheDir: cacheRoot(storeSettings()), maxCacheMB: settings.maxCacheMB, juliaPath: settings.juliaPath, juliaArgs: settings.juliaArgs,
          signal, report: (message, percent) => progress.report(percent, message),
          onOutput: (stream, text) => void connection.sendNotification(OutputNotification.type, { stream, text }),
        });
        changed();
        return summary;
      });
    },
    async cacheEntries(): Promise<CacheEntryInfo[]> {
      const listed = await (await store()).listEntries();
      if (!listed.ok) throw new ResponseError(CACHE_ERROR, listed.error);
      return listed.value.map((e) => ({
        id: e.id, label: e.label, methods: e.methods, bytes: e.bytes,
        createdAt: e.createdAt ?? '', lastUsedAt: e.lastUsedAt, state: e.state, reason: e.reason, package: e.package,
      }));
    },
    async deleteCacheEntry(id: string): Promise<CacheEntryInfo[]> {
      const r = await (await store()).deleteEntry(id);
      if (!r.ok) throw new ResponseError(CACHE_ERROR, r.error);
      changed();
      return this.cacheEntries();
    },
    async clearCache(): Promise<void> {
      const r = await (await store()).clear();
      if (!r.ok) throw new ResponseError(CACHE_ERROR, r.error);
      changed();
    },
    async pushCompiledWork(): Promise<TeamCacheSummary> {
      const r = await team.push(await store());
      if (!r.ok) throw new ResponseError(CACHE_ERROR, `Push Compiled Work failed: ${r.error}`);
      return r.value;
    },
    async pullTeamCache(): Promise<TeamCacheSummary> {
      const target = await store();
      const r = await team.pullNow(target);
      if (!r.ok) throw new ResponseError(CACHE_ERROR, `Pull Team Cache failed: ${r.error}`);
      const { pulled, ...summary } = r.value;
      changed();
      // Proven now, like a saved entry, so the next session's start is not delayed by it.
      const listed = await target.listEntries();
      if (listed.ok && pulled.length) void ensureProven(target, listed.value.filter((e) => pulled.includes(e.id)), { session }).then(changed);
      return summary;
    },
    evaluated(s: JuliaSession, result: SessionEvalResult): void {
      savedTime.get(s)?.annotate(result.timing, result.statements);
    },
    async sessionStarted(s: JuliaSession): Promise<void> {
      const early = await ahead.take(s, storeSettings());
      const disabled = disabledAtStart(s, settings);
      if (disabled) return s.setCacheStatus(disabled);
      const opened = early?.store ?? (await openSessionStore(s, storeSettings()));
      if (!opened.ok) return s.setCacheStatus(rejectedStatus(opened.error));
      s.setCacheStatus(LOADING);
      const pulled = await team.pullAtStart(opened.value);
      if (pulled?.pulled.length) changed();
      // Entries a pull just added are not in the early listing: then the load lists the store again.
      const listed = !pulled?.pulled.length && early?.listed?.ok ? early.listed.value : undefined;
      // Read while the agent loads: an evaluation waiting for this start then waits for neither one after the other.
      const coldTimes = readColdTimes(opened.value);
      const outcome = await loadCache(s, opened.value, listed);
      for (const p of outcome.problems) connection.console.warn(`cache: ${p}`);
      s.setCacheStatus({ ...outcome.status, ...(pulled ? { teamCache: pulled.text } : {}) });
      if (outcome.status.state === 'loaded') savedTime.set(s, new SavedTime(await coldTimes));
    },
  };
}

/**
 * A long request with work-done progress: the client's cancellation becomes the AbortSignal the body passes down;
 * a cancelled body answers RequestCancelled ("nothing was written"), any other failure a cache error naming `label`.
 */
async function withProgress<T>(
  progress: WorkDoneProgressReporter, token: CancellationToken | undefined,
  what: { title: string; label: string; message: string }, body: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const cancel = new AbortController();
  const onCancel = token?.onCancellationRequested(() => cancel.abort());
  progress.begin(what.title, 0, what.message, true);
  try {
    return await body(cancel.signal);
  } catch (e) {
    if (e instanceof ResponseError) throw e;
    if (cancel.signal.aborted) throw new ResponseError(LSPErrorCodes.RequestCancelled, `${what.label} was cancelled: nothing was written`);
    throw new ResponseError(CACHE_ERROR, `${what.label} failed: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    onCancel?.dispose();
    progress.done();
  }
}
