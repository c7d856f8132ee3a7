// The store's basic contract on real files: save, verified read, listing, signatures, delete, clear,
// lastUsedAt, the per-user key, trust (HMAC), identity separation and path safety.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { openStore } from '../../server/src/cache/store.ts';
import { bytes, elf, identity, method, sandbox, setLastUsed, type Sandbox } from './fixtures/cacheFixtures.ts';

let sb: Sandbox;
beforeEach(() => {
  sb = sandbox();
});
afterEach(() => sb.cleanup());

test('write then read returns the same verified bytes and metadata', async () => {
  const store = await sb.open();
  const object = elf(70_000, 1);
  const plan = bytes(1_000, 2);
  const w = await store.writeEntry({ object, plan, methods: [method('f(::Int64)'), method('g(::String)', [])] });
  assert.ok(w.ok, !w.ok ? w.error : '');
  assert.match(w.value, /^[a-z0-9-]+$/);

  const r = await store.readEntry(w.value);
  assert.ok(r.ok, !r.ok ? r.error : '');
  assert.ok(r.value.object.equals(object));
  assert.ok(r.value.plan.equals(plan));
  assert.deepEqual(r.value.meta.methods.map((m) => m.signature), ['f(::Int64)', 'g(::String)']);
  assert.deepEqual(r.value.meta.methods[0].requires, ['stmt:10']);
  assert.equal(r.value.meta.identity.key, store.identity.key);
  assert.ok(readFileSync(r.value.objectPath).equals(object));

  // On disk: <root>/v1/<identityKey>/entries/<id>/ with the three files, nothing left in tmp or trash.
  const dir = path.join(sb.root, 'v1', store.identity.key, 'entries', w.value);
  assert.deepEqual(readdirSync(dir).sort(), ['meta.json', 'object.o', 'plan.bin']);
  assert.deepEqual(readdirSync(path.join(sb.root, 'tmp')), []);

  const list = await store.listEntries();
  assert.ok(list.ok);
  assert.equal(list.value.length, 1);
  assert.equal(list.value[0].state, 'valid');
  assert.equal(list.value[0].label, 'f(::Int64), g(::String) (2 methods)');
  assert.ok(list.value[0].bytes > 71_000);

  const sigs = await store.cachedSignatures();
  assert.ok(sigs.ok);
  assert.deepEqual([...sigs.value.entries()].sort(), [['f(::Int64)', w.value], ['g(::String)', w.value]]);
});

test('object and plan can be given as file paths', async () => {
  const store = await sb.open();
  const objectPath = path.join(sb.dir, 'in.o');
  writeFileSync(objectPath, elf(5000, 3));
  const w = await store.writeEntry({ object: objectPath, plan: Buffer.from('plan'), methods: [method('h()')] });
  assert.ok(w.ok);
  const r = await store.readEntry(w.value);
  assert.ok(r.ok && r.value.object.equals(readFileSync(objectPath)));

  const missing = await store.writeEntry({ object: path.join(sb.dir, 'nope.o'), plan: Buffer.alloc(1), methods: [method('h()')] });
  assert.ok(!missing.ok);
  assert.match(missing.error, /nope\.o.*missing/);
});

test('concurrent saves in one process serialize; richer method records are trimmed to the stored fields', async () => {
  const store = await sb.open();
  const writes = await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      store.writeEntry({ object: elf(1000, i), plan: bytes(10, i), methods: [{ ...method(`p${i}()`), symbol: { invoke: 'jfptr_x' } } as never] }),
    ),
  );
  assert.ok(writes.every((w) => w.ok));
  const sigs = await store.cachedSignatures();
  assert.ok(sigs.ok && sigs.value.size === 6);
  const r = await store.readEntry((writes[0] as { value: string }).value);
  assert.ok(r.ok);
  assert.deepEqual(Object.keys(r.value.meta.methods[0]).sort(), ['compileMs', 'requires', 'signature']);
});

test('invalid save requests are errors, not exceptions', async () => {
  const store = await sb.open();
  const cases: unknown[] = [
    null,
    { object: elf(10, 1), plan: Buffer.alloc(1), methods: 'f()' },
    { object: Buffer.alloc(1), plan: Buffer.alloc(1), methods: [] },
    { object: Buffer.alloc(1), plan: Buffer.alloc(1), methods: [{ signature: '', requires: [] }] },
    { object: Buffer.alloc(1), plan: Buffer.alloc(1), methods: [{ signature: 'f()', requires: [3] }] },
    { object: Buffer.alloc(1), plan: Buffer.alloc(1), methods: [{ signature: 'f()', requires: [], compileMs: -1 }] },
    { object: 42, plan: Buffer.alloc(1), methods: [method('f()')] },
    { object: Buffer.from('BC\xc0\xde not an object'), plan: Buffer.alloc(1), methods: [method('f()')] },
  ];
  for (const c of cases) {
    const r = await store.writeEntry(c as never);
    assert.ok(!r.ok, `accepted ${JSON.stringify(c)}`);
    assert.ok(r.error.length > 10);
  }
  const list = await store.listEntries();
  assert.ok(list.ok && list.value.length === 0);
});

test('the signing key is created once with mode 0600 and reused', async () => {
  await sb.open();
  const keyFile = path.join(sb.keyDir, 'key');
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  const before = readFileSync(keyFile, 'utf8');
  await sb.open();
  assert.equal(readFileSync(keyFile, 'utf8'), before);

  chmodSync(keyFile, 0o644);
  const r = await openStore(sb.root, identity(), { keyDir: sb.keyDir });
  assert.ok(!r.ok);
  assert.match(r.error, /readable by other users.*chmod 600/);
});

test('the key directory defaults to JLCACHE_KEY_DIR and must not live inside the cache root', async () => {
  const saved = process.env.JLCACHE_KEY_DIR;
  try {
    process.env.JLCACHE_KEY_DIR = path.join(sb.dir, 'env-key');
    const r = await openStore(sb.root, identity());
    assert.ok(r.ok);
    assert.ok(existsSync(path.join(sb.dir, 'env-key', 'key')));

    const inside = await openStore(sb.root, identity(), { keyDir: path.join(sb.root, 'k') });
    assert.ok(!inside.ok);
    assert.match(inside.error, /inside the cache root/);
  } finally {
    if (saved === undefined) delete process.env.JLCACHE_KEY_DIR;
    else process.env.JLCACHE_KEY_DIR = saved;
  }
});

test("another user's entries (other key) are listed as rejected and never read", async () => {
  const mine = await sb.open();
  const w = await mine.writeEntry({ object: elf(100, 4), plan: bytes(10, 5), methods: [method('f()')] });
  assert.ok(w.ok);
  // Same cache directory (e.g. cloned with a repository), different user key.
  const r = await openStore(sb.root, identity(), { keyDir: path.join(sb.dir, 'other-user') });
  assert.ok(r.ok);
  const theirs = r.value;
  const list = await theirs.listEntries();
  assert.ok(list.ok);
  assert.equal(list.value[0].state, 'rejected');
  assert.equal(list.value[0].reason, 'not created by this user: ignored');
  const read = await theirs.readEntry(w.value);
  assert.ok(!read.ok);
  assert.match(read.error, /not created by this user/);
  const sigs = await theirs.cachedSignatures();
  assert.ok(sigs.ok && sigs.value.size === 0);
  // Ignored, not destroyed: the owner can still use it.
  assert.ok((await mine.readEntry(w.value)).ok);
});

test('markUsed cannot launder a foreign entry into a trusted one', async () => {
  const mine = await sb.open();
  const w = await mine.writeEntry({ object: elf(100, 6), plan: bytes(10, 7), methods: [method('f()')] });
  assert.ok(w.ok);
  const other = await openStore(sb.root, identity(), { keyDir: path.join(sb.dir, 'other-user') });
  assert.ok(other.ok);
  const metaPath = path.join(sb.root, 'v1', mine.identity.key, 'entries', w.value, 'meta.json');
  const old = JSON.parse(readFileSync(metaPath, 'utf8'));
  old.lastUsedAt = '2000-01-01T00:00:00.000Z';
  writeFileSync(metaPath, JSON.stringify(old)); // now tampered for its owner too
  assert.ok((await other.value.markUsed([w.value])).ok);
  assert.equal(readFileSync(metaPath, 'utf8'), JSON.stringify(old));
});

test('entries of another Julia build, CPU or TLS offset are stale with a readable reason', async () => {
  const old = await sb.open(identity({ sysimageSha256: 'c'.repeat(64) }));
  assert.ok((await old.writeEntry({ object: elf(10, 8), plan: bytes(10, 9), methods: [method('a()')] })).ok);
  const cpu = await sb.open(identity({ cpuName: 'skylake-avx512' }));
  assert.ok((await cpu.writeEntry({ object: elf(10, 8), plan: bytes(10, 9), methods: [method('b()')] })).ok);
  const tls = await sb.open(identity({ tlsOffset: -15736 }));
  assert.ok((await tls.writeEntry({ object: elf(10, 8), plan: bytes(10, 9), methods: [method('c()')] })).ok);

  const now = await sb.open();
  const list = await now.listEntries();
  assert.ok(list.ok);
  const reasons = Object.fromEntries(list.value.map((e) => [e.methods[0], `${e.state}: ${e.reason}`]));
  assert.deepEqual(reasons, {
    'a()': 'stale: saved by Julia 1.5.3 with a different system image',
    'b()': 'stale: compiled for CPU skylake-avx512, this machine is znver2',
    'c()': 'stale: saved with thread-local storage offset -15736, this process uses -15720',
  });
  const sigs = await now.cachedSignatures();
  assert.ok(sigs.ok && sigs.value.size === 0);
  const stale = list.value[0];
  const read = await now.readEntry(stale.id);
  assert.ok(!read.ok); // not in this identity's directory at all
});

test('deleteEntry removes one entry (of any identity); clear removes everything', async () => {
  const a = await sb.open();
  const b = await sb.open(identity({ juliaVersion: '1.6.0' }));
  const w1 = await a.writeEntry({ object: elf(10, 1), plan: bytes(10, 2), methods: [method('x()')] });
  const w2 = await a.writeEntry({ object: elf(10, 3), plan: bytes(10, 4), methods: [method('y()')] });
  const w3 = await b.writeEntry({ object: elf(10, 5), plan: bytes(10, 6), methods: [method('z()')] });
  assert.ok(w1.ok && w2.ok && w3.ok);

  assert.ok((await a.deleteEntry(w1.value)).ok);
  assert.ok((await a.deleteEntry(w3.value)).ok);
  const gone = await a.deleteEntry(w1.value);
  assert.ok(!gone.ok && /no cache entry/.test(gone.error));
  const bad = await a.deleteEntry('../../etc');
  assert.ok(!bad.ok && /not a cache entry id/.test(bad.error));
  let list = await a.listEntries();
  assert.ok(list.ok);
  assert.deepEqual(list.value.map((e) => e.id), [w2.value]);

  assert.ok((await a.clear()).ok);
  list = await a.listEntries();
  assert.ok(list.ok && list.value.length === 0);
  // The store keeps working after a clear.
  assert.ok((await a.writeEntry({ object: elf(10, 7), plan: bytes(10, 8), methods: [method('w()')] })).ok);
});

test('markUsed updates lastUsedAt (signed), at most once a minute', async () => {
  const store = await sb.open();
  const w = await store.writeEntry({ object: elf(10, 1), plan: bytes(10, 2), methods: [method('x()')] });
  assert.ok(w.ok);
  const metaPath = path.join(sb.root, 'v1', store.identity.key, 'entries', w.value, 'meta.json');
  const first = JSON.parse(readFileSync(metaPath, 'utf8'));
  const written = statSync(metaPath).ino;
  assert.ok((await store.markUsed([w.value])).ok);
  // Within the minute nothing is written at all (a rewrite renames a new file in): marking stays cheap.
  assert.equal(statSync(metaPath).ino, written, 'meta.json not rewritten within the minute');
  assert.equal(JSON.parse(readFileSync(metaPath, 'utf8')).lastUsedAt, first.lastUsedAt);

  await setLastUsed(sb, store, w.value, '2020-01-01T00:00:00.000Z');
  const marked = Date.now();
  assert.ok((await store.markUsed([w.value, 'no-such-entry', '../x'])).ok);
  assert.notEqual(statSync(metaPath).ino, written, 'meta.json replaced by rename');
  const after = JSON.parse(readFileSync(metaPath, 'utf8'));
  assert.ok(Date.parse(after.lastUsedAt) >= marked, `${after.lastUsedAt} is the time of this markUsed`);
  assert.ok((await store.readEntry(w.value)).ok, 'entry still verifies after markUsed');
});

test('symlinks planted in the cache are never followed', async () => {
  const store = await sb.open();
  const w = await store.writeEntry({ object: elf(10, 1), plan: bytes(10, 2), methods: [method('x()')] });
  assert.ok(w.ok);
  const entries = path.join(sb.root, 'v1', store.identity.key, 'entries');
  const outside = path.join(sb.dir, 'outside');
  mkdirSync(outside);
  writeFileSync(path.join(outside, 'secret'), 'do not touch');

  // An entry that is a symlink to a directory outside the root: quarantined, target untouched.
  symlinkSync(outside, path.join(entries, 'evil-link'));
  // A file inside a real entry replaced by a symlink.
  const dir = path.join(entries, w.value);
  renameSync(path.join(dir, 'object.o'), path.join(sb.dir, 'real.o'));
  symlinkSync(path.join(sb.dir, 'real.o'), path.join(dir, 'object.o'));
  const list = await store.listEntries();
  assert.ok(list.ok);
  const byId = Object.fromEntries(list.value.map((e) => [e.id, e]));
  assert.equal(byId['evil-link'].state, 'rejected');
  assert.match(byId['evil-link'].reason!, /quarantined: the entry is not a plain directory/);
  assert.match(byId[w.value].reason!, /quarantined: object\.o is not a regular file/);
  assert.equal(readFileSync(path.join(outside, 'secret'), 'utf8'), 'do not touch');
  assert.deepEqual(readdirSync(outside), ['secret']);

  // The entries directory itself replaced by a symlink: the store refuses to write through it.
  renameSync(entries, path.join(sb.dir, 'moved-entries'));
  symlinkSync(outside, entries);
  const write = await store.writeEntry({ object: elf(10, 1), plan: bytes(10, 2), methods: [method('x()')] });
  assert.ok(!write.ok);
  assert.match(write.error, /symbolic link/);
  assert.deepEqual(readdirSync(outside), ['secret']);
});

test('entry ids from callers and from disk are validated', async () => {
  const store = await sb.open();
  for (const id of ['..', '../x', '/etc/passwd', 'A', 'a/b', '', 'x'.repeat(65), 42]) {
    const r = await store.readEntry(id as string);
    assert.ok(!r.ok);
    assert.match(r.error, /not a cache entry id/);
  }
  // A directory with a bad name inside entries/ is quarantined, not used.
  const entries = path.join(sb.root, 'v1', store.identity.key, 'entries');
  mkdirSync(path.join(entries, 'Bad Name'));
  const list = await store.listEntries();
  assert.ok(list.ok);
  assert.equal(list.value[0].state, 'rejected');
  assert.match(list.value[0].reason!, /not a valid entry id/);
  assert.ok(!existsSync(path.join(entries, 'Bad Name')));
});

test('entries written by another cache format are stale', async () => {
  const store = await sb.open();
  const old = path.join(sb.root, 'v0', 'f'.repeat(64), 'entries', 'old-1');
  mkdirSync(old, { recursive: true });
  writeFileSync(path.join(old, 'object.o'), 'x'.repeat(100));
  const list = await store.listEntries();
  assert.ok(list.ok);
  assert.equal(list.value[0].state, 'stale');
  assert.match(list.value[0].reason!, /cache format v0; this version uses v1/);
  assert.equal(list.value[0].bytes, 100);
});

test('an entry larger than the cache cap is refused', async () => {
  const store = await sb.open(undefined, { maxMB: 0.01 });
  const r = await store.writeEntry({ object: elf(20_000, 1), plan: bytes(10, 2), methods: [method('x()')] });
  assert.ok(!r.ok);
  assert.match(r.error, /more than the cache limit/);
});
