// Damaged entries: flipped bytes, truncation, missing files, and fuzzed meta.json (seeded, replayable).
// Each must be rejected or quarantined with a reason, reported once, never loaded, and never make the API throw.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { sha256Hex } from '../../server/src/cache/files.ts';
import { canonicalJson, loadOrCreateKey } from '../../server/src/cache/hmacKey.ts';
import { signMeta } from '../../server/src/cache/meta.ts';
import type { Store } from '../../server/src/cache/store.ts';
import { bytes, elf, method, prng, sandbox, type Sandbox } from './fixtures/cacheFixtures.ts';

let sb: Sandbox;
let store: Store;
let id: string;
let dir: string;

beforeEach(async () => {
  sb = sandbox();
  store = await sb.open();
  const w = await store.writeEntry({ object: elf(4096, 11), plan: bytes(512, 12), methods: [method('f(::Int64)'), method('g()')] });
  assert.ok(w.ok);
  id = w.value;
  dir = path.join(sb.root, 'v1', store.identity.key, 'entries', id);
});
afterEach(() => sb.cleanup());

function flipByte(file: string, at: number): void {
  const b = readFileSync(file);
  b[at % b.length] ^= 0x40;
  writeFileSync(file, b);
}

function quarantined(): { reason: string; entry: string[] }[] {
  const q = path.join(sb.root, 'quarantine');
  return readdirSync(q).map((n) => ({
    reason: readFileSync(path.join(q, n, 'reason.txt'), 'utf8'),
    entry: readdirSync(path.join(q, n, 'entry')).sort(),
  }));
}

test('a flipped byte in object.o is caught before the bytes are handed out, and quarantined', async () => {
  flipByte(path.join(dir, 'object.o'), 1000);
  const r = await store.readEntry(id);
  assert.ok(!r.ok);
  assert.match(r.error, /damaged and has been quarantined: object\.o is corrupted \(sha256 mismatch\)/);
  assert.ok(!existsSync(dir));
  const q = quarantined();
  assert.equal(q.length, 1);
  assert.match(q[0].reason, /object\.o is corrupted/);
  assert.deepEqual(q[0].entry, ['meta.json', 'object.o', 'plan.bin']);
  // Reported once: afterwards the entry is simply absent and its methods count as not cached.
  const again = await store.readEntry(id);
  assert.ok(!again.ok && /no cache entry/.test(again.error));
  const sigs = await store.cachedSignatures();
  assert.ok(sigs.ok && sigs.value.size === 0);
});

test('a flipped byte in plan.bin drops the entry from cachedSignatures (files verified)', async () => {
  flipByte(path.join(dir, 'plan.bin'), 7);
  const cheap = await store.listEntries();
  assert.ok(cheap.ok && cheap.value[0].state === 'valid'); // same size: the cheap listing cannot tell
  const sigs = await store.cachedSignatures();
  assert.ok(sigs.ok);
  assert.equal(sigs.value.size, 0);
  assert.match(quarantined()[0].reason, /plan\.bin is corrupted/);
});

test('a truncated object is reported once by the cheap listing and quarantined', async () => {
  truncateSync(path.join(dir, 'object.o'), 100);
  const list = await store.listEntries();
  assert.ok(list.ok);
  assert.deepEqual(list.value.map((e) => [e.state, e.reason, e.quarantined]), [
    ['rejected', 'quarantined: object.o is truncated (100 of 4096 bytes)', true],
  ]);
  const again = await store.listEntries();
  assert.ok(again.ok && again.value.length === 0);
});

test('incomplete entries (missing files) are quarantined', async () => {
  const cases: [string, RegExp][] = [
    ['meta.json', /incomplete entry: meta\.json is missing/],
    ['plan.bin', /incomplete entry: plan\.bin is missing/],
    ['object.o', /incomplete entry: object\.o is missing/],
  ];
  for (const [file, reason] of cases) {
    const w = await store.writeEntry({ object: elf(64, 1), plan: bytes(8, 2), methods: [method('x()')] });
    assert.ok(w.ok);
    unlinkSync(path.join(sb.root, 'v1', store.identity.key, 'entries', w.value, file));
    const r = await store.readEntry(w.value);
    assert.ok(!r.ok);
    assert.match(r.error, reason);
  }
  const list = await store.listEntries();
  assert.ok(list.ok && list.value.length === 1 && list.value[0].id === id && list.value[0].state === 'valid');
});

test('meta.json edited by hand (valid JSON, same key id, wrong signature) is quarantined as tampered', async () => {
  const metaPath = path.join(dir, 'meta.json');
  const meta = JSON.parse(readFileSync(metaPath, 'utf8'));
  meta.methods.push({ signature: 'evil()', requires: [] });
  writeFileSync(metaPath, JSON.stringify(meta));
  const r = await store.readEntry(id);
  assert.ok(!r.ok);
  assert.match(r.error, /modified after it was written \(signature mismatch\)/);
});

test('fuzz: random flips and truncations of object.o / plan.bin are always caught', async () => {
  const rnd = prng(20240601);
  const pristine = path.join(sb.dir, 'pristine');
  mkdirSync(pristine);
  for (const f of ['object.o', 'plan.bin', 'meta.json']) copyFileSync(path.join(dir, f), path.join(pristine, f));
  for (let i = 0; i < 60; i++) {
    mkdirSync(dir, { recursive: true });
    for (const f of ['object.o', 'plan.bin', 'meta.json']) copyFileSync(path.join(pristine, f), path.join(dir, f));
    const file = path.join(dir, rnd() < 0.5 ? 'object.o' : 'plan.bin');
    const size = readFileSync(file).length;
    if (rnd() < 0.5) flipByte(file, Math.floor(rnd() * size));
    else truncateSync(file, Math.floor(rnd() * size));
    const r = await store.readEntry(id);
    assert.ok(!r.ok, `iteration ${i}: damaged entry was loaded`);
    assert.match(r.error, /^cache entry .* was damaged and has been quarantined: (object\.o|plan\.bin) is (corrupted|truncated)/);
  }
});

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

test('fuzz: 400 mutations of meta.json are rejected with a reason or are harmless, never an exception', async (t) => {
  const rnd = prng(7);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  const key = await loadOrCreateKey(sb.keyDir);
  assert.ok(key.ok);
  const files = Object.fromEntries(['object.o', 'plan.bin', 'meta.json'].map((f) => [f, readFileSync(path.join(dir, f))]));
  const original = JSON.parse(files['meta.json'].toString('utf8'));
  const originalCanonical = canonicalJson(original);

  const byteMutations: ((b: Buffer) => Buffer)[] = [
    (b) => { const c = Buffer.from(b); c[Math.floor(rnd() * c.length)] ^= 1 << Math.floor(rnd() * 8); return c; },
    (b) => { const c = Buffer.from(b); c[Math.floor(rnd() * c.length)] = Math.floor(rnd() * 256); return c; },
    (b) => b.subarray(0, Math.floor(rnd() * b.length)),
    (b) => { const at = Math.floor(rnd() * b.length); return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + Math.floor(rnd() * 20))]); },
    (b) => { const at = Math.floor(rnd() * b.length); return Buffer.concat([b.subarray(0, at), bytes(1 + Math.floor(rnd() * 8), at), b.subarray(at)]); },
    () => Buffer.alloc(0),
  ];
  // Wrong types, hostile paths, and well-formed but wrong values (another id, another digest, a timestamp).
  const weird: Json[] = [null, true, -1, 0, 1.5, 2 ** 53, '', '../../etc/passwd', '/abs', 'A'.repeat(70), [], {}, [1, 2], { a: 1 },
    'x'.repeat(20_000), 'other-entry-1', 'f'.repeat(64), '2001-01-01T00:00:00.000Z', 4096];

  /** Picks a random (container, key) inside the JSON tree. */
  function randomSlot(root: Json): { parent: Record<string, Json> | Json[]; key: string | number } | null {
    let node = root;
    let slot: { parent: Record<string, Json> | Json[]; key: string | number } | null = null;
    for (let depth = 0; depth < 6; depth++) {
      if (Array.isArray(node) && node.length > 0) {
        const k = Math.floor(rnd() * node.length);
        slot = { parent: node, key: k };
        node = node[k];
      } else if (node && typeof node === 'object' && !Array.isArray(node) && Object.keys(node).length > 0) {
        const k = pick(Object.keys(node));
        slot = { parent: node, key: k };
        node = node[k];
      } else break;
      if (rnd() < 0.3) break;
    }
    return slot;
  }

  const outcomes = { rejected: 0, harmless: 0 };
  for (let i = 0; i < 400; i++) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'object.o'), files['object.o']);
    writeFileSync(path.join(dir, 'plan.bin'), files['plan.bin']);

    let mutated: Buffer;
    let signedByUs = false;
    if (i % 2 === 0) {
      mutated = pick(byteMutations)(files['meta.json']);
    } else {
      // Structural change, re-signed with the user's real key: the validator, not the HMAC, must catch it.
      const m = structuredClone(original) as Json;
      const slot = randomSlot(m);
      if (slot) {
        const action = rnd();
        if (action < 0.25 && !Array.isArray(slot.parent)) delete slot.parent[slot.key as string];
        else if (action < 0.35 && !Array.isArray(slot.parent)) slot.parent[pick(['extra', '__proto__', 'hmac2'])] = pick(weird);
        else (slot.parent as Record<string, Json>)[slot.key as string] = pick(weird);
      }
      const { hmac: _h, ...unsigned } = m as Record<string, Json>;
      try {
        mutated = Buffer.from(JSON.stringify(signMeta(unsigned as never, key.value)));
        signedByUs = true;
      } catch {
        mutated = Buffer.from(JSON.stringify(m));
      }
    }
    writeFileSync(path.join(dir, 'meta.json'), mutated);

    const list = await store.listEntries({ verifyFiles: true });
    assert.ok(list.ok, `iteration ${i}: listEntries failed: ${!list.ok && list.error}`);
    const read = await store.readEntry(id);
    if (!read.ok) assert.doesNotMatch(read.error, /^cannot /, `iteration ${i}: an exception escaped: ${read.error}`);
    const listed = list.value.find((e) => e.id === id);
    const wasValid = listed?.state === 'valid';
    if (wasValid || read.ok) {
      // Accepted: then it must be as safe as the original.
      assert.ok(read.ok, `iteration ${i}: listed valid but unreadable`);
      const meta = read.value.meta;
      assert.equal(meta.id, id);
      assert.equal(meta.identity.key, store.identity.key);
      assert.equal(sha256Hex(read.value.object), meta.files.object.sha256);
      assert.equal(sha256Hex(read.value.plan), meta.files.plan.sha256);
      if (!signedByUs) assert.equal(canonicalJson(JSON.parse(mutated.toString('utf8'))), originalCanonical, `iteration ${i}`);
      outcomes.harmless++;
    } else {
      assert.ok(listed === undefined || (listed.reason ?? '').length > 0, `iteration ${i}: rejected without a reason`);
      outcomes.rejected++;
    }
  }
  t.diagnostic(`outcomes: ${JSON.stringify(outcomes)}`);
  assert.ok(outcomes.rejected > 300, JSON.stringify(outcomes));
});
