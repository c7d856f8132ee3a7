// The compiled-code cache store: entries of (object.o, plan.bin, meta.json) under
// <root>/v<format>/<identityKey>/entries/<id>/ (layout in paths.ts). Guarantees:
// - only this Julia build / CPU / TLS offset / format uses an entry (identity.ts);
// - bytes handed out are the bytes whose sha256 was checked (integrity.ts);
// - an entry becomes visible only complete: written under <root>/tmp, fsynced, meta last, then renamed;
//   deleted by renaming it away first;
// - damaged entries are quarantined with a reason, entries not signed by this user are ignored (meta.ts);
// - writers (save, lastUsedAt, eviction, clear) hold a cross-process lock (lock.ts); readers need none;
// - every path comes from validated names and stays under the root; no symlink is followed (paths.ts).
// Every method returns a Result: nothing thrown inside escapes.
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, realpath, rename, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { chooseVictims, type EvictionCandidate } from './eviction.ts';
import { fsyncDir, listDir, readRegularFile, removeViaTrash, sha256Hex, treeBytes, writeNewFile } from './files.ts';
import { loadOrCreateKey, type SigningKey } from './hmacKey.ts';
import { checkIdentityRecord, type Identity } from './identity.ts';
import { inspectEntry, type Inspection } from './integrity.ts';
import { withLock } from './lock.ts';
import { checkMethods, MAX_FILE_BYTES, signMeta, signProof, type EntryMeta, type MethodRecord, type ProofRecord } from './meta.ts';
import {
  ENTRY_ID, FORMAT_DIR, FORMAT_VERSION, IDENTITY_KEY, META_FILE, OBJECT_FILE, PLAN_FILE, PROOF_FILE,
  childPath, ensureRealDir, isInside, layoutOf, type Layout,
} from './paths.ts';
import { pruneQuarantine, quarantineEntry } from './quarantine.ts';
import { errnoCode, fail, guard, ok, type Result } from './result.ts';
import { entryLabel, packageOf } from './entryLabel.ts';
import { pauseAt } from './testPause.ts';

export interface StoreOptions {
  /** Size cap of the whole cache root in MB (default 512); writes evict least recently used entries. */
  maxMB?: number;
  /** Directory of the per-user signing key (default: $JLCACHE_KEY_DIR or ~/.config/julia-compiled-cache). */
  keyDir?: string;
  /** How long a writer waits for another process's lock (default 15 s). */
  lockTimeoutMs?: number;
}

export interface EntryListing {
  id: string;
  /** The first method signature, and how many more. */
  label: string;
  methods: string[];
  bytes: number;
  createdAt?: string;
  lastUsedAt?: string;
  state: 'valid' | 'stale' | 'rejected';
  reason?: string;
  /** True when this listing moved the entry to quarantine (reported this once; it is gone afterwards). */
  quarantined?: boolean;
  /** Valid entries: a throwaway Julia process already linked and installed exactly these bytes (prove.ts). */
  proven?: boolean;
  /** Present for entries signed by this user. */
  meta?: EntryMeta;
  /** A package cache: the package every method needs and nothing but packages (entryLabel.ts packageOf). */
  package?: string;
}

export interface VerifiedEntry {
  id: string;
  meta: EntryMeta;
  object: Buffer;
  plan: Buffer;
  /** Where the files are; the buffers above are the verified copies. */
  objectPath: string;
  planPath: string;
}

export interface WriteRequest {
  object: Buffer | string;
  plan: Buffer | string;
  methods: MethodRecord[];
}

/** An entry location found on disk. */
interface Found {
  id: string;
  dir: string;
  formatVersion: number;
  identityKey: string;
}

const DEFAULT_MAX_MB = 512;
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
/** lastUsedAt is rewritten at most this often per entry: marking an entry used stays cheap. */
const USE_RESOLUTION_MS = 60_000;

export async function openStore(root: string, identity: Identity, opts: StoreOptions = {}): Promise<Result<Store>> {
  return guard('cannot open the compiled-code cache', async () => {
    const idWhy = checkIdentityRecord(identity);
    if (idWhy) return fail(`invalid identity: ${idWhy}`);
    if (identity.formatVersion !== FORMAT_VERSION) return fail(`identity is for cache format v${identity.formatVersion}`);
    const maxMB = opts.maxMB ?? DEFAULT_MAX_MB;
    if (!(maxMB > 0)) return fail('maxMB must be a positive number');

    await mkdir(root, { recursive: true, mode: 0o700 });
    const rootReal = await realpath(root);
    const key = await loadOrCreateKey(opts.keyDir);
    if (!key.ok) return key;
    if (isInside(await realpath(key.value.file), rootReal)) {
      return fail(`the signing key ${key.value.file} is inside the cache root; keep it outside any workspace`);
    }
    const store = new Store(layoutOf(rootReal, identity.key), identity, key.value, maxMB * 1024 * 1024, opts.lockTimeoutMs);
    const bad = await store.ensureDirs();
    return bad ? fail(bad) : ok(store);
  });
}

export class Store {
  constructor(
    readonly layout: Layout,
    readonly identity: Identity,
    private readonly key: SigningKey,
    readonly maxBytes: number,
    private readonly lockTimeoutMs: number | undefined,
  ) {}

  /** Every entry under the root: valid for this Julia, stale (another identity or format), or rejected. */
  listEntries(opts: { verifyFiles?: boolean } = {}): Promise<Result<EntryListing[]>> {
    return guard('cannot list the cache', async () => {
      const out: EntryListing[] = [];
      for (const f of await this.scan()) {
        const listing = await this.listOne(f, opts.verifyFiles ? 'verify' : 'stat');
        if (listing) out.push(listing);
      }
      return ok(out);
    });
  }

  /** The entry's files, verified against meta.json's digests and signature, or why they cannot be used. */
  readEntry(id: string): Promise<Result<VerifiedEntry>> {
    return guard(`cannot read cache entry ${String(id).slice(0, 64)}`, async () => {
      const dir = typeof id === 'string' ? childPath(this.layout.entriesDir, id, ENTRY_ID) : null;
      if (!dir) return fail(`"${String(id).slice(0, 64)}" is not a cache entry id`);
      const r = await inspectEntry(dir, id, this.context('read'));
      if (r.state === 'valid' && r.object && r.plan) {
        return ok({ id, meta: r.meta, object: r.object, plan: r.plan, objectPath: path.join(dir, OBJECT_FILE), planPath: path.join(dir, PLAN_FILE) });
      }
      if (r.state === 'rejected' && r.damaged) {
        await quarantineEntry(this.layout.quarantineDir, dir, id, r.reason);
        return fail(`cache entry ${id} was damaged and has been quarantined: ${r.reason}`);
      }
      if (r.state === 'rejected' || r.state === 'stale') return fail(`cache entry ${id}: ${r.reason}`);
      return fail(`there is no cache entry ${id}`);
    });
  }

  /**
   * Where a valid listed entry's files are, with the sha256 digests its signed meta names: the loader reads each file
   * once and checks the digest on the bytes it links. Null for anything but a valid entry of this identity.
   */
  entryFiles(e: EntryListing): { object: string; objectSha256: string; plan: string; planSha256: string; bytes: number; methods: number } | null {
    const dir = e.state === 'valid' && e.meta ? childPath(this.layout.entriesDir, e.id, ENTRY_ID) : null;
    if (!dir || !e.meta) return null;
    const { object, plan } = e.meta.files;
    return {
      object: path.join(dir, OBJECT_FILE), objectSha256: object.sha256, plan: path.join(dir, PLAN_FILE), planSha256: plan.sha256,
      bytes: object.bytes + plan.bytes, methods: e.meta.methods.length,
    };
  }

  /** Saves one entry and returns its id; then evicts least recently used entries beyond the size cap. */
  writeEntry(req: WriteRequest): Promise<Result<string>> {
    return guard('cannot save to the cache', async () => {
      if (typeof req !== 'object' || req === null) return fail('nothing to save');
      const methodsWhy = checkMethods(req.methods, true);
      if (methodsWhy) return fail(`invalid entry: ${methodsWhy}`);
      const object = await bytesOf(req.object, 'object');
      if (!object.ok) return object;
      if (!object.value.subarray(0, 4).equals(ELF_MAGIC)) return fail('the object to save is not an ELF file');
      const plan = await bytesOf(req.plan, 'plan');
      if (!plan.ok) return plan;
      const size = object.value.length + plan.value.length;
      if (size > this.maxBytes) {
        return fail(`the entry is ${mb(size)} MB, more than the cache limit of ${mb(this.maxBytes)} MB`);
      }
      const methods = req.methods.map((m) => ({ signature: m.signature, requires: [...m.requires], ...(m.compileMs === undefined ? {} : { compileMs: m.compileMs }) }));
      return this.locked(async () => {
        pauseAt('locked');
        const bad = await this.ensureDirs();
        if (bad) return fail(bad);
        await this.clearDebris();
        const id = `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
        const tmp = path.join(this.layout.tmpDir, id);
        await mkdir(tmp, { mode: 0o700 });
        pauseAt('tmp-created');
        await writeNewFile(path.join(tmp, OBJECT_FILE), object.value);
        pauseAt('object-written');
        await writeNewFile(path.join(tmp, PLAN_FILE), plan.value);
        pauseAt('plan-written');
        const now = new Date().toISOString();
        const meta = signMeta({
          formatVersion: FORMAT_VERSION,
          id,
          identity: this.identity,
          keyId: this.key.id,
          createdAt: now,
          lastUsedAt: now,
          methods,
          files: {
            object: { bytes: object.value.length, sha256: sha256Hex(object.value) },
            plan: { bytes: plan.value.length, sha256: sha256Hex(plan.value) },
          },
        }, this.key);
        // meta.json last: an entry without it is incomplete by definition.
        await writeNewFile(path.join(tmp, META_FILE), JSON.stringify(meta, null, 1));
        pauseAt('meta-written');
        await fsyncDir(tmp);
        pauseAt('tmp-synced');
        await rename(tmp, path.join(this.layout.entriesDir, id));
        pauseAt('renamed');
        await fsyncDir(this.layout.entriesDir);
        pauseAt('entries-synced');
        await this.evictLocked(this.maxBytes, new Set([id]));
        pauseAt('evicted');
        return ok(id);
      });
    });
  }

  /** Deletes one entry (of any identity or format). */
  deleteEntry(id: string): Promise<Result<void>> {
    return guard('cannot delete the cache entry', async () => {
      if (typeof id !== 'string' || !ENTRY_ID.test(id)) return fail(`"${String(id).slice(0, 64)}" is not a cache entry id`);
      return this.locked(async () => {
        const found = (await this.scan()).filter((f) => f.id === id);
        let removed = false;
        for (const f of found) removed = (await removeViaTrash(f.dir, this.layout.trashDir)) || removed;
        return removed ? ok(undefined) : fail(`there is no cache entry ${id}`);
      });
    });
  }

  /** Deletes every entry of every identity and format, and the quarantine. */
  clear(): Promise<Result<void>> {
    return guard('cannot clear the cache', async () =>
      this.locked(async () => {
        for (const name of await listDir(this.layout.root)) {
          if (FORMAT_DIR.test(name) || name === 'tmp' || name === 'quarantine') {
            await removeViaTrash(path.join(this.layout.root, name), this.layout.trashDir);
          }
        }
        await rm(this.layout.trashDir, { recursive: true, force: true });
        const bad = await this.ensureDirs();
        return bad ? fail(bad) : ok(undefined);
      }),
    );
  }

  /** Deletes entries until the whole root holds at most `maxBytes` (default: the store's cap). */
  evictToSize(maxBytes = this.maxBytes): Promise<Result<{ removed: string[]; bytes: number }>> {
    return guard('cannot evict cache entries', async () => {
      if (!(maxBytes >= 0)) return fail('the size limit must be a non-negative number');
      return this.locked(() => this.evictLocked(maxBytes, new Set()));
    });
  }

  /** Records that entries were loaded (for least-recently-used eviction). At most one write per minute each. */
  markUsed(ids: string[]): Promise<Result<void>> {
    return guard('cannot record cache use', async () => {
      if (!Array.isArray(ids)) return fail('markUsed needs a list of ids');
      const now = Date.now();
      return this.locked(async () => {
        for (const id of ids) {
          const dir = typeof id === 'string' ? childPath(this.layout.entriesDir, id, ENTRY_ID) : null;
          if (!dir) continue;
          const r = await inspectEntry(dir, id, this.context('stat'));
          // Only re-sign metadata whose signature was just verified: never launder a foreign entry.
          if (r.state !== 'valid' || now - Date.parse(r.meta.lastUsedAt) < USE_RESOLUTION_MS) continue;
          const { hmac: _old, ...unsigned } = r.meta;
          const meta = signMeta({ ...unsigned, lastUsedAt: new Date(now).toISOString() }, this.key);
          const tmp = path.join(dir, `.${META_FILE}.${randomBytes(6).toString('hex')}.tmp`);
          await writeNewFile(tmp, JSON.stringify(meta, null, 1));
          await rename(tmp, path.join(dir, META_FILE));
        }
        return ok(undefined);
      });
    });
  }

  /**
   * Records that `entry` (as read by readEntry) survived a proving process. Written only if the entry on disk
   * still has exactly those bytes, signed by this user.
   */
  recordProof(entry: VerifiedEntry, fields: Pick<ProofRecord, 'provenAt' | 'ms' | 'scope'>): Promise<Result<void>> {
    return guard(`cannot record the proof of cache entry ${entry.id}`, async () =>
      this.locked(async () => {
        const dir = childPath(this.layout.entriesDir, entry.id, ENTRY_ID);
        if (!dir) return fail(`"${entry.id}" is not a cache entry id`);
        const r = await inspectEntry(dir, entry.id, this.context('verify'));
        if (r.state !== 'valid' || r.meta.files.object.sha256 !== entry.meta.files.object.sha256 || r.meta.files.plan.sha256 !== entry.meta.files.plan.sha256) {
          return fail(`cache entry ${entry.id} changed while it was being proven`);
        }
        const tmp = path.join(dir, `.${PROOF_FILE}.${randomBytes(6).toString('hex')}.tmp`);
        await writeNewFile(tmp, JSON.stringify(signProof(r.meta, this.key, fields), null, 1));
        await rename(tmp, path.join(dir, PROOF_FILE));
        return ok(undefined);
      }),
    );
  }

  /** Moves a valid-looking entry that failed its proof to the quarantine, with the reason. */
  quarantine(id: string, reason: string): Promise<Result<void>> {
    return guard(`cannot quarantine cache entry ${String(id).slice(0, 64)}`, async () =>
      this.locked(async () => {
        const dir = typeof id === 'string' ? childPath(this.layout.entriesDir, id, ENTRY_ID) : null;
        if (!dir) return fail(`"${String(id).slice(0, 64)}" is not a cache entry id`);
        await quarantineEntry(this.layout.quarantineDir, dir, id, reason);
        return ok(undefined);
      }),
    );
  }

  /** signature -> entry id for every method in a valid entry (files verified); newest entry wins. */
  cachedSignatures(): Promise<Result<Map<string, string>>> {
    return guard('cannot read the cache', async () => {
      const listed = await this.listEntries({ verifyFiles: true });
      if (!listed.ok) return listed;
      const valid = listed.value.filter((e) => e.state === 'valid' && e.meta).sort((a, b) => a.meta!.createdAt.localeCompare(b.meta!.createdAt));
      const map = new Map<string, string>();
      for (const e of valid) for (const m of e.meta!.methods) map.set(m.signature, e.id);
      return ok(map);
    });
  }

  /** (Re)creates the store's directories, refusing symlinks; an error sentence or null. */
  async ensureDirs(): Promise<string | null> {
    const { root, entriesDir, tmpDir, trashDir, quarantineDir } = this.layout;
    for (const d of [entriesDir, tmpDir, trashDir, quarantineDir]) {
      const bad = await ensureRealDir(root, d);
      if (bad) return bad;
    }
    return null;
  }

  private context(files: 'stat' | 'verify' | 'read', dirIdentityKey = this.identity.key) {
    return { key: this.key, current: this.identity, dirIdentityKey, files };
  }

  private async locked<T>(fn: () => Promise<Result<T>>): Promise<Result<T>> {
    const r = await withLock(this.layout.lockFile, fn, { timeoutMs: this.lockTimeoutMs });
    return r.ok ? r.value : r;
  }

  /** All entry directories under the root, from names that are validated before they become paths. */
  private async scan(): Promise<Found[]> {
    const found: Found[] = [];
    for (const fname of await listDir(this.layout.root)) {
      const version = FORMAT_DIR.exec(fname);
      const fdir = version ? childPath(this.layout.root, fname, FORMAT_DIR) : null;
      if (!version || !fdir || !(await isPlainDir(fdir))) continue;
      for (const key of await listDir(fdir)) {
        const idir = childPath(fdir, key, IDENTITY_KEY);
        const edir = idir && path.join(idir, 'entries');
        if (!edir || !(await isPlainDir(idir)) || !(await isPlainDir(edir))) continue;
        for (const name of await listDir(edir)) {
          // Names that are not entry ids are still reported (and quarantined), under a sanitized id.
          found.push({ id: name, dir: path.join(edir, name), formatVersion: Number(version[1]), identityKey: key });
        }
      }
    }
    return found;
  }

  private async listOne(f: Found, files: 'stat' | 'verify'): Promise<EntryListing | null> {
    if (f.formatVersion !== FORMAT_VERSION) {
      return {
        ...describe(f.id, undefined), bytes: await treeBytes(f.dir), state: 'stale',
        reason: `written in cache format v${f.formatVersion}; this version uses v${FORMAT_VERSION}`,
      };
    }
    const r: Inspection = ENTRY_ID.test(f.id)
      ? await inspectEntry(f.dir, f.id, this.context(files, f.identityKey))
      : { state: 'rejected', reason: 'the entry directory name is not a valid entry id', damaged: true };
    if (r.state === 'gone') return null;
    if (r.state === 'rejected' && r.damaged) {
      const moved = await quarantineEntry(this.layout.quarantineDir, f.dir, f.id, r.reason);
      if (!moved) return null;
      return { ...describe(f.id, undefined), bytes: 0, state: 'rejected', reason: `quarantined: ${r.reason}`, quarantined: true };
    }
    const meta = r.state === 'rejected' ? undefined : r.meta;
    const bytes = r.state === 'rejected' ? await treeBytes(f.dir) : r.bytes;
    return { ...describe(f.id, meta), bytes, state: r.state, ...(r.state === 'valid' ? { proven: r.proven } : { reason: r.reason }), ...(meta ? { meta } : {}) };
  }

  private async evictLocked(maxBytes: number, protect: ReadonlySet<string>): Promise<Result<{ removed: string[]; bytes: number }>> {
    await this.clearDebris();
    await pruneQuarantine(this.layout.quarantineDir);
    const cands: EvictionCandidate[] = [];
    for (const f of await this.scan()) {
      const listing = await this.listOne(f, 'stat');
      if (!listing || listing.quarantined) continue;
      const usable = listing.meta !== undefined;
      const lastUsedMs = usable ? Date.parse(listing.meta!.lastUsedAt) : (await lstat(f.dir)).mtimeMs;
      cands.push({ id: f.id, dir: f.dir, bytes: listing.bytes, lastUsedMs, usable });
    }
    const removed: string[] = [];
    for (const v of chooseVictims(cands, maxBytes, protect)) {
      if (await removeViaTrash(v.dir, this.layout.trashDir)) removed.push(v.id);
    }
    const bytes = cands.filter((c) => !removed.includes(c.id)).reduce((s, c) => s + c.bytes, 0);
    return ok({ removed, bytes });
  }

  /** Leftovers of writers and deleters that died: only called with the lock held, so nothing is in use. */
  private async clearDebris(): Promise<void> {
    for (const dir of [this.layout.tmpDir, this.layout.trashDir]) {
      for (const name of await listDir(dir)) await rm(path.join(dir, name), { recursive: true, force: true });
    }
    // Temp files of lock attempts by processes that died; a live attempt's file exists for microseconds.
    for (const name of await listDir(this.layout.root)) {
      const file = path.join(this.layout.root, name);
      if (!/^\.lock(\.break)?\.[0-9a-f]+\.tmp$/.test(name)) continue;
      // Another process's attempt may vanish between the listing and the stat: that is not an error.
      const st = await lstat(file).catch((e) => (errnoCode(e) === 'ENOENT' ? null : Promise.reject(e)));
      if (st && Date.now() - st.mtimeMs > 60_000) await rm(file, { force: true });
    }
  }
}

function describe(id: string, meta: EntryMeta | undefined): Pick<EntryListing, 'id' | 'label' | 'methods' | 'createdAt' | 'lastUsedAt' | 'package'> {
  const methods = meta ? meta.methods.map((m) => m.signature) : [];
  const pkg = meta ? packageOf(meta.methods.map((m) => m.requires)) : undefined;
  return {
    id, label: entryLabel(id, methods), methods,
    ...(meta ? { createdAt: meta.createdAt, lastUsedAt: meta.lastUsedAt } : {}), ...(pkg ? { package: pkg } : {}),
  };
}

async function bytesOf(v: Buffer | string, what: string): Promise<Result<Buffer>> {
  if (Buffer.isBuffer(v)) return ok(v);
  if (typeof v !== 'string') return fail(`${what} must be a Buffer or a file path`);
  const r = await readRegularFile(v, MAX_FILE_BYTES);
  if (!r.ok) return fail(`cannot read the ${what} file ${v}: it is ${r.why === 'missing' ? 'missing' : r.why === 'too-large' ? 'too large' : 'not a regular file'}`);
  return ok(r.data);
}

async function isPlainDir(p: string): Promise<boolean> {
  try {
    const st = await lstat(p);
    return st.isDirectory() && !st.isSymbolicLink();
  } catch {
    return false;
  }
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
