// Differential tests of the native cache against real Julia 1.5.3, real LLVM and the C loader: a cold session saves
// its compiled work, a fresh session loads it; results must be equal and the compile log must show that the cached
// methods were not compiled again. Also: redefining a method after load must not leave cached callers on old code.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadCache } from '../../server/src/cache/loadFlow.ts';
import { saveCompiledWork } from '../../server/src/cache/saveFlow.ts';
import { openSessionStore } from '../../server/src/cache/sessionStore.ts';
import { runMain } from '../../server/src/cli/runCommand.ts';
import { mustSucceed } from '../../server/src/cli/cliSession.ts';
import type { JuliaSession } from '../../server/src/session/juliaSession.ts';
import { inSession } from '../helpers/juliaSession.ts';

const repo = resolve(__dirname, '..', '..');
const cacheRoots: string[] = [];
after(() => cacheRoots.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function store(session: JuliaSession, cacheDir: string) {
  const s = await openSessionStore(session, { cacheDir, maxCacheMB: 512 });
  assert.ok(s.ok, s.ok ? '' : s.error);
  return s.value;
}

async function compiledSignatures(session: JuliaSession) {
  const log = await session.request('sessionLog', {});
  return new Set(log.compiled.map((c) => c.sig));
}

/** Cold session: run the file's main(), save. Cached session: load, run main(); what each compiled. */
async function coldThenCached(file: string) {
  const cacheDir = mkdtempSync(join(tmpdir(), 'jlcache-native-'));
  cacheRoots.push(cacheDir);
  const cold = await inSession(async (s) => {
    const run = await runMain(s, file);
    const summary = await saveCompiledWork(s, await store(s, cacheDir), { alreadySaved: new Set() });
    return { run, summary, compiled: await compiledSignatures(s) };
  });
  const cached = await inSession(async (s) => {
    const outcome = await loadCache(s, await store(s, cacheDir));
    const run = await runMain(s, file);
    return { outcome, run, compiled: await compiledSignatures(s) };
  });
  return { cold, cached };
}

describe('native cache: same results, nothing compiled twice', () => {
  test('each reload case (Regex ccall, closure, kwargs, keywords splatted at run time, closure passed to sprint, parametric struct, exception, dispatch, GC) comes from the cache', async () => {
    const { cold, cached } = await coldThenCached(join(repo, 'test', 'fixtures', 'julia', 'reload_cases.jl'));
    assert.equal(cached.outcome.status.state, 'loaded', JSON.stringify(cached.outcome));
    assert.equal(cached.run.result, cold.run.result);
    assert.ok(cold.summary.methodsSaved > 0);
    // Also the keyword sorter and body of a call with splatted keywords: signatures naming gensym types of Main.
    const recompiled = [...cached.compiled].filter((sig) => /typeof\(Main\.(main|case_\w+)\)|Main\.var"#+weigh/.test(sig));
    assert.ok([...cold.compiled].some((sig) => sig.includes('Main.var"#weigh##kw"')), 'the keyword sorter was not compiled on its own');
    assert.deepEqual(recompiled, [], `compiled again in the cached session: ${recompiled.join(', ')}`);
    // What compiled, by count (its milliseconds depend on the machine and its load: the benchmark's business).
    assert.ok(cached.run.first.timing.methodsCompiled < cold.run.first.timing.methodsCompiled,
      `methods compiled on the first call: cached ${cached.run.first.timing.methodsCompiled}, cold ${cold.run.first.timing.methodsCompiled}`);
  });

  for (const name of readdirSync(join(repo, 'workloads')).filter((n) => n.endsWith('.jl')).sort()) {
    test(`workloads/${name}: same result with and without the cache`, async () => {
      const { cold, cached } = await coldThenCached(join(repo, 'workloads', name));
      assert.equal(cached.outcome.status.state, 'loaded', JSON.stringify(cached.outcome.status));
      assert.equal(cached.run.result, cold.run.result);
      assert.ok(cached.run.first.timing.methodsCompiled < cold.run.first.timing.methodsCompiled,
        `methods compiled on the first call: cached ${cached.run.first.timing.methodsCompiled}, cold ${cold.run.first.timing.methodsCompiled}`);
      // Keyword bodies and closures of Base/stdlib are entries too, and so are the callees codegen compiled with a
      // logged method (markdown.jl reaches one only by dispatch): nothing compiles.
      assert.equal(cached.run.first.timing.methodsCompiled, 0,
        `compiled in the cached first call: ${cached.run.first.timing.methodsCompiled}`);
    });
  }

  // Regression (README Limits, former crash): the loader made the MethodInstances it created for methods with static
  // parameters with no sparam_vals, so a caller the session compiled itself re-inferred such a callee as the
  // unspecialized method and read its static parameters out of an empty svec: a segfault in jl_apply_generic.
  test('cached code with static parameters (a callee entry, a user method) called from code the session compiles: no crash', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'jlcache-callee-'));
    cacheRoots.push(cacheDir);
    const defs = [
      'function tally(text::String)',
      '    counts = Dict{String,Int}()',
      '    for w in split(text)',
      '        counts[w] = get(counts, w, 0) + 1',
      '    end',
      '    return sort!(collect(counts); by = p -> (-p.second, p.first))',
      'end',
      '@noinline pick(v::Vector{T}, i::Int) where {T} = v[i]::T',
      '',
    ].join('\n');
    const expected = '(["a" => 3, "b" => 2, "c" => 1], 30)';
    await inSession(async (s) => {
      mustSucceed('defs', await s.evaluate({ code: defs, file: 'callee.jl', line: 1 }));
      mustSucceed('warm', await s.evaluate({ code: 'tally("warm up"), pick([10, 20, 30], 1)' }));
      await saveCompiledWork(s, await store(s, cacheDir), { alreadySaved: new Set() });
    });
    await inSession(async (s) => {
      const cached = await (await store(s, cacheDir)).cachedSignatures();
      assert.ok(cached.ok, cached.ok ? '' : cached.error);
      const callee = [...cached.value.keys()].filter((sig) => /setindex!.*Dict\{String, ?Int64\}, ?Int64, ?(Base\.)?SubString\{String\}\}$/.test(sig));
      assert.equal(callee.length, 1, 'the setindex! callee tally was compiled with is not an entry');
      const outcome = await loadCache(s, await store(s, cacheDir));
      assert.equal(outcome.status.state, 'loaded', JSON.stringify(outcome.status));
      // The root cause itself: the MethodInstance the loader created carries the method's static parameter values.
      const sparams = mustSucceed('sparams', await s.evaluate({ code: [
        'let T = Tuple{typeof(setindex!), Dict{String,Int}, Int, SubString{String}}',
        '    Core.Compiler.specialize_method(which(setindex!, Tuple{T.parameters[2:end]...}), T, Core.svec(), true).sparam_vals',
        'end'].join('\n') }));
      assert.equal(sparams.display, 'svec(String, Int64)');
      mustSucceed('defs', await s.evaluate({ code: defs, file: 'callee.jl', line: 1 }));
      // A function the cache does not have: the session compiles it and calls the cached tally and pick.
      mustSucceed('new caller', await s.evaluate({ code: 'fresh() = (tally("b a c a b a"), pick([10, 20, 30], 3))', file: 'callee.jl', line: 9 }));
      assert.equal(mustSucceed('fresh()', await s.evaluate({ code: 'fresh()' })).display, expected);
      assert.equal(mustSucceed('again', await s.evaluate({ code: '(tally("b a c a b a"), pick([10, 20, 30], 3))' })).display, expected);
    });
  });

  test('a method redefined after the cache was loaded: cached callers run the new code', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'jlcache-redef-'));
    cacheRoots.push(cacheDir);
    const defs = 'inner(x::Int) = x + 1\nouter(x::Int) = 2 * inner(x)\n';
    await inSession(async (s) => {
      mustSucceed('defs', await s.evaluate({ code: defs, file: 'redef.jl', line: 1 }));
      assert.equal(mustSucceed('outer', await s.evaluate({ code: 'outer(1)' })).display, '4');
      await saveCompiledWork(s, await store(s, cacheDir), { alreadySaved: new Set() });
    });
    await inSession(async (s) => {
      const outcome = await loadCache(s, await store(s, cacheDir));
      assert.equal(outcome.status.state, 'loaded');
      mustSucceed('defs', await s.evaluate({ code: defs, file: 'redef.jl', line: 1 }));
      assert.equal(mustSucceed('outer', await s.evaluate({ code: 'outer(1)' })).display, '4');
      mustSucceed('redefine', await s.evaluate({ code: 'inner(x::Int) = x + 100', file: 'redef.jl', line: 1 }));
      assert.equal(mustSucceed('outer', await s.evaluate({ code: 'outer(1)' })).display, '202');
    });
  });
  // render's object does not carry print_to_string's code: it calls the system image's (a plan import). A method
  // that replaces it for these arguments must win both when it exists before the load (the import is not valid, so
  // render is not installed; a copy of the callee in the object would still answer "n=1;2") and when it comes after
  // (render is a backedge of the import).
  test('a system-image method cached code calls, replaced before or after the load: the new method runs', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'jlcache-import-'));
    cacheRoots.push(cacheDir);
    const defs = 'render(n::Int) = string("n=", n, ";", n * 2)\n';
    const patch = 'Base.print_to_string(a::String, n::Int, b::String, m::Int) = "patched"';
    await inSession(async (s) => {
      mustSucceed('defs', await s.evaluate({ code: defs, file: 'render.jl', line: 1 }));
      assert.equal(mustSucceed('render', await s.evaluate({ code: 'render(1)' })).display, '"n=1;2"');
      await saveCompiledWork(s, await store(s, cacheDir), { alreadySaved: new Set() });
    });
    for (const patchFirst of [true, false]) {
      await inSession(async (s) => {
        if (patchFirst) mustSucceed('patch', await s.evaluate({ code: patch, file: 'patch.jl', line: 1 }));
        const outcome = await loadCache(s, await store(s, cacheDir));
        assert.equal(outcome.status.state, 'loaded');
        mustSucceed('defs', await s.evaluate({ code: defs, file: 'render.jl', line: 1 }));
        const before = mustSucceed('render', await s.evaluate({ code: 'render(1)' })).display;
        assert.equal(before, patchFirst ? '"patched"' : '"n=1;2"', `patch first: ${patchFirst}`);
        if (!patchFirst) {
          assert.ok(!(await compiledSignatures(s)).has('Tuple{typeof(Main.render), Int64}'), 'render came from the cache');
          mustSucceed('patch', await s.evaluate({ code: patch, file: 'patch.jl', line: 1 }));
          assert.equal(mustSucceed('render', await s.evaluate({ code: 'render(1)' })).display, '"patched"');
        }
      });
    }
  });
});
