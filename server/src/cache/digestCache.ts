// sha256 of large, rarely changing files (the 188 MB sys.so, libjulia), remembered across sessions in the
// user's cache directory. A remembered digest is reused only while the file's device, inode, size, mtime and
// ctime are all unchanged; ctime cannot be set back by a user, so a replaced or rewritten file is re-hashed.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, realpath, rename, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { readRegularFile, writeNewFile } from './files.ts';

interface Remembered {
  dev: string;
  ino: string;
  size: string;
  mtimeNs: string;
  ctimeNs: string;
  sha256: string;
  at: number;
}

const CACHE_FILE = 'file-digests.json';
const MAX_REMEMBERED = 32;

export function defaultDigestCacheDir(): string {
  const cache = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(cache, 'julia-compiled-cache');
}

/** The sha256 of `file`, from the digest cache when the file has not changed since it was hashed. */
export async function cachedFileSha256(file: string, cacheDir = defaultDigestCacheDir()): Promise<{ sha256: string; fromCache: boolean }> {
  const real = await realpath(file);
  const before = await fingerprint(real);
  const store = await readCache(cacheDir);
  const hit = store[real];
  if (hit && sameFile(hit, before)) return { sha256: hit.sha256, fromCache: true };

  const sha256 = await hashFile(real);
  const after = await fingerprint(real);
  if (sameFile(after, before)) {
    // Re-read just before writing so concurrent sessions mostly keep each other's digests; losing one only
    // costs a re-hash later.
    const latest = await readCache(cacheDir);
    latest[real] = { ...after, sha256, at: Date.now() };
    await writeCache(cacheDir, latest);
  }
  return { sha256, fromCache: false };
}

async function fingerprint(file: string): Promise<Omit<Remembered, 'sha256' | 'at'>> {
  const st = await stat(file, { bigint: true });
  return { dev: String(st.dev), ino: String(st.ino), size: String(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs) };
}

function sameFile(a: Omit<Remembered, 'sha256' | 'at'>, b: Omit<Remembered, 'sha256' | 'at'>): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file, { highWaterMark: 1 << 20 })
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

async function readCache(dir: string): Promise<Record<string, Remembered>> {
  try {
    const r = await readRegularFile(path.join(dir, CACHE_FILE), 1 << 20);
    if (!r.ok) return {};
    const parsed: unknown = JSON.parse(r.data.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    const out: Record<string, Remembered> = {};
    for (const [k, v] of Object.entries(parsed)) {
      const e = v as Partial<Remembered>;
      const fields = [e.dev, e.ino, e.size, e.mtimeNs, e.ctimeNs];
      if (fields.every((f) => typeof f === 'string') && typeof e.sha256 === 'string' && /^[0-9a-f]{64}$/.test(e.sha256)) {
        out[k] = e as Remembered;
      }
    }
    return out;
  } catch {
    return {}; // a damaged digest cache only costs a re-hash
  }
}

async function writeCache(dir: string, entries: Record<string, Remembered>): Promise<void> {
  const kept = Object.entries(entries)
    .sort((a, b) => (b[1].at ?? 0) - (a[1].at ?? 0))
    .slice(0, MAX_REMEMBERED);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `${CACHE_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  await writeNewFile(tmp, JSON.stringify(Object.fromEntries(kept)));
  await rename(tmp, path.join(dir, CACHE_FILE));
}
