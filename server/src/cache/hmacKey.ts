// The per-user secret that signs meta.json. It lives outside any workspace (default
// ~/.config/julia-compiled-cache/key, mode 0600, created on first use), so a cache directory that was cloned
// with a repository or copied from another user carries no valid signature and is never loaded.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { lstat, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { publishNewFile, readRegularFile, sha256Hex } from './files.ts';
import { errnoCode, fail, ok, type Result } from './result.ts';

export interface SigningKey {
  secret: Buffer;
  /** A public fingerprint of the key, stored in meta.json to tell "another user's entry" from "tampered". */
  id: string;
  file: string;
}

export function defaultKeyDir(): string {
  if (process.env.JLCACHE_KEY_DIR) return path.resolve(process.env.JLCACHE_KEY_DIR);
  const config = process.env.XDG_CONFIG_HOME || path.join(homedir(), '.config');
  return path.join(config, 'julia-compiled-cache');
}

/** Loads the key from `dir` (default: defaultKeyDir()), creating it if this user has none yet. */
export async function loadOrCreateKey(dir = defaultKeyDir()): Promise<Result<SigningKey>> {
  const file = path.join(dir, 'key');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 3; attempt++) {
    const read = await readKey(file);
    if (read !== 'missing') return read;
    await publishNewFile(file, `${randomBytes(32).toString('hex')}\n`);
  }
  return fail(`could not create the cache signing key ${file}`);
}

async function readKey(file: string): Promise<Result<SigningKey> | 'missing'> {
  let st;
  try {
    st = await lstat(file);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return 'missing';
    throw e;
  }
  if (!st.isFile()) return fail(`the cache signing key ${file} is not a regular file; delete it to create a new one`);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    return fail(`the cache signing key ${file} belongs to another user (uid ${st.uid}); delete it to create your own`);
  }
  if ((st.mode & 0o077) !== 0) {
    return fail(`the cache signing key ${file} is readable by other users (mode ${(st.mode & 0o777).toString(8)}): run chmod 600 on it`);
  }
  const r = await readRegularFile(file, 1024);
  const text = r.ok ? r.data.toString('utf8').trim() : '';
  if (!/^[0-9a-f]{64}$/.test(text)) return fail(`the cache signing key ${file} is damaged; delete it (saved entries will be rebuilt)`);
  const secret = Buffer.from(text, 'hex');
  return { ok: true, value: { secret, id: sha256Hex(Buffer.concat([Buffer.from('jlcache key id\0'), secret])).slice(0, 16), file } };
}

export function hmacHex(key: SigningKey, text: string): string {
  return createHmac('sha256', key.secret).update(text).digest('hex');
}

export function hmacEquals(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * A canonical serialisation (object keys sorted, no whitespace) so the signature depends on the content of
 * meta.json, not on how it was formatted. Throws on values JSON cannot represent exactly.
 */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error('non-finite number');
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (typeof v === 'object') {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  throw new Error(`cannot serialise a ${typeof v}`);
}
