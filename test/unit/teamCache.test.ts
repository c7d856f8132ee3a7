// Push and pull against a real server (Debian's nginx with its DAV module, on 127.0.0.1) with stores of synthetic
// entries: what a pull installs, and every way a server's answer is refused with its reason, nothing local lost.
// The same flows with real Julia sessions are in test/integration/teamCache.test.ts.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { startNginxCache, type NginxCache } from '../../server/src/cli/nginxCacheServer.ts';
import { sha256Hex } from '../../server/src/cache/files.ts';
import { openStore, type Store } from '../../server/src/cache/store.ts';
import { connectTeamCache, type TeamCache } from '../../server/src/remote/connect.ts';
import { entryKeyOf, indexKeyOf, manifestKeyOf, signIndex, signManifest } from '../../server/src/remote/manifest.ts';
import { pullCache } from '../../server/src/remote/pull.ts';
import { pushCache } from '../../server/src/remote/push.ts';
import { usableWith, workspaceStatements } from '../../server/src/remote/workspaceSources.ts';
import { statementHash } from '../../server/src/codeLens/scanner.ts';
import { bytes, elf, identity, method, sandbox, type Sandbox } from './fixtures/cacheFixtures.ts';

let server: NginxCache;
const sandboxes: Sandbox[] = [];
before(async () => {
  server = await startNginxCache();
});
after(async () => {
  await server.stop();
  for (const s of sandboxes) s.cleanup();
});
beforeEach(() => {
  for (const d of ['ac', 'cas']) rmSync(join(server.dataDir, d), { recursive: true, force: true });
});

interface Machine {
  sb: Sandbox;
  store: Store;
  remote: TeamCache;
}

/** A "machine": its own cache root and key directory, connected to `url` and trusting `trust` besides itself. */
async function machine(trust: string[] = [], url = server.url, cpuName?: string): Promise<Machine> {
  const sb = sandbox();
  sandboxes.push(sb);
  const store = await sb.open(identity(cpuName ? { cpuName } : {}));
  const remote = await connectTeamCache({ url, trustedKeys: trust, keyDir: sb.keyDir }, AbortSignal.timeout(60_000));
  assert.ok(remote.ok, !remote.ok ? remote.error : '');
  return { sb, store, remote: remote.value };
}

async function saveEntry(m: Machine, seed: number, sig = `f${seed}(::Int64)`): Promise<string> {
  const w = await m.store.writeEntry({ object: elf(20_000 + seed, seed), plan: bytes(300, seed + 1), methods: [method(sig)] });
  assert.ok(w.ok, !w.ok ? w.error : '');
  return w.value;
}

async function valid(m: Machine) {
  const l = await m.store.listEntries({ verifyFiles: true });
  assert.ok(l.ok);
  return l.value.filter((e) => e.state === 'valid');
}

/** A machine that saved two entries (seeds `seed`, `seed + 1`) and pushed them; the entries in seed order. */
async function pushedPair(seed: number) {
  const a = await machine();
  await saveEntry(a, seed);
  await saveEntry(a, seed + 1);
  assert.ok((await pushCache(a.store, a.remote)).ok);
  const [first, second] = (await valid(a)).sort((x, y) => x.methods[0].localeCompare(y.methods[0]));
  return { a, first, second };
}

/** A fresh client for `m` (each client counts its own bytes). */
async function reconnect(m: Machine, trust: string[] = []): Promise<TeamCache> {
  const r = await connectTeamCache({ url: server.url, trustedKeys: trust, keyDir: m.sb.keyDir }, AbortSignal.timeout(60_000));
  assert.ok(r.ok);
  return r.value;
}

const serverFile = (space: 'ac' | 'cas', key: string) => join(server.dataDir, space, key);

test('push then pull on a second machine: the same bytes and methods, written as a valid local entry', async () => {
  const a = await machine();
  await saveEntry(a, 1);
  await saveEntry(a, 2);
  const pushed = await pushCache(a.store, a.remote);
  assert.ok(pushed.ok, !pushed.ok ? pushed.error : '');
  assert.equal(pushed.value.pushed, 2);
  assert.ok(pushed.value.bytesSent > 40_000);

  const b = await machine([a.remote.key.publicText]);
  const pulled = await pullCache(b.store, b.remote);
  assert.deepEqual(pulled.problems, []);
  assert.equal(pulled.stopped, undefined);
  assert.equal(pulled.pulled.length, 2);
  assert.equal(pulled.bytesReceived, pushed.value.bytesSent);
  const mine = await valid(a);
  const theirs = await valid(b);
  const sha = (l: typeof mine) => l.map((e) => e.meta!.files.object.sha256).sort();
  assert.deepEqual(sha(theirs), sha(mine));
  assert.deepEqual(theirs.map((e) => e.proven), [false, false], 'pulled entries are proven before they are installed, like saved ones');

  // Again: nothing new to fetch, nothing written twice; a second push uploads nothing.
  const again = await pullCache(b.store, await reconnect(b, [a.remote.key.publicText]));
  assert.equal(again.pulled.length, 0);
  assert.equal(again.present, 2);
  assert.equal((await valid(b)).length, 2);
  const repush = await pushCache(a.store, await reconnect(a));
  assert.ok(repush.ok);
  assert.equal(repush.value.pushed, 0);
  assert.equal(repush.value.bytesSent, 0);
});

test("entries of a key the puller does not trust are not fetched; its own key is trusted by default", async () => {
  const a = await machine();
  await saveEntry(a, 3);
  assert.ok((await pushCache(a.store, a.remote)).ok);
  const stranger = await machine();
  const r = await pullCache(stranger.store, stranger.remote);
  assert.equal(r.pulled.length, 0);
  assert.equal(r.bytesReceived, 0);
  // The same user on another machine (same key directory, empty cache) gets them.
  const sb = sandbox();
  sandboxes.push(sb);
  const store = await openStore(sb.root, identity(), { keyDir: a.sb.keyDir });
  assert.ok(store.ok);
  const same = await pullCache(store.value, await reconnect(a));
  assert.equal(same.pulled.length, 1);
});

test('server down: push and pull fail with the address and the reason, the local cache is untouched', async () => {
  const down = await startNginxCache();
  await down.stop();
  const a = await machine([], down.url);
  const id = await saveEntry(a, 4);
  const pushed = await pushCache(a.store, a.remote);
  assert.ok(!pushed.ok);
  assert.match(pushed.error, new RegExp(`cannot reach the team cache at ${down.url}: connect ECONNREFUSED`));
  const pulled = await pullCache(a.store, a.remote);
  assert.match(pulled.stopped ?? '', /cannot reach the team cache .* ECONNREFUSED/);
  assert.deepEqual((await valid(a)).map((e) => e.id), [id]);
});

test('a listed manifest or blob that is gone (404): reported, nothing written', async () => {
  const { a, first: e5, second: e6 } = await pushedPair(5);
  rmSync(serverFile('ac', manifestKeyOf(entryKeyOf(a.store.identity, e5.meta!.methods), a.remote.key.publicText)));
  rmSync(serverFile('cas', e6.meta!.files.plan.sha256));
  const b = await machine([a.remote.key.publicText]);
  const r = await pullCache(b.store, b.remote);
  assert.equal(r.pulled.length, 0);
  assert.deepEqual(r.problems.map((p) => p.replace(/entry [0-9a-f]{12}/, 'entry X')).sort(), [
    'team cache entry X is listed but its manifest is missing on the server (404): not installed',
    'team cache entry X is not installed: its plan.bin is missing on the server (404)',
  ]);
  assert.deepEqual(await valid(b), []);
});

test('a blob corrupted on the server: refused with the reason, never written; the intact entry still arrives', async () => {
  const { a, first: bad, second: good } = await pushedPair(7);
  const file = serverFile('cas', bad.meta!.files.object.sha256);
  const blob = readFileSync(file);
  blob[blob.length >> 1] ^= 0xff;
  writeFileSync(file, blob);
  const b = await machine([a.remote.key.publicText]);
  const r = await pullCache(b.store, b.remote);
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0], /^team cache entry [0-9a-f]{12} is not installed: its object.o on the server is corrupted \(sha256 mismatch\)$/);
  assert.deepEqual((await valid(b)).map((e) => e.meta!.files.object.sha256), [good.meta!.files.object.sha256]);
  // A longer blob is refused too (read no further than the manifest's size).
  writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.alloc(10)]));
  const c = await machine([a.remote.key.publicText]);
  assert.match((await pullCache(c.store, c.remote)).problems[0], /object.o on the server is corrupted/);
});

test('a manifest replaced by one signed with an untrusted key, or altered after signing: refused with the reason', async () => {
  const a = await machine();
  await saveEntry(a, 9);
  assert.ok((await pushCache(a.store, a.remote)).ok);
  const [e] = await valid(a);
  const file = serverFile('ac', manifestKeyOf(entryKeyOf(a.store.identity, e.meta!.methods), a.remote.key.publicText));
  const original = readFileSync(file, 'utf8');
  const mallory = await machine();
  const forged = signManifest({ identity: a.store.identity, methods: e.meta!.methods, blobs: e.meta!.files }, mallory.remote.key);
  writeFileSync(file, JSON.stringify(forged));
  const b = await machine([a.remote.key.publicText]);
  const r = await pullCache(b.store, b.remote);
  assert.equal(r.pulled.length, 0);
  assert.match(r.problems[0], new RegExp(`manifest is refused: signed by a key you do not trust \\(${escape(mallory.remote.key.publicText)}\\)`));

  const altered = JSON.parse(original);
  altered.methods[0].requires = [];
  writeFileSync(file, JSON.stringify(altered));
  assert.match((await pullCache(b.store, await reconnect(b, [a.remote.key.publicText]))).problems[0], /manifest is refused: its signature does not match its content/);
  const { signature: _s, ...unsigned } = JSON.parse(original);
  writeFileSync(file, JSON.stringify(unsigned));
  assert.match((await pullCache(b.store, await reconnect(b, [a.remote.key.publicText]))).problems[0], /manifest is refused: unsigned/);
  assert.deepEqual(await valid(b), []);
  // The next push from A sees its manifest is not its own valid one and writes it again.
  const repush = await pushCache(a.store, await reconnect(a));
  assert.ok(repush.ok && repush.value.pushed === 1, JSON.stringify(repush));
  assert.equal((await pullCache(b.store, await reconnect(b, [a.remote.key.publicText]))).pulled.length, 1);
});

test('a manifest made for another CPU: refused with the difference, never written', async () => {
  const a = await machine();
  const other = identity({ cpuName: 'skylake-avx512' });
  const methods = [method('g(::Float64)')];
  const object = elf(5000, 11);
  const plan = bytes(100, 12);
  const files = { object: { bytes: object.length, sha256: sha256Hex(object) }, plan: { bytes: plan.length, sha256: sha256Hex(plan) } };
  const manifest = signManifest({ identity: other, methods, blobs: files }, a.remote.key);
  // Listed in the index of *this* machine's identity, as a confused or malicious pusher could.
  await put(a, 'cas', files.object.sha256, object);
  await put(a, 'cas', files.plan.sha256, plan);
  await put(a, 'ac', manifestKeyOf(manifest.entryKey, a.remote.key.publicText), Buffer.from(JSON.stringify(manifest)));
  const index = signIndex(a.store.identity.key, [manifest.entryKey], a.remote.key);
  await put(a, 'ac', indexKeyOf(a.store.identity.key, a.remote.key.publicText), Buffer.from(JSON.stringify(index)));
  const r = await pullCache(a.store, a.remote);
  assert.deepEqual(r.problems.map((p) => p.replace(/entry [0-9a-f]{12}/, 'entry X')), [
    'team cache entry X is not installed: its manifest is made for another machine or Julia build: compiled for CPU skylake-avx512, this machine is znver2',
  ]);
  assert.deepEqual(await valid(a), []);
});

test('a signed manifest whose blobs exceed the cache limit: refused before anything is downloaded', async () => {
  const a = await machine();
  const huge = { bytes: 2 ** 31, sha256: 'c'.repeat(64) };
  const manifest = signManifest({ identity: a.store.identity, methods: [method('h(::Int64)')], blobs: { object: huge, plan: huge } }, a.remote.key);
  await put(a, 'ac', manifestKeyOf(manifest.entryKey, a.remote.key.publicText), Buffer.from(JSON.stringify(manifest)));
  await put(a, 'ac', indexKeyOf(a.store.identity.key, a.remote.key.publicText), Buffer.from(JSON.stringify(signIndex(a.store.identity.key, [manifest.entryKey], a.remote.key))));
  const b = await machine([a.remote.key.publicText]);
  const r = await pullCache(b.store, b.remote);
  assert.match(r.problems[0], /is not installed: it is 4294967296 bytes, more than the cache limit \(julia.cache.maxCacheMB\)$/);
  assert.equal(r.bytesReceived, JSON.stringify(manifest).length + JSON.stringify(signIndex(a.store.identity.key, [manifest.entryKey], a.remote.key)).length);
});

test('two pushes of the same entries at once: both succeed, the server holds each entry once, a pull gets them all', async () => {
  const a = await machine();
  for (let i = 20; i < 26; i++) await saveEntry(a, i);
  const [p1, p2] = await Promise.all([pushCache(a.store, await reconnect(a)), pushCache(a.store, await reconnect(a))]);
  assert.ok(p1.ok && p2.ok, JSON.stringify([p1, p2]));
  const b = await machine([a.remote.key.publicText]);
  const r = await pullCache(b.store, b.remote);
  assert.deepEqual(r.problems, []);
  assert.equal(r.pulled.length, 6);
  assert.equal(readdirSync(join(server.dataDir, 'cas')).length, 12);
  // Every blob on the server is whole: its name is its sha256.
  for (const name of readdirSync(join(server.dataDir, 'cas'))) assert.equal(sha256Hex(readFileSync(serverFile('cas', name))), name);
});

test('a settings URL that is not http(s), or carries credentials, is refused before anything is sent', async () => {
  for (const [url, why] of [['ftp://x/', /must be http:\/\/ or https:\/\//], ['not a url', /is not a URL/], ['http://u:p@127.0.0.1:1/', /must not contain credentials/]] as const) {
    const r = await connectTeamCache({ url, trustedKeys: [] }, AbortSignal.timeout(1000));
    assert.ok(!r.ok);
    assert.match(r.error, why);
  }
  const sb = sandbox();
  sandboxes.push(sb);
  const r = await connectTeamCache({ url: server.url, trustedKeys: ['ed25519:short', 'rsa:xyz'], keyDir: sb.keyDir }, AbortSignal.timeout(1000));
  assert.ok(r.ok);
  assert.equal(r.value.problems.length, 2);
  assert.equal(r.value.trusted.size, 1);
  assert.ok(existsSync(join(sb.keyDir, 'ed25519.pem')));
});

test("with the workspace's sources, entries whose statements are all elsewhere are skipped, not downloaded", async () => {
  const a = await machine();
  await saveEntry(a, 30, 'here(::Int64)');
  await saveEntry(a, 31, 'elsewhere(::Int64)');
  assert.ok((await pushCache(a.store, a.remote)).ok);
  const ws = sandbox();
  sandboxes.push(ws);
  mkdirSync(join(ws.dir, 'src'));
  // The workspace's requirements are the agent's statement hashes of its files' top-level statements.
  const code = 'here(x::Int) = x + 1\n';
  writeFileSync(join(ws.dir, 'src', 'here.jl'), code);
  const sources = await workspaceStatements(ws.dir);
  assert.deepEqual([...sources], [`stmt:${statementHash(code.trim())}`]);
  const b = await machine([a.remote.key.publicText]);
  const none = await pullCache(b.store, b.remote, sources);
  assert.deepEqual([none.pulled.length, none.stale], [0, 2], 'neither entry requires that statement');
  const withHere = new Set([...sources, `stmt:${'here(::Int64)'.length}`]);
  const one = await pullCache(b.store, await reconnect(b, [a.remote.key.publicText]), withHere);
  assert.deepEqual([one.pulled.length, one.stale], [1, 1]);
  assert.deepEqual((await valid(b)).map((e) => e.methods[0]), ['here(::Int64)']);
  // Methods that require no statement (Base specializations) are usable anywhere.
  assert.equal(usableWith([method('Base.sum(::Vector{Int64})', [])], new Set()), true);
});

test('an auth header from the environment variable the settings name: sent with every request, never stored', async () => {
  const guarded = await startNginxCache({ authorization: 'Bearer team-secret' });
  const varName = 'JLC_TEST_TEAM_CACHE_AUTH';
  try {
    const a = await machine([], guarded.url);
    await saveEntry(a, 40);
    const refused = await pushCache(a.store, a.remote);
    assert.ok(!refused.ok);
    assert.match(refused.error, /answered 401 Unauthorized for .* \(check the auth header: julia.cache.remote.authHeaderEnv\)/);
    const unset = await connectTeamCache({ url: guarded.url, trustedKeys: [], keyDir: a.sb.keyDir, authHeaderEnv: varName }, AbortSignal.timeout(1000));
    assert.ok(!unset.ok);
    assert.equal(unset.error, `the environment variable ${varName} (julia.cache.remote.authHeaderEnv) is not set`);
    process.env[varName] = 'Authorization: Bearer team-secret';
    const authed = await connectTeamCache({ url: guarded.url, trustedKeys: [], keyDir: a.sb.keyDir, authHeaderEnv: varName }, AbortSignal.timeout(60_000));
    assert.ok(authed.ok);
    const pushed = await pushCache(a.store, authed.value);
    assert.ok(pushed.ok, !pushed.ok ? pushed.error : '');
    assert.equal(pushed.value.pushed, 1);
    assert.ok(!JSON.stringify(pushed).includes('team-secret'));
  } finally {
    delete process.env[varName];
    await guarded.stop();
  }
});

async function put(m: Machine, space: 'ac' | 'cas', key: string, body: Buffer): Promise<void> {
  const r = await m.remote.http.put(space, key, body);
  assert.ok(r.ok, !r.ok ? r.error : '');
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
