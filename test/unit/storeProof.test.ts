// The proof marker (proof.json, written by prove.ts through store.recordProof): it makes an entry "proven" only for
// exactly the bytes, id, identity and user it was made for, survives lastUsedAt rewrites, and a failed proof
// quarantines the entry.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { loadOrCreateKey } from '../../server/src/cache/hmacKey.ts';
import { signMeta } from '../../server/src/cache/meta.ts';
import type { EntryListing, Store } from '../../server/src/cache/store.ts';
import { bytes, elf, method, sandbox, type Sandbox } from './fixtures/cacheFixtures.ts';

let sb: Sandbox;
let store: Store;
let id: string;
let dir: string;
const scope = { installed: 2, present: 0, pending: 0, failed: 0 };

beforeEach(async () => {
  sb = sandbox();
  store = await sb.open();
  const w = await store.writeEntry({ object: elf(4096, 21), plan: bytes(256, 22), methods: [method('f(::Int64)'), method('g()')] });
  assert.ok(w.ok);
  id = w.value;
  dir = path.join(sb.root, 'v1', store.identity.key, 'entries', id);
});
afterEach(() => sb.cleanup());

async function listing(s = store): Promise<EntryListing> {
  const l = await s.listEntries();
  assert.ok(l.ok);
  return l.value.find((e) => e.id === id)!;
}

async function prove(): Promise<void> {
  const r = await store.readEntry(id);
  assert.ok(r.ok);
  assert.ok((await store.recordProof(r.value, { provenAt: new Date().toISOString(), ms: 800, scope })).ok);
}

test('a new entry is unproven; a recorded proof makes it proven, also after lastUsedAt is rewritten', async () => {
  assert.equal((await listing()).proven, false);
  await prove();
  assert.equal((await listing()).proven, true);
  const meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8'));
  meta.lastUsedAt = '2000-01-01T00:00:00.000Z'; // old enough to be rewritten (and re-signed) by markUsed
  const key = await loadOrCreateKey(sb.keyDir);
  assert.ok(key.ok);
  const { hmac: _h, ...unsigned } = meta;
  writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(signMeta(unsigned, key.value)));
  assert.ok((await store.markUsed([id])).ok);
  assert.notEqual(JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8')).lastUsedAt, meta.lastUsedAt);
  assert.equal((await listing()).proven, true);
});

test('a proof that was edited, copied from another entry, or made with another key does not count', async () => {
  await prove();
  const file = path.join(dir, 'proof.json');
  const proof = JSON.parse(readFileSync(file, 'utf8'));
  for (const forged of [
    { ...proof, scope: { ...proof.scope, failed: 0, installed: 99 } },
    { ...proof, object: 'f'.repeat(64) },
    { ...proof, entryId: 'another-entry' },
    { ...proof, hmac: 'not hex' },
    'not json',
  ]) {
    writeFileSync(file, typeof forged === 'string' ? forged : JSON.stringify(forged));
    assert.equal((await listing()).proven, false, JSON.stringify(forged).slice(0, 80));
  }
  writeFileSync(file, JSON.stringify(proof));
  assert.equal((await listing()).proven, true);
  const otherUser = await sb.open(store.identity, { keyDir: path.join(sb.dir, 'other-key') });
  assert.equal((await listing(otherUser)).state, 'rejected', 'another user sees a foreign entry, proof or not');
});

test('a proof is refused when the entry changed since it was read; quarantine moves the entry away with the reason', async () => {
  const r = await store.readEntry(id);
  assert.ok(r.ok);
  const changed = { ...r.value, meta: { ...r.value.meta, files: { ...r.value.meta.files, object: { ...r.value.meta.files.object, sha256: '0'.repeat(64) } } } };
  const refused = await store.recordProof(changed, { provenAt: new Date().toISOString(), ms: 1, scope });
  assert.ok(!refused.ok);
  assert.match(refused.error, /changed while it was being proven/);
  assert.equal(existsSync(path.join(dir, 'proof.json')), false);

  assert.ok((await store.quarantine(id, 'failed its proof: the proving process was killed by SIGSEGV')).ok);
  assert.equal(existsSync(dir), false);
  const listed = await store.listEntries();
  assert.ok(listed.ok && listed.value.length === 0);
  const q = await store.quarantine('../escape', 'x');
  assert.ok(!q.ok);
});
