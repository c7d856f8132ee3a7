// Code that scripts load with `include` (workloads/include: a library included from Main; `include` inside a
// module and an included file that includes others), cached across real Julia sessions and never served stale:
// fully cached when nothing changed; after an edit in an included file exactly the dependents of the edited
// function compile again and the results are a fresh session's; a deleted included file fails exactly as without
// the cache, a renamed one is compiled again; a file included twice in one session after an edit leaves the second
// version in the session and the cache.
import assert from 'node:assert/strict';
import { cpSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type { EvaluateResult } from '../../shared/src/protocol.ts';
import { loadCache } from '../../server/src/cache/loadFlow.ts';
import { saveCompiledWork } from '../../server/src/cache/saveFlow.ts';
import { openSessionStore } from '../../server/src/cache/sessionStore.ts';
import { JuliaSession } from '../../server/src/session/juliaSession.ts';
import { brief, cleanupTemps, cliRun, plainJulia, privateKeyDir, tempDir, workloads, type CliReport } from '../helpers/cliRun.ts';

/** One edit per workload: a function of an included file, what depends on it, and what does not. */
const CASES = [
  {
    script: 'report.jl',
    file: 'lib/stats.jl',
    edit: ['(length(xs) - 1))', '(length(xs) - 2))'],
    dependents: ['Main.summary_line', 'Main.main'],
    independent: ['Main.tokens', 'Main.topword', 'Main.wordlengths', 'Main.scaled'],
  },
  {
    script: 'nested.jl',
    file: 'geo/measure.jl',
    edit: ['area(r::Rect) = r.w * r.h', 'area(r::Rect) = r.w * r.h + 1'],
    dependents: ['Geo.total_area', 'Main.main'],
    independent: ['Geo.describe'],
  },
];

function edit(file: string, [from, to]: string[]): void {
  const text = readFileSync(file, 'utf8');
  assert.ok(text.includes(from), `${file} holds ${from}`);
  writeFileSync(file, text.replace(from, to));
}

/** A real session in this process, with the cache in `cacheDir` loaded first (none when undefined). */
async function withSession<T>(cacheDir: string | undefined, body: (s: JuliaSession) => Promise<T>): Promise<T> {
  const session = new JuliaSession();
  try {
    await session.start();
    if (cacheDir) {
      const store = await openSessionStore(session, { cacheDir, maxCacheMB: 512 });
      assert.ok(store.ok, String(!store.ok && store.error));
      const loaded = await loadCache(session, store.value);
      assert.equal(loaded.status.state, 'loaded', JSON.stringify(loaded));
    }
    return await body(session);
  } finally {
    await session.stop();
  }
}

function evalFile(session: JuliaSession, file: string): Promise<EvaluateResult> {
  return session.evaluate({ code: readFileSync(file, 'utf8'), file, line: 1 });
}

const evalCode = (session: JuliaSession, code: string) => session.evaluate({ code, file: 'check', line: 1 });

async function compiledSignatures(session: JuliaSession): Promise<string[]> {
  return (await session.request('sessionLog', {})).compiled.map((c) => c.sig);
}

/** The function a signature is a method of (`Geo.area` for `Tuple{typeof(Geo.area), Geo.Rect}`, as the log prints it). */
const functionOf = (sig: string) => /^Tuple\{typeof\(([^(){},\s]+)\)/.exec(sig)?.[1] ?? sig;

describe('included files: cached, and never served stale', () => {
  // One private copy of workloads/include (cache requirements name its paths), saved once per script in a cold
  // session; each case loads a copy of that cache, changes the files, and puts them back afterwards.
  const dir = tempDir('include');
  const coldCache: Record<string, string> = {};
  const cold: Record<string, CliReport> = {};
  const cacheCopy = (script: string) => {
    const copy = tempDir('include-cache');
    cpSync(coldCache[script], copy, { recursive: true });
    return copy;
  };
  const restoreFiles = () => {
    rmSync(dir, { recursive: true, force: true });
    cpSync(join(workloads, 'include'), dir, { recursive: true });
  };
  before(async () => {
    process.env.JLCACHE_KEY_DIR = privateKeyDir(); // this process opens stores too
    restoreFiles();
    for (const { script } of CASES) {
      coldCache[script] = tempDir('include-cache');
      cold[script] = await cliRun(join(dir, script), coldCache[script], { save: true });
    }
  });
  afterEach(restoreFiles);
  after(cleanupTemps);

  for (const { script } of CASES) {
    test(`${script}: the cached first call compiles nothing and returns the uncached value`, async (t) => {
      const file = join(dir, script);
      t.diagnostic(`cold: ${brief(cold[script])}`);
      assert.equal(cold[script].capture_path, 'session', brief(cold[script]));
      assert.ok((cold[script].methods_saved ?? 0) > 0, brief(cold[script]));
      assert.ok(cold[script].methods_compiled > 0, `the cold first call compiled: ${brief(cold[script])}`);
      const cached = await cliRun(file, cacheCopy(script));
      t.diagnostic(`cached: ${brief(cached)}`);
      assert.equal(cached.cache, 'loaded', brief(cached));
      assert.ok(cached.methods_loaded > 0, brief(cached));
      assert.deepEqual({ methods_compiled: cached.methods_compiled, first_compiled: cached.first_compiled }, { methods_compiled: 0, first_compiled: [] });
      assert.equal(cached.result, await plainJulia(file));
    });
  }

  for (const c of CASES) {
    test(`${c.script}: one function of ${c.file} edited between sessions: exactly its dependents compile again`, async () => {
      const file = join(dir, c.script);
      edit(join(dir, c.file), c.edit);
      const fresh = await plainJulia(file);
      await withSession(cacheCopy(c.script), async (session) => {
        assert.equal((await evalFile(session, file)).ok, true);
        assert.equal((await evalCode(session, 'Text(repr(main()))')).display, fresh, 'the edited code runs, not the cached one');
        const compiled = new Set((await compiledSignatures(session)).map(functionOf));
        for (const f of c.dependents) assert.ok(compiled.has(f), `${f} depends on the edit and compiled again: ${[...compiled].join(' | ')}`);
        for (const f of c.independent) assert.ok(!compiled.has(f), `${f} came from the cache: ${[...compiled].join(' | ')}`);
        const { installed } = await session.request('cache/status', {});
        assert.ok(installed > 0, 'the unaffected entries were installed');
      });
    });
  }

  test('an included file deleted between sessions: the script fails exactly as without the cache, the session survives', async () => {
    const file = join(dir, 'report.jl');
    rmSync(join(dir, 'lib', 'text.jl'));
    // What the script does with the file gone, in a session with the cache and in one without.
    const attempt = (cacheDir: string | undefined) =>
      withSession(cacheDir, async (session) => {
        const run = await evalFile(session, file);
        const after = await evalCode(session, 'Text(repr((mean([1.0, 2.0, 6.0]), isdefined(Main, :tokens), isdefined(Main, :main))))');
        const call = await evalCode(session, 'main()');
        return { ok: run.ok, kind: run.error?.kind, message: run.error?.message, after: after.display, call: call.error?.message, alive: (await evalCode(session, '6 * 7')).display };
      });
    const withCache = await attempt(cacheCopy('report.jl'));
    const without = await attempt(undefined);
    assert.equal(withCache.ok, false);
    assert.match(withCache.message ?? '', /could not open file .*text\.jl/);
    assert.deepEqual(withCache, without);
    assert.equal(withCache.alive, '42');
  });

  test('an included file renamed between sessions: its functions compile again, the rest comes from the cache', async () => {
    const file = join(dir, 'report.jl');
    renameSync(join(dir, 'lib', 'text.jl'), join(dir, 'lib', 'words.jl'));
    edit(file, ['include("lib/text.jl")', 'include("lib/words.jl")']);
    const fresh = await plainJulia(file);
    await withSession(cacheCopy('report.jl'), async (session) => {
      assert.equal((await evalFile(session, file)).ok, true);
      assert.equal((await evalCode(session, 'Text(repr(main()))')).display, fresh);
      const compiled = new Set((await compiledSignatures(session)).map(functionOf));
      for (const f of ['Main.tokens', 'Main.topword']) assert.ok(compiled.has(f), `${f} (from the renamed file) compiled again: ${[...compiled].join(' | ')}`);
      for (const f of ['Main.summary_line', 'Main.scaled']) assert.ok(!compiled.has(f), `${f} came from the cache: ${[...compiled].join(' | ')}`);
    });
  });

  test('a file included twice in one session after an edit: the second version wins in the session and in the cache', async () => {
    const file = join(dir, 'report.jl');
    const stats = join(dir, 'lib', 'stats.jl');
    const original = readFileSync(stats, 'utf8');
    const before = await plainJulia(file);
    edit(stats, CASES[0].edit);
    const edited = await plainJulia(file);
    assert.notEqual(edited, before);
    writeFileSync(stats, original);
    const cache = tempDir('include-cache');
    await withSession(undefined, async (session) => {
      assert.equal((await evalFile(session, file)).ok, true);
      assert.equal((await evalCode(session, 'Text(repr(main()))')).display, before);
      edit(stats, CASES[0].edit);
      assert.equal((await evalFile(session, file)).ok, true, 'the script (and so the file) evaluated again');
      assert.equal((await evalCode(session, 'Text(repr(main()))')).display, edited, 'the second version runs in the session');
      const store = await openSessionStore(session, { cacheDir: cache, maxCacheMB: 512 });
      assert.ok(store.ok);
      const saved = await saveCompiledWork(session, store.value, { alreadySaved: new Set() });
      assert.ok(saved.methodsSaved > 0);
    });
    // The next session with the edited file: everything from the cache.
    const next = await cliRun(file, cache);
    assert.equal(next.result, edited);
    assert.deepEqual({ methods_compiled: next.methods_compiled, first_compiled: next.first_compiled }, { methods_compiled: 0, first_compiled: [] }, brief(next));
    // With the first version back, the cache holds no code of it: spread's dependents compile, the result is right.
    writeFileSync(stats, original);
    const reverted = await cliRun(file, cache);
    assert.equal(reverted.result, before);
    assert.ok(reverted.first_compiled.some((s) => s.includes('Main.main')), brief(reverted));
  });
});
