// Decides what one entry directory is: valid for this Julia, stale (made for another identity), rejected
// (not signed by this user: left alone), or damaged (truncated, corrupted, incomplete, tampered: to be
// quarantined). When asked to, it also reads the files and checks their sha256, so the bytes it returns are
// exactly the bytes that were verified (no window between checking a file and handing it over).
import { lstat } from 'node:fs/promises';
import * as path from 'node:path';
import { describeMismatch, type Identity } from './identity.ts';
import { readRegularFile, sha256Hex } from './files.ts';
import type { SigningKey } from './hmacKey.ts';
import { checkProof, checkSignature, MAX_FILE_BYTES, MAX_META_BYTES, MAX_PROOF_BYTES, parseMeta, type EntryMeta } from './meta.ts';
import { META_FILE, OBJECT_FILE, PLAN_FILE, PROOF_FILE } from './paths.ts';
import { errnoCode } from './result.ts';

export type Inspection =
  | { state: 'gone' }
  | { state: 'valid'; meta: EntryMeta; bytes: number; proven: boolean; object?: Buffer; plan?: Buffer }
  | { state: 'stale'; meta: EntryMeta; reason: string; bytes: number }
  | { state: 'rejected'; reason: string; damaged: boolean; meta?: EntryMeta };

export interface InspectContext {
  key: SigningKey;
  current: Identity;
  /** The identity directory the entry was found in. */
  dirIdentityKey: string;
  /** 'stat': sizes only (cheap listing); 'verify': sha256 of both files; 'read': verify and return the bytes. */
  files: 'stat' | 'verify' | 'read';
}

export async function inspectEntry(dir: string, id: string, ctx: InspectContext): Promise<Inspection> {
  const damaged = async (reason: string): Promise<Inspection> =>
    (await exists(dir)) ? { state: 'rejected', reason, damaged: true } : { state: 'gone' };

  const dirStat = await lstatOrNull(dir);
  if (dirStat === null) return { state: 'gone' };
  if (!dirStat.isDirectory() || dirStat.isSymbolicLink()) return damaged('the entry is not a plain directory');

  const metaRead = await readRegularFile(path.join(dir, META_FILE), MAX_META_BYTES);
  if (!metaRead.ok) return damaged(`incomplete entry: ${META_FILE} is ${describeMissing(metaRead.why)}`);
  const parsed = parseMeta(metaRead.data.toString('utf8'));
  if (!parsed.ok) return damaged(parsed.error);
  const meta = parsed.value;
  if (meta.id !== id) return damaged(`${META_FILE} describes entry "${meta.id}" but is stored as "${id}"`);

  const signature = checkSignature(meta, ctx.key);
  if (signature === 'foreign') return { state: 'rejected', reason: 'not created by this user: ignored', damaged: false, meta };
  if (signature === 'tampered') return damaged(`${META_FILE} was modified after it was written (signature mismatch)`);
  if (meta.identity.key !== ctx.dirIdentityKey) return damaged('the entry is stored under another identity than the one it was saved for');

  const total = metaRead.data.length + meta.files.object.bytes + meta.files.plan.bytes;
  if (ctx.dirIdentityKey !== ctx.current.key) {
    return { state: 'stale', meta, bytes: total, reason: describeMismatch(meta.identity, ctx.current) ?? 'saved for another Julia' };
  }

  const loaded: Record<'object' | 'plan', Buffer | undefined> = { object: undefined, plan: undefined };
  for (const [which, name] of [['object', OBJECT_FILE], ['plan', PLAN_FILE]] as const) {
    const want = meta.files[which];
    const file = path.join(dir, name);
    if (ctx.files === 'stat') {
      const st = await lstatOrNull(file);
      if (st === null) return damaged(`incomplete entry: ${name} is missing`);
      if (!st.isFile()) return damaged(`${name} is not a regular file`);
      if (st.size !== want.bytes) return damaged(sizeReason(name, st.size, want.bytes));
      continue;
    }
    const r = await readRegularFile(file, MAX_FILE_BYTES);
    if (!r.ok) return damaged(`incomplete entry: ${name} is ${describeMissing(r.why)}`);
    if (r.data.length !== want.bytes) return damaged(sizeReason(name, r.data.length, want.bytes));
    if (sha256Hex(r.data) !== want.sha256) return damaged(`${name} is corrupted (sha256 mismatch)`);
    if (ctx.files === 'read') loaded[which] = r.data;
  }
  // A missing, foreign or outdated proof only means the entry is proven (again) before it is installed.
  const proof = await readRegularFile(path.join(dir, PROOF_FILE), MAX_PROOF_BYTES);
  const proven = proof.ok && checkProof(proof.data.toString('utf8'), meta, ctx.key);
  return { state: 'valid', meta, bytes: total, proven, object: loaded.object, plan: loaded.plan };
}

function sizeReason(name: string, actual: number, expected: number): string {
  return actual < expected
    ? `${name} is truncated (${actual} of ${expected} bytes)`
    : `${name} has ${actual} bytes, expected ${expected}`;
}

function describeMissing(why: 'missing' | 'not-a-file' | 'too-large'): string {
  return why === 'missing' ? 'missing' : why === 'not-a-file' ? 'not a regular file' : 'too large';
}

async function lstatOrNull(p: string) {
  try {
    return await lstat(p);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return null;
    throw e;
  }
}

/** An entry deleted or quarantined by another process while we looked at it is "gone", not damaged. */
async function exists(p: string): Promise<boolean> {
  return (await lstatOrNull(p)) !== null;
}
