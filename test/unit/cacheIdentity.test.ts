// Identity of a Julia build, hashed from the real libjulia and the real 188 MB system image, with the digest
// cache that makes it cheap from the second session on; and the words used when identities differ.
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { cachedFileSha256 } from '../../server/src/cache/digestCache.ts';
import { computeIdentity, describeMismatch, type IdentityInput } from '../../server/src/cache/identity.ts';
import { baseFields } from './fixtures/cacheFixtures.ts';

const LIBJULIA = '/usr/lib/x86_64-linux-gnu/libjulia.so.1.5';
const SYSIMAGE = '/usr/lib/x86_64-linux-gnu/julia/sys.so';
const dir = mkdtempSync(path.join(tmpdir(), 'jlcache-identity-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const input: IdentityInput = {
  juliaVersion: '1.5.3',
  libjuliaPath: LIBJULIA,
  sysimagePath: SYSIMAGE,
  cpuName: 'znver2',
  cpuFeatures: '+sse2,+avx,+avx2',
  tlsOffset: -15720,
};

test('the identity of the installed Julia, hashed once and then remembered', { skip: !existsSync(SYSIMAGE) }, async (t) => {
  const digestCacheDir = path.join(dir, 'digests');
  const t0 = performance.now();
  const first = await computeIdentity(input, { digestCacheDir });
  const cold = performance.now() - t0;
  assert.ok(first.ok, !first.ok ? first.error : '');
  // Both digests were remembered: the next lookup of either file is answered without hashing it.
  assert.deepEqual(await cachedFileSha256(SYSIMAGE, digestCacheDir), { sha256: first.value.sysimageSha256, fromCache: true });
  assert.deepEqual(await cachedFileSha256(LIBJULIA, digestCacheDir), { sha256: first.value.libjuliaSha256, fromCache: true });
  const second = await computeIdentity(input, { digestCacheDir });
  assert.ok(second.ok);
  assert.equal(second.value.key, first.value.key);
  assert.match(first.value.key, /^[0-9a-f]{64}$/);
  assert.equal(first.value.libjuliaSha256.length, 64);
  assert.notEqual(first.value.libjuliaSha256, first.value.sysimageSha256);
  t.diagnostic(`identity: ${cold.toFixed(0)} ms hashing 188 MB sys.so + libjulia`);

  // Every part of the identity is in the key.
  const variants: Partial<IdentityInput>[] = [
    { juliaVersion: '1.5.4' }, { cpuName: 'skylake' }, { cpuFeatures: '+sse2' }, { tlsOffset: -15736 },
    { wordSize: 32 }, { abi: 'plan-2' }, { sysimagePath: LIBJULIA },
  ];
  for (const v of variants) {
    const other = await computeIdentity({ ...input, ...v }, { digestCacheDir });
    assert.ok(other.ok);
    assert.notEqual(other.value.key, first.value.key, JSON.stringify(v));
  }
});

test('a remembered digest is reused only while the file is unchanged', async () => {
  const digestCacheDir = path.join(dir, 'digests2');
  const file = path.join(dir, 'image.so');
  writeFileSync(file, 'version one');
  const a = await cachedFileSha256(file, digestCacheDir);
  assert.equal(a.fromCache, false);
  const b = await cachedFileSha256(file, digestCacheDir);
  assert.deepEqual(b, { sha256: a.sha256, fromCache: true });

  appendFileSync(file, '!'); // changed content and size
  const c = await cachedFileSha256(file, digestCacheDir);
  assert.equal(c.fromCache, false);
  assert.notEqual(c.sha256, a.sha256);

  // Same size, mtime set back to the remembered one: ctime still changed, so it is hashed again.
  const before = await cachedFileSha256(file, digestCacheDir);
  assert.ok(before.fromCache);
  writeFileSync(file, 'version twO!');
  utimesSync(file, new Date(0), new Date(0));
  const d = await cachedFileSha256(file, digestCacheDir);
  assert.equal(d.fromCache, false);

  // Replaced by another file (new inode) with the same content: re-hashed, same digest.
  copyFileSync(file, `${file}.new`);
  rmSync(file);
  copyFileSync(`${file}.new`, file);
  const e = await cachedFileSha256(file, digestCacheDir);
  assert.deepEqual(e, { sha256: d.sha256, fromCache: false });

  // A damaged digest cache costs only a re-hash.
  writeFileSync(path.join(digestCacheDir, 'file-digests.json'), '{ nope');
  const f = await cachedFileSha256(file, digestCacheDir);
  assert.deepEqual(f, { sha256: d.sha256, fromCache: false });
});

test('bad identity input is an error value naming the problem', async () => {
  const digestCacheDir = path.join(dir, 'digests3');
  const missing = await computeIdentity({ ...input, sysimagePath: path.join(dir, 'missing.so') }, { digestCacheDir });
  assert.ok(!missing.ok);
  assert.match(missing.error, /cannot read the system image at .*missing\.so/);
  const cases: [Partial<IdentityInput>, RegExp][] = [
    [{ juliaVersion: '' }, /juliaVersion is missing/],
    [{ tlsOffset: 1.5 }, /tlsOffset is not an integer/],
    [{ tlsOffset: undefined }, /tlsOffset/],
    [{ wordSize: 16 }, /wordSize/],
  ];
  for (const [over, re] of cases) {
    const r = await computeIdentity({ ...input, ...over } as IdentityInput, { digestCacheDir });
    assert.ok(!r.ok);
    assert.match(r.error, re);
  }
  const none = await computeIdentity(null as never);
  assert.ok(!none.ok);
});

test('mismatches are explained in words a user can act on', () => {
  const cur = baseFields;
  assert.equal(describeMismatch(cur, cur), null);
  assert.equal(describeMismatch({ ...cur, juliaVersion: '1.5.2' }, cur), 'saved by Julia 1.5.2; this session runs Julia 1.5.3');
  assert.equal(describeMismatch({ ...cur, sysimageSha256: 'c'.repeat(64) }, cur), 'saved by Julia 1.5.3 with a different system image');
  assert.equal(describeMismatch({ ...cur, libjuliaSha256: 'c'.repeat(64) }, cur), 'saved by Julia 1.5.3 with a different libjulia build');
  assert.equal(describeMismatch({ ...cur, cpuName: 'skylake-avx512' }, cur), 'compiled for CPU skylake-avx512, this machine is znver2');
  assert.equal(
    describeMismatch({ ...cur, cpuFeatures: `${cur.cpuFeatures},+avx512f,+avx512dq` }, cur),
    'compiled for CPU features this machine lacks: +avx512f, +avx512dq',
  );
  assert.equal(describeMismatch({ ...cur, tlsOffset: -16000 }, cur), 'saved with thread-local storage offset -16000, this process uses -15720');
  assert.equal(
    describeMismatch({ ...cur, formatVersion: 0, abi: 'plan-0' }, cur),
    'written in cache format v0; this version uses v1; saved for loader format "plan-0", this loader uses "plan-1"',
  );
});
