// Fault tests with real processes, on the load side: damaged, forged, foreign and stale caches, entries that crash
// the loader, edited sources, fuzzed metadata, and two sessions saving into one cache at once. Every case ends with
// the session alive (main() ran in it), the result equal to an uncached run's, the user's files untouched, and the
// message a user would see. The README's "Cache safety" table lists these cases; keep both in step.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadCache } from '../../server/src/cache/loadFlow.ts';
import { ensureProven } from '../../server/src/cache/prove.ts';
import { openSessionStore } from '../../server/src/cache/sessionStore.ts';
import { JuliaSession } from '../../server/src/session/juliaSession.ts';
import { prng } from '../unit/fixtures/cacheFixtures.ts';
import {
  cacheWith, cliRun, cloneEntry, descendants, entryDirs, firstRelocation, fixtures, forgeMeta, keyDir, sha256Of, tempDir, workloads,
  type RunReport,
} from './faultsKit.ts';

const PARSER = join(workloads, 'parser.jl');

describe('cache faults on load', () => {
  let shared: string;
  let work: string;
  let parserEntry: string;
  let twoEntry: string;
  const cold: Record<'parser' | 'two', RunReport> = {} as never;
  const cleanup: string[] = [];
  const fresh = (dir: string) => (cleanup.push(dir), dir);

  before(async () => {
    process.env.JLCACHE_KEY_DIR = keyDir; // this process opens stores too (the edited-method case)
    work = fresh(tempDir('work'));
    copyFileSync(join(fixtures, 'two.jl'), join(work, 'two.jl'));
    shared = fresh(tempDir('shared'));
    // Two sessions save into one empty cache directory at the same time.
    [cold.parser, cold.two] = await Promise.all([cliRun(PARSER, shared, { save: true }), cliRun(join(work, 'two.jl'), shared, { save: true })]);
    for (const dir of entryDirs(shared)) {
      const meta = readFileSync(join(dir, 'meta.json'), 'utf8');
      if (meta.includes('Main.tally')) twoEntry = dir;
      else if (meta.includes('Main.parse_config') || meta.includes('Main.main')) parserEntry = dir;
    }
  });
  after(() => {
    for (const d of cleanup) rmSync(d, { recursive: true, force: true });
  });

  test('two concurrent saves into one cache: both entries complete, valid, proven once, and loadable', async () => {
    assert.equal(cold.parser.cache, 'none');
    assert.ok(cold.parser.methods_saved! > 0 && cold.two.methods_saved! > 0, JSON.stringify([cold.parser, cold.two]));
    assert.equal(entryDirs(shared).length, 2);
    assert.ok(parserEntry && twoEntry, 'one entry per session');
    assert.deepEqual(readdirSync(join(shared, 'tmp')), [], 'no half-written entry left behind');
    assert.equal(existsSync(join(shared, '.lock')), false, 'the lock was released');

    const cached = await cliRun(PARSER, shared);
    assert.equal(cached.cache, 'loaded');
    assert.equal(cached.result, cold.parser.result);
    assert.equal(cached.methods_compiled, 0, 'main() ran entirely from the cache');
    // Both entries were proven in a throwaway process before this session installed them, and only once.
    const proofs = entryDirs(shared).map((d) => join(d, 'proof.json'));
    assert.ok(proofs.every(existsSync), 'a proof marker per entry');
    const provenAt = proofs.map((p) => JSON.parse(readFileSync(p, 'utf8')).provenAt);
    // The proof runs no user code: methods that need the user's definitions stay pending there, the rest install.
    const twoProof = JSON.parse(readFileSync(join(twoEntry, 'proof.json'), 'utf8'));
    assert.ok(twoProof.scope.pending > 0 && twoProof.scope.failed === 0, JSON.stringify(twoProof.scope));
    const again = await cliRun(join(work, 'two.jl'), shared);
    assert.equal(again.cache, 'loaded');
    assert.equal(again.result, cold.two.result);
    assert.deepEqual(proofs.map((p) => JSON.parse(readFileSync(p, 'utf8')).provenAt), provenAt, 'not proven again');
  });

  const damages: { name: string; damage: (entry: string) => void; message: RegExp }[] = [
    { name: 'a flipped byte in the object', damage: (e) => flip(join(e, 'object.o'), 4096), message: /object\.o is corrupted \(sha256 mismatch\)/ },
    {
      name: 'a flipped byte in the metadata',
      damage: (e) => {
        const text = readFileSync(join(e, 'meta.json'), 'utf8');
        const at = text.indexOf('"sha256": "') + 11;
        writeFileSync(join(e, 'meta.json'), text.slice(0, at) + (text[at] === '0' ? '1' : '0') + text.slice(at + 1));
      },
      message: /meta\.json was modified after it was written \(signature mismatch\)/,
    },
    { name: 'a truncated object', damage: (e) => truncateSync(join(e, 'object.o'), 1000), message: /object\.o is truncated \(1000 of \d+ bytes\)/ },
    { name: 'a truncated plan', damage: (e) => truncateSync(join(e, 'plan.bin'), 7), message: /plan\.bin is truncated \(7 of \d+ bytes\)/ },
    { name: 'truncated metadata', damage: (e) => truncateSync(join(e, 'meta.json'), 200), message: /meta\.json is not valid JSON/ },
    { name: 'a deleted object', damage: (e) => rmSync(join(e, 'object.o')), message: /incomplete entry: object\.o is missing/ },
  ];
  for (const { name, damage, message } of damages) {
    test(`${name}: quarantined with the reason, reported once, the session runs without it`, async () => {
      const { root, entry } = cacheWith(parserEntry);
      fresh(root);
      damage(entry);
      const r = await cliRun(PARSER, root);
      assert.equal(r.result, cold.parser.result);
      assert.match(r.cache, /^rejected: .*quarantined/);
      assert.match(r.cache, message);
      assert.equal(r.methods_loaded, 0);
      assert.equal(existsSync(entry), false, 'moved out of the cache');
      const reasons = readdirSync(join(root, 'quarantine')).map((q) => readFileSync(join(root, 'quarantine', q, 'reason.txt'), 'utf8'));
      assert.equal(reasons.length, 1);
      assert.match(reasons[0], message);
      if (name === 'a flipped byte in the object') {
        assert.equal((await cliRun(PARSER, root)).cache, 'none', 'reported once: the next session finds no entry');
      }
    });
  }

  const forged: { name: string; forge: (entry: string) => Promise<unknown>; message: RegExp }[] = [
    {
      name: 'a cache from another Julia build (same version, other libjulia)',
      forge: (e) => forgeMeta(e, (m) => void (m.identity.libjuliaSha256 = 'a'.repeat(64))),
      message: /saved by Julia 1\.5\.3 with a different libjulia build/,
    },
    {
      name: 'a changed CPU feature string',
      forge: (e) => forgeMeta(e, (m) => {
        const off = m.identity.cpuFeatures.split(',').find((f) => f.startsWith('-'))!;
        m.identity.cpuFeatures = m.identity.cpuFeatures.replace(off, `+${off.slice(1)}`);
      }),
      message: /compiled for CPU features this machine lacks: \+\w+/,
    },
    {
      name: 'a cache copied in from another user (signed with another key)',
      forge: (e) => forgeMeta(e, () => {}, tempDir('other-user-key')),
      message: /not created by this user: ignored/,
    },
  ];
  for (const { name, forge, message } of forged) {
    test(`${name}: never loaded, the reason is shown, the entry is left alone`, async () => {
      const { root, entry } = cacheWith(parserEntry);
      fresh(root);
      await forge(entry);
      const r = await cliRun(PARSER, root);
      assert.equal(r.result, cold.parser.result);
      assert.match(r.cache, /^rejected: no usable entries/);
      assert.match(r.cache, message);
      assert.equal(r.methods_loaded, 0);
      assert.ok(r.methods_compiled > 0, 'main() was compiled, not loaded');
      assert.equal(entryDirs(root).length, 1, 'not deleted: it may be valid for its owner or its Julia');
    });
  }

  // Entries whose checksums and signature are right (as if codegen had a bug) but whose object is malformed. With
  // RuntimeDyld these took the linking process down (SIGSEGV, LLVM fatal error); the loader's own linker (elflink.c)
  // checks every relocation against the object and refuses it. Either way the proof fails and the entry is
  // quarantined before it reaches the session.
  const crashing: { name: string; corrupt: (obj: Buffer) => void; message: RegExp }[] = [
    {
      name: 'a relocation that writes outside its section',
      corrupt: (obj) => obj.writeBigUInt64LE(0x7ffffff0n, firstRelocation(obj)),
      message: /failed its proof in a throwaway Julia process .*the loader rejected it: relocation 0 out of bounds/,
    },
    {
      name: 'a relocation naming a symbol that does not exist',
      corrupt: (obj) => obj.writeUInt32LE(0xfffff, firstRelocation(obj) + 12),
      message: /failed its proof in a throwaway Julia process .*the loader rejected it: relocation 0 names symbol 1048575 of \d+/,
    },
  ];
  for (const { name, corrupt, message } of crashing) {
    test(`proof before install: ${name} never reaches the session`, async () => {
      const { root, entry } = cacheWith(parserEntry);
      fresh(root);
      const objectFile = join(entry, 'object.o');
      const obj = readFileSync(objectFile);
      corrupt(obj);
      writeFileSync(objectFile, obj);
      await forgeMeta(entry, (m) => void (m.files.object.sha256 = sha256Of(objectFile)));
      const r = await cliRun(PARSER, root);
      assert.equal(r.result, cold.parser.result, 'the session survived and computed the right answer');
      assert.match(r.cache, message);
      assert.equal(r.methods_loaded, 0);
      assert.equal(existsSync(entry), false, 'quarantined');
      const [q] = readdirSync(join(root, 'quarantine'));
      assert.match(readFileSync(join(root, 'quarantine', q, 'reason.txt'), 'utf8'), /failed its proof/);
    });
  }

  test('proof before install: a proving process that hangs is killed at its time limit and the entry quarantined', async () => {
    const { root, entry } = cacheWith(parserEntry);
    fresh(root);
    rmSync(join(entry, 'proof.json'), { force: true });
    const session = new JuliaSession();
    try {
      await session.start();
      const store = await openSessionStore(session, { cacheDir: root, maxCacheMB: 512 });
      assert.ok(store.ok);
      // The proving process stops for good once it linked the entry (server/julia/testpause.jl): however fast the
      // machine, it cannot finish within the limit (it is killed there, or before it got that far).
      process.env.JLC_TEST_PAUSE_AT = 'prove-linked';
      const r = await ensureProven(store.value, 'all', { session, timeoutMs: 300 }).finally(() => delete process.env.JLC_TEST_PAUSE_AT);
      assert.deepEqual(descendants(process.pid).filter((p) => p.cmdline.includes('prove.jl')), [], 'killed at the limit, not left running');
      assert.deepEqual(r.usable, []);
      assert.equal(r.runs[0].outcome, 'quarantined');
      assert.match(r.problems[0], /failed its proof in a throwaway Julia process and has been quarantined: the proving process did not finish within 300 ms/);
      assert.equal(existsSync(entry), false);
      assert.equal((await session.evaluate({ code: '6 * 7', file: 'check', line: 1 })).display, '42', 'the session is untouched');
    } finally {
      await session.stop();
    }
  });

  test('a method edited between sessions: exactly its dependents are recompiled, unrelated cached code still loads', async () => {
    const edited = join(work, 'two.jl');
    const { root } = cacheWith(twoEntry);
    fresh(root);
    const original = readFileSync(join(fixtures, 'two.jl'), 'utf8');
    const source = original.replace('poly(x::Float64) = 3x^2 + 2x + 1', 'poly(x::Float64) = 3x^2 + 2x + 2');
    assert.notEqual(source, original);
    writeFileSync(edited, source); // the user edits poly() in place
    const uncached = cliRun(edited, fresh(tempDir('empty')));
    const session = new JuliaSession();
    try {
      await session.start();
      const store = await openSessionStore(session, { cacheDir: root, maxCacheMB: 512 });
      assert.ok(store.ok);
      const outcome = await loadCache(session, store.value);
      assert.equal(outcome.status.state, 'loaded', JSON.stringify(outcome));
      assert.equal((await session.evaluate({ code: source, file: edited, line: 1 })).ok, true);
      const result = await session.evaluate({ code: 'Text(repr(main()))', file: 'check', line: 1 });
      assert.equal(result.display, (await uncached).result, 'the edited poly() runs, not the cached one');
      assert.notEqual(result.display, cold.two.result);
      const { compiled } = await session.request('sessionLog', {});
      const sigs = compiled.map((c) => c.sig);
      // poly itself is inlined into mixsum: its code lives (and goes stale) there.
      for (const f of ['Main.mixsum', 'Main.main']) assert.ok(sigs.some((s) => s.includes(f)), `${f} recompiled: ${sigs.join(' | ')}`);
      assert.ok(!sigs.some((s) => s.includes('Main.tally')), `tally came from the cache: ${sigs.join(' | ')}`);
      const listed = await store.value.listEntries();
      assert.ok(listed.ok && listed.value.every((e) => e.state === 'valid'), 'the entry itself stays valid');
    } finally {
      await session.stop();
      copyFileSync(join(fixtures, 'two.jl'), edited);
    }
  });

  test('fuzzed metadata: a cache with several mutated entries leaves the session alive and loads the good one', async () => {
    const { root } = cacheWith(parserEntry);
    fresh(root);
    const rnd = prng(4242);
    const seeds = [];
    for (let i = 0; i < 8; i++) {
      const id = `fuzz${i}`;
      const target = await cloneEntry(twoEntry, root, id);
      const metaFile = join(target, 'meta.json');
      const text = readFileSync(metaFile);
      const at = Math.floor(rnd() * text.length);
      const kind = i % 4;
      seeds.push({ id, kind, at });
      const mutated =
        kind === 0 ? Buffer.concat([text.subarray(0, at), Buffer.from([Math.floor(rnd() * 256)]), text.subarray(at + 1)])
        : kind === 1 ? text.subarray(0, at)
        : kind === 2 ? Buffer.from(text.toString('utf8').replace(/"bytes": \d+/, `"bytes": ${[-1, 2 ** 53, 0][i % 3]}`))
        : Buffer.from(text.toString('utf8').replace(/"id": "[^"]+"/, '"id": "../../../etc"'));
      writeFileSync(metaFile, mutated);
    }
    const r = await cliRun(PARSER, root);
    assert.equal(r.result, cold.parser.result);
    assert.equal(r.cache, 'loaded', 'the good entry still loads');
    assert.equal(r.methods_compiled, 0);
    const quarantined = readdirSync(join(root, 'quarantine'));
    assert.equal(quarantined.length, seeds.length, `every mutated entry quarantined: ${quarantined.join(', ')} of ${JSON.stringify(seeds)}`);
    for (const q of quarantined) assert.match(readFileSync(join(root, 'quarantine', q, 'reason.txt'), 'utf8'), /\n.+\n$/);
  });
});

function flip(file: string, at: number): void {
  const b = readFileSync(file);
  b[at] ^= 0xff;
  writeFileSync(file, b);
}

