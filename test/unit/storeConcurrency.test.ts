// Cross-process safety with real Node child processes: two savers at once, mutual exclusion of the lock,
// stale-lock breaking (dead pid, recycled pid, garbage), a live lock timing out, a writer killed at each step of
// a save (stopped there by the test-only pause points of testPause.ts, not by a timed kill); and LRU eviction.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { openStore, type Store } from '../../server/src/cache/store.ts';
import type { PausePoint } from '../../server/src/cache/testPause.ts';
import { bytes, elf, identity, method, sandbox, setLastUsed, type Sandbox } from './fixtures/cacheFixtures.ts';

const CHILD = path.join(import.meta.dirname, 'fixtures', 'storeChild.ts');

let sb: Sandbox;
beforeEach(() => {
  sb = sandbox();
});
afterEach(() => sb.cleanup());

/** Runs a Node process to completion; resolves with its stdout, rejects with its stderr. */
function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
  });
}

const child = (...args: string[]) => run(['--import', 'tsx', CHILD, ...args]);

/** A process that has exited: its pid is dead (and not yet reused, in practice, within a test). */
async function deadPid(): Promise<number> {
  const out = await run(['-e', 'console.log(process.pid)']);
  return Number(out.trim());
}

test('two processes saving at once lose nothing and corrupt nothing', async (t) => {
  await sb.open(); // create the key first so both children share it
  const n = 12;
  const t0 = performance.now();
  const [a, b] = await Promise.all([
    child('write', sb.root, sb.keyDir, 'a', String(n), '512'),
    child('write', sb.root, sb.keyDir, 'b', String(n), '512'),
  ]);
  const ms = performance.now() - t0;
  const ra = JSON.parse(a);
  const rb = JSON.parse(b);
  assert.deepEqual(ra.damaged, []);
  assert.deepEqual(rb.damaged, []);

  const store = await sb.open();
  const list = await store.listEntries({ verifyFiles: true });
  assert.ok(list.ok);
  assert.equal(list.value.length, 2 * n);
  assert.ok(list.value.every((e) => e.state === 'valid'));
  assert.deepEqual(new Set(list.value.map((e) => e.id)), new Set([...ra.ids, ...rb.ids]));
  const sigs = await store.cachedSignatures();
  assert.ok(sigs.ok);
  assert.equal(sigs.value.size, 2 * n);
  for (let i = 0; i < n; i++) assert.ok(sigs.value.has(`a_${i}()`) && sigs.value.has(`b_${i}()`));
  assert.deepEqual(readdirSync(path.join(sb.root, 'tmp')), []);
  assert.deepEqual(readdirSync(path.join(sb.root, 'quarantine')), []);
  assert.ok(!existsSync(path.join(sb.root, '.lock')), 'lock released');
  t.diagnostic(`two writers x ${n} entries of ~65 KB (each also verifying every entry after each save): ${ms.toFixed(0)} ms`);
});

test('two processes saving at once under a small size cap stay under it, with only whole entries', async () => {
  await sb.open();
  const capMB = 0.4; // about 6 entries of ~65 KB
  const [a, b] = await Promise.all([
    child('write', sb.root, sb.keyDir, 'a', '10', String(capMB)),
    child('write', sb.root, sb.keyDir, 'b', '10', String(capMB)),
  ]);
  assert.deepEqual(JSON.parse(a).damaged, []);
  assert.deepEqual(JSON.parse(b).damaged, []);
  const store = await sb.open(undefined, { maxMB: capMB });
  const list = await store.listEntries({ verifyFiles: true });
  assert.ok(list.ok);
  const total = list.value.reduce((s, e) => s + e.bytes, 0);
  assert.ok(total <= capMB * 1024 * 1024, `total ${total}`);
  assert.ok(list.value.length >= 4, `${list.value.length} entries kept`);
  assert.ok(list.value.every((e) => e.state === 'valid'));
});

test('the lock excludes other processes (200 read-modify-write increments, none lost)', async () => {
  const counter = path.join(sb.dir, 'counter');
  writeFileSync(counter, '0');
  await sb.open();
  await Promise.all([child('count', sb.root, counter, '100'), child('count', sb.root, counter, '100')]);
  assert.equal(readFileSync(counter, 'utf8'), '200');
});

test('a lock left by a dead process, a recycled pid, or garbage is broken at once, not waited out', async () => {
  // With no time to wait, a write can only succeed if the stale lock is recognised and broken on the first look.
  const store = await sb.open(undefined, { lockTimeoutMs: 0 });
  const lock = path.join(sb.root, '.lock');
  const owners = [
    { pid: await deadPid(), start: null, host: hostname(), token: 'dead', since: 'then' },
    { pid: process.pid, start: '1', host: hostname(), token: 'recycled', since: 'then' }, // our pid, another start time
  ];
  for (const owner of owners) {
    writeFileSync(lock, JSON.stringify(owner));
    const w = await store.writeEntry({ object: elf(10, 1), plan: bytes(10, 2), methods: [method('x()')] });
    assert.ok(w.ok, !w.ok ? w.error : '');
  }
  writeFileSync(lock, 'not json');
  assert.ok((await store.clear()).ok);
  assert.ok(!existsSync(lock));
});

test('a lock held by a live process makes writers wait, then fail with who holds it', async () => {
  const store = await sb.open(undefined, { lockTimeoutMs: 1000 });
  const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' });
  const exited = new Promise((r) => holder.on('exit', r));
  try {
    const stat = readFileSync(`/proc/${holder.pid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    writeFileSync(path.join(sb.root, '.lock'), JSON.stringify({ pid: holder.pid, start, host: hostname(), token: 't', since: 'now' }));
    // It gives up only once its deadline (its start + the timeout, on the same clock) has passed: a lower bound
    // that a slow machine only exceeds further, never a race.
    const t0 = Date.now();
    const w = await store.writeEntry({ object: elf(10, 1), plan: bytes(10, 2), methods: [method('x()')] });
    assert.ok(Date.now() - t0 >= 1000, `the writer gave up after ${Date.now() - t0} ms, before its 1000 ms timeout`);
    assert.ok(!w.ok);
    assert.match(w.error, new RegExp(`the cache is busy: locked by process ${holder.pid}`));
    // Readers do not need the lock.
    assert.ok((await store.listEntries()).ok);
  } finally {
    holder.kill();
    await exited;
  }
  // Once the holder is dead its lock is broken.
  const w = await store.writeEntry({ object: elf(10, 1), plan: bytes(10, 2), methods: [method('x()')] });
  assert.ok(w.ok);
});

/** What a writer killed at a step leaves behind: debris the next writer must clear, and whether its entry is in. */
interface KillCase {
  debris: Debris[];
  /** The killed writer's entry had been renamed into entries/: it must be listed, whole and valid. */
  visible: boolean;
  /** dead-lock: a dead process's lock is planted first; small-cap: the save must evict the older entry. */
  setup?: 'dead-lock' | 'small-cap';
}
type Debris = 'lock' | 'break-guard' | 'staged-lock' | 'tmp-entry' | 'trash';

// A Record so that a pause point added to the store without a case here fails to compile.
const KILLS: Record<PausePoint, KillCase> = {
  'lock-staged': { debris: ['staged-lock'], visible: false },
  'stale-lock-guarded': { debris: ['break-guard', 'lock'], visible: false, setup: 'dead-lock' },
  locked: { debris: ['lock'], visible: false },
  'tmp-created': { debris: ['lock', 'tmp-entry'], visible: false },
  'object-written': { debris: ['lock', 'tmp-entry'], visible: false },
  'plan-written': { debris: ['lock', 'tmp-entry'], visible: false },
  'meta-written': { debris: ['lock', 'tmp-entry'], visible: false },
  'tmp-synced': { debris: ['lock', 'tmp-entry'], visible: false },
  renamed: { debris: ['lock'], visible: true },
  'entries-synced': { debris: ['lock'], visible: true },
  'victim-parked': { debris: ['lock', 'trash'], visible: true, setup: 'small-cap' },
  evicted: { debris: ['lock'], visible: true },
};

/** The leftovers of dead writers on disk, by kind, sorted; unknown names are reported as themselves. */
function debrisOnDisk(): string[] {
  const kinds: string[] = [];
  for (const name of readdirSync(sb.root).filter((n) => n.startsWith('.'))) {
    if (name === '.lock') kinds.push('lock');
    else if (name === '.lock.break') kinds.push('break-guard');
    else kinds.push(/^\.lock\.[0-9a-f]+\.tmp$/.test(name) ? 'staged-lock' : name);
  }
  for (const dir of ['tmp', 'trash'] as const) {
    for (const _ of readdirSync(path.join(sb.root, dir))) kinds.push(dir === 'tmp' ? 'tmp-entry' : 'trash');
  }
  return kinds.sort();
}

/** A writer process saving one entry (method k_0()) that stops for good at `point`; resolves once it is there. */
function writerPausedAt(point: PausePoint, capMB: number): Promise<{ kill(): Promise<void> }> {
  const writer = spawn(process.execPath, ['--import', 'tsx', CHILD, 'write', sb.root, sb.keyDir, 'k', '1', String(capMB), '64000', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, JLC_TEST_PAUSE_AT: point },
  });
  const exited = new Promise<void>((r) => writer.once('exit', () => r()));
  let out = '';
  let err = '';
  writer.stdout.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    writer.stderr.on('data', (d) => {
      err += d;
      if (err.includes(`paused ${point}\n`)) resolve({ kill: async () => void (writer.kill('SIGKILL'), await exited) });
    });
    writer.once('exit', (code, signal) => reject(new Error(`the writer ended (${code ?? signal}) without reaching ${point}: ${out}${err}`)));
  });
}

/** Ids and first method of every listed entry, checking that each is valid with its files verified. */
async function validEntries(store: Store): Promise<Map<string, string>> {
  const list = await store.listEntries({ verifyFiles: true });
  assert.ok(list.ok, !list.ok ? list.error : '');
  assert.ok(list.value.every((e) => e.state === 'valid'), JSON.stringify(list.value.map((e) => e.reason)));
  return new Map(list.value.map((e) => [e.id, e.methods[0]]));
}

for (const [point, kill] of Object.entries(KILLS) as [PausePoint, KillCase][]) {
  test(`a writer killed (SIGKILL) at ${point}: no visible damage; the next writer heals the cache`, async () => {
    const store = await sb.open(undefined, { lockTimeoutMs: 0 }); // a dead writer's lock must never be waited out
    const prior = await store.writeEntry({ object: elf(100_000, 1), plan: bytes(100, 2), methods: [method('prior()')] });
    assert.ok(prior.ok);
    if (kill.setup === 'dead-lock') {
      writeFileSync(path.join(sb.root, '.lock'), JSON.stringify({ pid: await deadPid(), start: null, host: hostname(), token: 'dead', since: 'then' }));
    }
    // 0.15 MB holds the new ~65 KB entry but not the ~100 KB one before it as well.
    const writer = await writerPausedAt(point, kill.setup === 'small-cap' ? 0.15 : 512);
    await writer.kill();

    assert.deepEqual(debrisOnDisk(), kill.debris);
    const seen = await validEntries(store);
    const expected = new Set(kill.setup === 'small-cap' ? [] : ['prior()']);
    if (kill.visible) expected.add('k_0()');
    assert.deepEqual(new Set(seen.values()), expected, 'only whole entries are visible');
    for (const id of seen.keys()) assert.ok((await store.readEntry(id)).ok);

    const after = await store.writeEntry({ object: elf(100, 3), plan: bytes(10, 4), methods: [method('after()')] });
    assert.ok(after.ok, !after.ok ? after.error : '');
    // A staged lock record may belong to a live attempt, so it is cleared only once old.
    assert.deepEqual(debrisOnDisk(), point === 'lock-staged' ? ['staged-lock'] : []);
    const healed = await validEntries(store);
    assert.deepEqual(new Set(healed.values()), new Set([...expected, 'after()']));
    assert.deepEqual(readdirSync(path.join(sb.root, 'quarantine')), [], 'nothing was damaged');
  });
}

test('a staged lock record left by a dead process is removed by the first writer after it is a minute old', async () => {
  const store = await sb.open(undefined, { lockTimeoutMs: 0 });
  const writer = await writerPausedAt('lock-staged', 512);
  await writer.kill();
  const [staged] = readdirSync(sb.root).filter((n) => n.startsWith('.lock.'));
  const old = new Date(Date.now() - 120_000);
  utimesSync(path.join(sb.root, staged), old, old);
  assert.ok((await store.writeEntry({ object: elf(100, 3), plan: bytes(10, 4), methods: [method('after()')] })).ok);
  assert.deepEqual(debrisOnDisk(), []);
});

test('eviction removes least recently used entries first, unusable ones before all', async () => {
  const store = await sb.open(undefined, { maxMB: 1 });
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const w = await store.writeEntry({ object: elf(100_000, i), plan: bytes(100, i), methods: [method(`m${i}()`)] });
    assert.ok(w.ok);
    ids.push(w.value);
    await setLastUsed(sb, store, w.value, `2020-01-0${i + 1}T00:00:00.000Z`);
  }
  // m0 is the oldest, but loading it now makes it the most recently used.
  assert.ok((await store.markUsed([ids[0]])).ok);
  // An entry signed by another user: unusable here, evicted before any usable one even though it is newest.
  const other = await openStore(sb.root, identity(), { keyDir: path.join(sb.dir, 'other-user') });
  assert.ok(other.ok);
  const foreign = await other.value.writeEntry({ object: elf(100_000, 9), plan: bytes(100, 9), methods: [method('f()')] });
  assert.ok(foreign.ok);

  const r = await store.evictToSize(250_000);
  assert.ok(r.ok, !r.ok ? r.error : '');
  assert.deepEqual(r.value.removed, [foreign.value, ids[1], ids[2], ids[3]]);
  assert.ok(r.value.bytes <= 250_000);
  const left = await store.listEntries();
  assert.ok(left.ok);
  assert.deepEqual(left.value.map((e) => e.id).sort(), [ids[0], ids[4]].sort());

  const all = await store.evictToSize(0);
  assert.ok(all.ok && all.value.removed.length === 2);
});

test('a save evicts to the configured cap but never the entry it just wrote', async () => {
  const store = await sb.open(undefined, { maxMB: 0.25 });
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    const w = await store.writeEntry({ object: elf(100_000, i), plan: bytes(100, i), methods: [method(`m${i}()`)] });
    assert.ok(w.ok);
    ids.push(w.value);
  }
  const left = await store.listEntries();
  assert.ok(left.ok);
  assert.deepEqual(left.value.map((e) => e.id).sort(), ids.slice(2).sort());
});
