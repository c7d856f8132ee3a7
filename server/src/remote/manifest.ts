// What a team cache holds besides blobs, and how it is trusted. Per cache entry a manifest (in the action cache,
// `/ac/<manifestKey>`) binds the entry's identity, methods and requirements to the sha256 of its object and plan
// (blobs in `/cas/<sha256>`); per signer and identity an index lists the entries that signer pushed. Both are signed
// with Ed25519 over their canonical JSON, so a server (or anyone who can write to it) can withhold entries but not
// forge or alter one. Parsing treats every byte from the server as hostile and never throws.
import { canonicalJson } from '../cache/hmacKey.ts';
import { sha256Hex } from '../cache/files.ts';
import { checkIdentityRecord, describeMismatch, type Identity } from '../cache/identity.ts';
import { checkMethods, MAX_FILE_BYTES, type FileRecord, type MethodRecord } from '../cache/meta.ts';
import { errorText, fail, ok, type Result } from '../cache/result.ts';
import { parsePublicKey, signText, verifyText, type TeamKey } from './teamKey.ts';

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  /** entryKeyOf(identity, methods): what the entry is for, independent of who built it. */
  entryKey: string;
  identity: Identity;
  methods: MethodRecord[];
  blobs: { object: FileRecord; plan: FileRecord };
  publicKey: string;
  signature: string;
}

export interface IndexRecord {
  format: typeof INDEX_FORMAT;
  identityKey: string;
  publicKey: string;
  /** Newest last. */
  entries: string[];
  signature: string;
}

const MANIFEST_FORMAT = 'jlcache-manifest-1';
const INDEX_FORMAT = 'jlcache-index-1';
export const MAX_MANIFEST_BYTES = 16 << 20;
export const MAX_INDEX_BYTES = 4 << 20;
/** An index keeps the newest entries of its signer and identity up to this many. */
export const MAX_INDEX_ENTRIES = 5000;
const SHA256 = /^[0-9a-f]{64}$/;
const SIGNATURE = /^[A-Za-z0-9+/]{86}==$/;

/** The key of an entry: the identity it runs on and every method with what it requires, order-independent. */
export function entryKeyOf(identity: Identity, methods: MethodRecord[]): string {
  const m = methods.map((x) => `${x.signature}\n${[...x.requires].sort().join('\n')}`).sort();
  return sha256Hex(canonicalJson({ identity: identity.key, methods: m }));
}

/** Where a signer's manifest of an entry lives in the action cache (one per signer: nobody overwrites another's). */
export function manifestKeyOf(entryKey: string, publicKey: string): string {
  return sha256Hex(`jlcache manifest\0${entryKey}\0${publicKey}`);
}

export function indexKeyOf(identityKey: string, publicKey: string): string {
  return sha256Hex(`jlcache index\0${identityKey}\0${publicKey}`);
}

export function signManifest(fields: Omit<Manifest, 'format' | 'entryKey' | 'publicKey' | 'signature'>, key: TeamKey): Manifest {
  const unsigned = { format: MANIFEST_FORMAT, entryKey: entryKeyOf(fields.identity, fields.methods), ...fields, publicKey: key.publicText } as const;
  return { ...unsigned, signature: signText(key, canonicalJson(unsigned)) };
}

export function signIndex(identityKey: string, entries: string[], key: TeamKey): IndexRecord {
  const unsigned = { format: INDEX_FORMAT, identityKey, publicKey: key.publicText, entries: entries.slice(-MAX_INDEX_ENTRIES) } as const;
  return { ...unsigned, signature: signText(key, canonicalJson(unsigned)) };
}

export interface Expectation {
  /** The signer whose index named this record: the record must be signed by exactly that key. */
  signer: string;
  trusted: ReadonlySet<string>;
  identity: Identity;
}

/** The manifest in `bytes` if it is signed by the expected trusted key, is for `entryKey` and for this identity. */
export function readManifest(bytes: Buffer, entryKey: string, want: Expectation): Result<Manifest> {
  const v = parseSigned(bytes, ['format', 'entryKey', 'identity', 'methods', 'blobs', 'publicKey', 'signature'], want);
  if (!v.ok) return v;
  const m = v.value;
  if (m.format !== MANIFEST_FORMAT) return fail(`the manifest's format is ${JSON.stringify(m.format)}, expected ${MANIFEST_FORMAT}`);
  const why = checkIdentityRecord(m.identity) ?? checkMethods(m.methods) ?? checkBlobs(m.blobs);
  if (why) return fail(`the manifest is malformed: ${why}`);
  const manifest = m as unknown as Manifest;
  if (manifest.entryKey !== entryKey || entryKeyOf(manifest.identity, manifest.methods) !== entryKey) {
    return fail('the manifest describes another entry than the one it is stored for');
  }
  const mismatch = describeMismatch(manifest.identity, want.identity);
  if (mismatch) return fail(`made for another machine or Julia build: ${mismatch}`);
  return ok(manifest);
}

/** The index in `bytes` if it is signed by the expected trusted key and lists entries of this identity. */
export function readIndex(bytes: Buffer, want: Expectation): Result<IndexRecord> {
  const v = parseSigned(bytes, ['format', 'identityKey', 'publicKey', 'entries', 'signature'], want);
  if (!v.ok) return v;
  const r = v.value;
  if (r.format !== INDEX_FORMAT) return fail(`the index's format is ${JSON.stringify(r.format)}, expected ${INDEX_FORMAT}`);
  if (r.identityKey !== want.identity.key) return fail('the index lists entries of another identity than the one it is stored for');
  const entries = r.entries;
  if (!Array.isArray(entries) || entries.length > MAX_INDEX_ENTRIES || !entries.every((e) => typeof e === 'string' && SHA256.test(e))) {
    return fail('the index is malformed: entries is not a list of entry keys');
  }
  return ok(r as unknown as IndexRecord);
}

/** JSON with exactly `fields`, signed by want.signer, which must be trusted. The reason names what failed. */
function parseSigned(bytes: Buffer, fields: string[], want: Expectation): Result<Record<string, unknown>> {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    return fail(`not valid JSON (${errorText(e)})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail('not a JSON object');
  const r = v as Record<string, unknown>;
  const { signature, publicKey, ...rest } = r;
  if (signature === undefined || signature === '' || signature === null) return fail('unsigned: it carries no signature');
  if (typeof publicKey !== 'string' || !parsePublicKey(publicKey)) return fail('it names no valid public key');
  if (!want.trusted.has(publicKey)) return fail(`signed by a key you do not trust (${publicKey})`);
  if (publicKey !== want.signer) return fail(`signed by ${publicKey}, but listed by ${want.signer}`);
  for (const k of Object.keys(r)) if (!fields.includes(k)) return fail(`unexpected field "${k.slice(0, 40)}"`);
  for (const k of fields) if (!Object.hasOwn(r, k)) return fail(`field "${k}" is missing`);
  let text: string;
  try {
    text = canonicalJson({ ...rest, publicKey });
  } catch (e) {
    return fail(`cannot be checked (${errorText(e)})`);
  }
  if (typeof signature !== 'string' || !SIGNATURE.test(signature) || !verifyText(publicKey, text, signature)) {
    return fail('its signature does not match its content (altered after it was signed)');
  }
  return ok(r);
}

function checkBlobs(v: unknown): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'blobs is not an object';
  const b = v as Record<string, unknown>;
  if (Object.keys(b).sort().join() !== 'object,plan') return 'blobs must name exactly object and plan';
  for (const name of ['object', 'plan']) {
    const f = b[name] as Record<string, unknown> | null;
    if (typeof f !== 'object' || f === null || Object.keys(f).sort().join() !== 'bytes,sha256') return `blobs.${name} is malformed`;
    if (!Number.isSafeInteger(f.bytes) || (f.bytes as number) < 0 || (f.bytes as number) > MAX_FILE_BYTES) return `blobs.${name}.bytes is not a size`;
    if (typeof f.sha256 !== 'string' || !SHA256.test(f.sha256)) return `blobs.${name}.sha256 is not a sha256`;
  }
  return null;
}
