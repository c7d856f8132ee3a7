// Reload: the valid entries of this session's identity are handed to the agent, whose C loader JIT-links them into
// the session. Entries without requirements are installed at once; user methods wait for the statements that define
// them. A broken cache never stops the session: it runs without it.
//
// Each check runs once: the listing reads meta.json, verifies its signature and the proof marker and stats the files;
// the loader reads each file once and checks its sha256 (from the signed meta) on the very bytes it links, so nothing
// is copied and nothing can change between check and use. An entry whose bytes do not match is quarantined here.
import type { CacheStatus } from '../../../shared/src/protocol.ts';
import { loadedStatus, NONE, rejectedStatus } from './cacheStatus.ts';
import type { JuliaSession } from '../session/juliaSession.ts';
import { ensureProven } from './prove.ts';
import type { EntryListing, Store } from './store.ts';
import type { AgentLoadResult } from '../session/agentProtocol.ts';

export interface LoadOutcome {
  status: CacheStatus;
  result?: AgentLoadResult;
  /** Entries listed as unusable (stale, foreign, damaged), with reasons. */
  problems: string[];
  /** Wall time per step of this side (list, prove, request), ms. */
  steps: Record<string, number>;
}

/**
 * `listed`: the store's listing when it was made while the session started (loadAhead.ts); without it the store is
 * listed here. Either way each entry's checks ran once, in that listing.
 */
export async function loadCache(session: JuliaSession, store: Store, listed?: EntryListing[]): Promise<LoadOutcome> {
  const t0 = performance.now();
  const steps: Record<string, number> = {};
  let last = t0;
  const lap = (name: string) => {
    const now = performance.now();
    steps[name] = now - last;
    last = now;
  };
  const listing = listed ? { ok: true as const, value: listed } : await store.listEntries();
  lap('list');
  if (!listing.ok) return { status: rejectedStatus(listing.error), problems: [listing.error], steps };
  const problems = listing.value.filter((e) => e.state !== 'valid').map((e) => `${e.id}: ${e.reason ?? e.state}`);
  // Entries never installed before are first proven in a throwaway Julia process (prove.ts); failures are quarantined.
  const { usable: valid, problems: unproven } = await ensureProven(store, listing.value, { session });
  problems.push(...unproven);
  lap('prove');
  const entries = valid.flatMap((e) => {
    const files = store.entryFiles(e);
    return files ? [{ id: e.id, ...files }] : [];
  });
  if (entries.length === 0) {
    const status = problems.length ? rejectedStatus(`no usable entries (${problems[0]})`) : NONE;
    return { status, problems, steps };
  }
  const bytes = entries.reduce((s, e) => s + e.bytes, 0);
  const methods = entries.reduce((s, e) => s + e.methods, 0);
  const result = await session.request('cache/load', { entries });
  lap('request');
  const loadMs = performance.now() - t0;
  for (const f of result.failed) {
    if (f.damaged && (await store.quarantine(f.id, f.reason)).ok) problems.push(`cache entry ${f.id} was damaged and has been quarantined: ${f.reason}`);
    else problems.push(`${f.id}: ${f.reason}`);
  }
  const usable = entries.filter((e) => !result.failed.some((f) => f.id === e.id)).map((e) => e.id);
  if (usable.length) void store.markUsed(usable);
  if (usable.length === 0) {
    return { status: { ...rejectedStatus(problems[0]), bytes, loadMs }, result, problems, steps };
  }
  const packages = [...new Set(valid.filter((e) => usable.includes(e.id) && e.package).map((e) => e.package!))].sort();
  return { status: loadedStatus({ methods, bytes, loadMs, reason: problems[0], packages }), result, problems, steps };
}
