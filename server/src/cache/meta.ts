// meta.json: what an entry holds, the digests of its files, and a signature (HMAC-SHA256 with the user's key
// over the canonical form of everything else). parseMeta treats the file as hostile input: exact field set,
// types, sizes and formats, and it never throws.
import { checkIdentityRecord, type Identity } from './identity.ts';
import { canonicalJson, hmacEquals, hmacHex, type SigningKey } from './hmacKey.ts';
import { ENTRY_ID, FORMAT_VERSION } from './paths.ts';
import { errorText, fail, ok, type Result } from './result.ts';

export interface MethodRecord {
  signature: string;
  /** Statement / package digests the loader checks before installing the method ("stmt:<hash>", ...). */
  requires: string[];
  compileMs?: number;
}

export interface FileRecord {
  bytes: number;
  sha256: string;
}

export interface EntryMeta {
  formatVersion: number;
  id: string;
  identity: Identity;
  /** Fingerprint of the signing key (see hmacKey.ts). */
  keyId: string;
  createdAt: string;
  lastUsedAt: string;
  methods: MethodRecord[];
  files: { object: FileRecord; plan: FileRecord };
  hmac: string;
}

export type UnsignedMeta = Omit<EntryMeta, 'hmac'>;

export const MAX_META_BYTES = 16 << 20;
export const MAX_FILE_BYTES = 2 ** 31;
const MAX_METHODS = 200_000;
const MAX_REQUIRES = 10_000;
const MAX_SIGNATURE = 16_384;
const MAX_REQUIREMENT = 1_024;
const SHA256 = /^[0-9a-f]{64}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

export function signMeta(meta: UnsignedMeta, key: SigningKey): EntryMeta {
  return { ...meta, hmac: hmacHex(key, canonicalJson(meta)) };
}

/** 'ok', 'foreign' (signed with another key: another user, another machine) or 'tampered'. */
export function checkSignature(meta: EntryMeta, key: SigningKey): 'ok' | 'foreign' | 'tampered' {
  if (meta.keyId !== key.id) return 'foreign';
  const { hmac, ...unsigned } = meta;
  return hmacEquals(hmac, hmacHex(key, canonicalJson(unsigned))) ? 'ok' : 'tampered';
}

export function parseMeta(text: string): Result<EntryMeta> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return fail(`meta.json is not valid JSON (${errorText(e)})`);
  }
  const why = checkMeta(v);
  return why === null ? ok(v as EntryMeta) : fail(`meta.json is malformed: ${why}`);
}

function checkMeta(v: unknown): string | null {
  if (!isRecord(v)) return 'not an object';
  const extra = unexpectedKey(v, ['formatVersion', 'id', 'identity', 'keyId', 'createdAt', 'lastUsedAt', 'methods', 'files', 'hmac']);
  if (extra) return extra;
  if (v.formatVersion !== FORMAT_VERSION) return `formatVersion is ${JSON.stringify(v.formatVersion)}, expected ${FORMAT_VERSION}`;
  if (typeof v.id !== 'string' || !ENTRY_ID.test(v.id)) return 'id is not a valid entry id';
  const idWhy = checkIdentityRecord(v.identity);
  if (idWhy) return idWhy;
  if (typeof v.keyId !== 'string' || !/^[0-9a-f]{16}$/.test(v.keyId)) return 'keyId is not a key fingerprint';
  for (const k of ['createdAt', 'lastUsedAt'] as const) {
    if (typeof v[k] !== 'string' || !ISO_TIME.test(v[k] as string) || Number.isNaN(Date.parse(v[k] as string))) return `${k} is not a UTC timestamp`;
  }
  if (typeof v.hmac !== 'string' || !SHA256.test(v.hmac)) return 'hmac is not a hex HMAC-SHA256';
  const filesWhy = checkFiles(v.files);
  if (filesWhy) return filesWhy;
  return checkMethods(v.methods);
}

function checkFiles(v: unknown): string | null {
  if (!isRecord(v)) return 'files is not an object';
  const extra = unexpectedKey(v, ['object', 'plan']);
  if (extra) return `files: ${extra}`;
  for (const name of ['object', 'plan'] as const) {
    const f = v[name];
    if (!isRecord(f)) return `files.${name} is missing`;
    const e = unexpectedKey(f, ['bytes', 'sha256']);
    if (e) return `files.${name}: ${e}`;
    if (!Number.isSafeInteger(f.bytes) || (f.bytes as number) < 0 || (f.bytes as number) > MAX_FILE_BYTES) return `files.${name}.bytes is not a size`;
    if (typeof f.sha256 !== 'string' || !SHA256.test(f.sha256)) return `files.${name}.sha256 is not a sha256`;
  }
  return null;
}

/**
 * Also used by the store to validate what a caller asks it to save; there `allowExtraFields` lets callers
 * pass richer records (e.g. capture.json entries), of which only signature, requires and compileMs are kept.
 */
export function checkMethods(v: unknown, allowExtraFields = false): string | null {
  if (!Array.isArray(v)) return 'methods is not a list';
  if (v.length === 0 || v.length > MAX_METHODS) return `methods has ${v.length} items (1..${MAX_METHODS} allowed)`;
  for (let i = 0; i < v.length; i++) {
    const m: unknown = v[i];
    if (!isRecord(m)) return `methods[${i}] is not an object`;
    const extra = unexpectedKey(m, ['signature', 'requires', 'compileMs'], allowExtraFields);
    if (extra) return `methods[${i}]: ${extra}`;
    if (typeof m.signature !== 'string' || m.signature.length === 0 || m.signature.length > MAX_SIGNATURE) return `methods[${i}].signature is not a signature`;
    if (!Array.isArray(m.requires) || m.requires.length > MAX_REQUIRES) return `methods[${i}].requires is not a list`;
    for (const r of m.requires) {
      if (typeof r !== 'string' || r.length === 0 || r.length > MAX_REQUIREMENT) return `methods[${i}].requires has an invalid item`;
    }
    if (m.compileMs !== undefined && !(typeof m.compileMs === 'number' && Number.isFinite(m.compileMs) && m.compileMs >= 0)) {
      return `methods[${i}].compileMs is not a duration`;
    }
  }
  return null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unexpectedKey(v: Record<string, unknown>, allowed: string[], allowExtra = false): string | null {
  if (!allowExtra) for (const k of Object.keys(v)) if (!allowed.includes(k)) return `unexpected field "${k.slice(0, 40)}"`;
  for (const k of allowed) if (!Object.hasOwn(v, k) && k !== 'compileMs') return `field "${k}" is missing`;
  return null;
}

/**
 * proof.json: an entry was linked, filled and installed in a throwaway Julia process without harm (prove.ts), so
 * sessions may install it. Bound to the exact bytes (sha256 of both files), the entry id and the identity, and
 * signed like meta; not to meta's own signature, which changes whenever lastUsedAt is rewritten.
 */
export interface ProofRecord {
  entryId: string;
  identityKey: string;
  object: string;
  plan: string;
  keyId: string;
  provenAt: string;
  /** How long the proving process took. */
  ms: number;
  /** What the proof exercised: methods installed there, already present, waiting for definitions it did not have, failed. */
  scope: { installed: number; present: number; pending: number; failed: number };
  hmac: string;
}

export const MAX_PROOF_BYTES = 64 << 10;

export function signProof(meta: EntryMeta, key: SigningKey, fields: Pick<ProofRecord, 'provenAt' | 'ms' | 'scope'>): ProofRecord {
  const unsigned = { ...proofBinding(meta, key), provenAt: fields.provenAt, ms: fields.ms, scope: { ...fields.scope } };
  return { ...unsigned, hmac: hmacHex(key, canonicalJson(unsigned)) };
}

/** True when `text` is a proof of exactly this entry's bytes and identity, signed with this user's key. */
export function checkProof(text: string, meta: EntryMeta, key: SigningKey): boolean {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return false;
  }
  if (!isRecord(v) || typeof v.hmac !== 'string' || !SHA256.test(v.hmac)) return false;
  const { hmac, ...unsigned } = v;
  const binding = proofBinding(meta, key);
  for (const [k, want] of Object.entries(binding)) if (unsigned[k] !== want) return false;
  return hmacEquals(hmac, hmacHex(key, canonicalJson(unsigned)));
}

function proofBinding(meta: EntryMeta, key: SigningKey) {
  return { entryId: meta.id, identityKey: meta.identity.key, object: meta.files.object.sha256, plan: meta.files.plan.sha256, keyId: key.id };
}
