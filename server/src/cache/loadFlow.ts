// Reload: the valid entries of this session's identity, verified by the store (checksums, HMAC), are handed to the
// agent, whose C loader JIT-links them into the session. Entries without requirements are installed at once; user
// methods wait for the statements that define them. A broken cache never stops the session: it runs without it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CacheStatus } from '../../../shared/src/protocol.ts';
import type { JuliaSession } from '../session/juliaSession.ts';
import { ensureProven } from './prove.ts';
import type { Store } from './store.ts';

export interface AgentLoadResult {
  linked: number;
  installed: number;
  pending: number;
  failed: { id: string; reason: string }[];
  ms: number;
}

export interface LoadOutcome {
  status: CacheStatus;
  result?: AgentLoadResult;
  /** Entries listed as unusable (stale, foreign, damaged), with reasons. */
  problems: string[];
}

export async function loadCache(session: JuliaSession, store: Store): Promise<LoadOutcome> {
  const t0 = performance.now();
  const listed = await store.listEntries();
  if (!listed.ok) return { status: { state: 'rejected', methods: 0, bytes: 0, reason: listed.error }, problems: [listed.error] };
  const problems = listed.value.filter((e) => e.state !== 'valid').map((e) => `${e.id}: ${e.reason ?? e.state}`);
  // Entries never installed before are first proven in a throwaway Julia process (prove.ts); failures are quarantined.
  const { usable: valid, problems: unproven } = await ensureProven(store, listed.value, { session });
  problems.push(...unproven);
  if (valid.length === 0) {
    const reason = problems.length ? `no usable entries (${problems[0]})` : undefined;
    return { status: { state: problems.length ? 'rejected' : 'none', methods: 0, bytes: 0, reason }, problems };
  }
  // The loader maps private copies of the verified bytes: nothing can change them between check and link.
  const dir = await mkdtemp(join(tmpdir(), 'jlcache-load-'));
  try {
    const entries = [];
    let bytes = 0;
    let methods = 0;
    for (const e of valid) {
      const r = await store.readEntry(e.id);
      if (!r.ok) {
        problems.push(r.error);
        continue;
      }
      const object = join(dir, `${e.id}.o`);
      const plan = join(dir, `${e.id}.plan`);
      await writeFile(object, r.value.object, { mode: 0o600 });
      await writeFile(plan, r.value.plan, { mode: 0o600 });
      entries.push({ id: e.id, object, plan });
      bytes += r.value.object.length + r.value.plan.length;
      methods += r.value.meta.methods.length;
    }
    if (entries.length === 0) return { status: { state: 'rejected', methods: 0, bytes: 0, reason: problems[0] }, problems };
    const result = (await session.request('cache/load', { entries })) as AgentLoadResult;
    const loadMs = performance.now() - t0;
    const usable = entries.filter((e) => !result.failed.some((f) => f.id === e.id)).map((e) => e.id);
    if (usable.length) void store.markUsed(usable);
    for (const f of result.failed) problems.push(`${f.id}: ${f.reason}`);
    if (usable.length === 0) {
      return { status: { state: 'rejected', methods: 0, bytes, loadMs, reason: problems[0] }, result, problems };
    }
    return { status: { state: 'loaded', methods, bytes, loadMs, reason: problems[0] }, result, problems };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
