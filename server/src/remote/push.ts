// Push: every valid local entry that this user's key has not published yet (or whose manifest on the server is not
// this user's valid one) goes to the team cache, blobs first
// (skipped when the server has them), then the signed manifest, then the signer's index, so a reader never finds a
// manifest whose blobs are not there yet. An interrupted push leaves only unreferenced blobs, which a later push
// reuses. Nothing local is changed.
import type { Store } from '../cache/store.ts';
import { fail, ok, type Result } from '../cache/result.ts';
import { pauseAt } from '../cache/testPause.ts';
import type { TeamCache } from './connect.ts';
import { entryKeyOf, indexKeyOf, manifestKeyOf, MAX_INDEX_BYTES, MAX_MANIFEST_BYTES, readIndex, readManifest, signIndex, signManifest } from './manifest.ts';

export interface PushReport {
  pushed: number;
  /** Entries the server already had from this key. */
  present: number;
  bytesSent: number;
  ms: number;
  problems: string[];
}

/** Concurrent pushers with the same key may overwrite each other's index: re-read and merge this many times. */
const INDEX_ATTEMPTS = 3;

export async function pushCache(store: Store, remote: TeamCache, only?: ReadonlySet<string>): Promise<Result<PushReport>> {
  const t0 = performance.now();
  const report: PushReport = { pushed: 0, present: 0, bytesSent: 0, ms: 0, problems: [] };
  const listed = await store.listEntries();
  if (!listed.ok) return listed;
  const published = await readOwnIndex(store, remote);
  if (!published.ok) return published;
  const mine: string[] = [];
  for (const e of listed.value) {
    if (e.state !== 'valid' || !e.meta || (only && !only.has(e.id))) continue;
    const entryKey = entryKeyOf(store.identity, e.meta.methods);
    const manifestKey = manifestKeyOf(entryKey, remote.key.publicText);
    const there = published.value.has(entryKey) ? await hasOwnManifest(store, remote, entryKey, manifestKey) : ok(false);
    if (!there.ok) return there;
    const sent = there.value ? ok(null) : await pushEntry(store, remote, e.id, manifestKey);
    if (!sent.ok) return sent;
    if (sent.value) {
      report.problems.push(sent.value);
      continue;
    }
    mine.push(entryKey);
    if (there.value) report.present++;
    else report.pushed++;
  }
  if (report.pushed > 0) {
    const indexed = await publishIndex(store, remote, mine);
    if (!indexed.ok) return indexed;
  }
  return ok({ ...report, bytesSent: remote.http.transfer.sent, ms: performance.now() - t0 });
}

/** Uploads one entry; a problem sentence for an entry that cannot be read locally, or a failed Result. */
async function pushEntry(store: Store, remote: TeamCache, id: string, manifestKey: string): Promise<Result<string | null>> {
  const read = await store.readEntry(id);
  if (!read.ok) return ok(read.error);
  const { meta, object, plan } = read.value;
  for (const [blob, bytes] of [[meta.files.object, object], [meta.files.plan, plan]] as const) {
    const has = await remote.http.has('cas', blob.sha256);
    if (!has.ok) return has;
    if (has.value) continue;
    const put = await remote.http.put('cas', blob.sha256, bytes);
    if (!put.ok) return put;
  }
  pauseAt('remote-blobs-pushed');
  const manifest = signManifest({ identity: store.identity, methods: meta.methods, blobs: meta.files }, remote.key);
  const put = await remote.http.put('ac', manifestKey, Buffer.from(JSON.stringify(manifest)));
  return put.ok ? ok(null) : put;
}

/** Whether the server holds this user's valid manifest of the entry (a damaged or replaced one is pushed again). */
async function hasOwnManifest(store: Store, remote: TeamCache, entryKey: string, manifestKey: string): Promise<Result<boolean>> {
  const got = await remote.http.get('ac', manifestKey, MAX_MANIFEST_BYTES);
  if (!got.ok) return got;
  return ok(got.value !== null && readManifest(got.value, entryKey, ownExpectation(store, remote)).ok);
}

function ownExpectation(store: Store, remote: TeamCache) {
  return { signer: remote.key.publicText, trusted: new Set([remote.key.publicText]), identity: store.identity };
}

/** The entry keys this user's index lists for the store's identity (none when there is no readable index). */
async function readOwnIndex(store: Store, remote: TeamCache): Promise<Result<Set<string>>> {
  const got = await remote.http.get('ac', indexKeyOf(store.identity.key, remote.key.publicText), MAX_INDEX_BYTES);
  if (!got.ok) return got;
  if (!got.value) return ok(new Set());
  const index = readIndex(got.value, ownExpectation(store, remote));
  // A damaged index is replaced by the next write; its entries are pushed again.
  return ok(new Set(index.ok ? index.value.entries : []));
}

async function publishIndex(store: Store, remote: TeamCache, mine: string[]): Promise<Result<void>> {
  const key = indexKeyOf(store.identity.key, remote.key.publicText);
  for (let attempt = 0; attempt < INDEX_ATTEMPTS; attempt++) {
    const current = await readOwnIndex(store, remote);
    if (!current.ok) return current;
    if (mine.every((k) => current.value.has(k))) return ok(undefined);
    const merged = [...[...current.value].filter((k) => !mine.includes(k)), ...mine];
    const put = await remote.http.put('ac', key, Buffer.from(JSON.stringify(signIndex(store.identity.key, merged, remote.key))));
    if (!put.ok) return put;
  }
  const check = await readOwnIndex(store, remote);
  if (!check.ok) return check;
  return mine.every((k) => check.value.has(k)) ? ok(undefined) : fail('another push kept replacing the team cache index; push again');
}
