// Pull: for each trusted key, the entries its index lists for this session's identity that the local store does
// not hold yet; each manifest must be signed by that key and be for this identity, each blob must have the sha256
// the manifest names. Only then is the entry written to the local store (signed there with the user's own HMAC
// key, like a saved entry), where it is verified and proven like any local entry before a session installs it.
// Anything that fails is reported with its reason and never written. Nothing local is replaced or deleted.
import { sha256Hex } from '../cache/files.ts';
import type { FileRecord } from '../cache/meta.ts';
import { ok, type Result } from '../cache/result.ts';
import type { Store } from '../cache/store.ts';
import type { TeamCache } from './connect.ts';
import { usableWith } from './workspaceSources.ts';
import { entryKeyOf, indexKeyOf, manifestKeyOf, MAX_INDEX_BYTES, MAX_MANIFEST_BYTES, readIndex, readManifest, type Manifest } from './manifest.ts';

export interface PullReport {
  /** Local ids of the entries written. */
  pulled: string[];
  methods: number;
  /** Listed entries the local store already had. */
  present: number;
  /** Listed entries whose code is not in the given sources (edited since, or another project's): not downloaded. */
  stale: number;
  bytesReceived: number;
  ms: number;
  /** One sentence per entry (or index) that was not installed, with the reason. */
  problems: string[];
  /** Set when the pull stopped early (server unreachable, out of time): what it got so far is kept. */
  stopped?: string;
}

interface Candidate {
  entryKey: string;
  signer: string;
}

/** Entries fetched at once: enough to hide loopback and LAN latency, few enough not to flood a small server. */
const PARALLEL = 4;

/** With `sources` (workspaceSources.ts), entries none of whose methods those sources define are skipped. */
export async function pullCache(store: Store, remote: TeamCache, sources?: ReadonlySet<string>): Promise<PullReport> {
  const t0 = performance.now();
  const report: PullReport = { pulled: [], methods: 0, present: 0, stale: 0, bytesReceived: 0, ms: 0, problems: [] };
  const finish = () => ({ ...report, bytesReceived: remote.http.transfer.received, ms: performance.now() - t0 });
  const local = await localEntryKeys(store);
  if (!local.ok) return { ...finish(), stopped: local.error };
  const candidates: Candidate[] = [];
  for (const signer of remote.trusted) {
    const listed = await listedBy(store, remote, signer);
    if (!listed.ok) return { ...finish(), stopped: listed.error };
    if (typeof listed.value === 'string') report.problems.push(listed.value);
    else for (const entryKey of listed.value.reverse()) {
      if (local.value.has(entryKey)) report.present++;
      else if (!candidates.some((c) => c.entryKey === entryKey)) candidates.push({ entryKey, signer });
    }
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < candidates.length && !report.stopped) {
      const c = candidates[next++];
      const r = await pullEntry(store, remote, c, sources);
      if (!r.ok) report.stopped ??= r.error;
      else if (r.value === 'stale') report.stale++;
      else if (typeof r.value === 'string') report.problems.push(r.value);
      else {
        report.pulled.push(r.value.id);
        report.methods += r.value.methods;
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return finish();
}

/** A signer's entry keys for this identity (oldest first), a problem sentence, or a failed Result (network). */
async function listedBy(store: Store, remote: TeamCache, signer: string): Promise<Result<string[] | string>> {
  const got = await remote.http.get('ac', indexKeyOf(store.identity.key, signer), MAX_INDEX_BYTES);
  if (!got.ok) return got;
  if (!got.value) return ok([]);
  if (got.value.length > MAX_INDEX_BYTES) return ok(`team cache index of ${signer} is larger than ${MAX_INDEX_BYTES} bytes; its entries are not installed`);
  const index = readIndex(got.value, { signer, trusted: remote.trusted, identity: store.identity });
  return ok(index.ok ? index.value.entries : `team cache index of ${signer}: ${index.error}; its entries are not installed`);
}

/** The written entry, 'stale', a problem sentence (entry refused), or a failed Result (network: stop pulling). */
async function pullEntry(store: Store, remote: TeamCache, c: Candidate, sources?: ReadonlySet<string>): Promise<Result<{ id: string; methods: number } | string>> {
  const what = `team cache entry ${c.entryKey.slice(0, 12)}`;
  const got = await remote.http.get('ac', manifestKeyOf(c.entryKey, c.signer), MAX_MANIFEST_BYTES);
  if (!got.ok) return got;
  if (!got.value) return ok(`${what} is listed but its manifest is missing on the server (404): not installed`);
  if (got.value.length > MAX_MANIFEST_BYTES) return ok(`${what} is not installed: its manifest is larger than ${MAX_MANIFEST_BYTES} bytes`);
  const manifest = readManifest(got.value, c.entryKey, { signer: c.signer, trusted: remote.trusted, identity: store.identity });
  if (!manifest.ok) return ok(`${what} is not installed: its manifest is ${manifest.error.startsWith('made for') ? '' : 'refused: '}${manifest.error}`);
  if (sources && !usableWith(manifest.value.methods, sources)) return ok('stale');
  const size = manifest.value.blobs.object.bytes + manifest.value.blobs.plan.bytes;
  if (size > store.maxBytes) return ok(`${what} is not installed: it is ${size} bytes, more than the cache limit (julia.cache.maxCacheMB)`);
  const blobs = await Promise.all(blobsOf(manifest.value).map(([name, want]) => fetchBlob(remote, name, want)));
  const bytes: Buffer[] = [];
  for (const b of blobs) {
    if (!b.ok) return b;
    if (typeof b.value === 'string') return ok(`${what} is not installed: ${b.value}`);
    bytes.push(b.value);
  }
  const [object, plan] = bytes;
  const written = await store.writeEntry({ object, plan, methods: manifest.value.methods });
  if (!written.ok) return ok(`${what} is not installed: ${written.error}`);
  return ok({ id: written.value, methods: manifest.value.methods.length });
}

/** The blob's bytes if they are what the manifest names, else why not (a sentence), or a failed Result (network). */
async function fetchBlob(remote: TeamCache, name: string, want: FileRecord): Promise<Result<Buffer | string>> {
  const blob = await remote.http.get('cas', want.sha256, want.bytes);
  if (!blob.ok) return blob;
  if (!blob.value) return ok(`its ${name} is missing on the server (404)`);
  if (blob.value.length !== want.bytes || sha256Hex(blob.value) !== want.sha256) return ok(`its ${name} on the server is corrupted (sha256 mismatch)`);
  return ok(blob.value);
}

function blobsOf(m: Manifest): [string, FileRecord][] {
  return [['object.o', m.blobs.object], ['plan.bin', m.blobs.plan]];
}

/** Entry keys of the valid local entries of this identity: what a pull need not fetch. */
async function localEntryKeys(store: Store): Promise<Result<Set<string>>> {
  const listed = await store.listEntries();
  if (!listed.ok) return listed;
  return ok(new Set(listed.value.filter((e) => e.state === 'valid' && e.meta).map((e) => entryKeyOf(store.identity, e.meta!.methods))));
}
