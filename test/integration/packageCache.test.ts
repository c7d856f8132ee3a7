// Package caches built from a package's own tests (packages/buildPackageCache.ts) on the two local packages in
// workloads/packages (TinyReports uses TinyStats), copied to a temporary directory so that tests can edit them.
// The real CLI (`package-cache`, `run`) in child processes, against real Julia.
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CancellationTokenSource, ResponseError } from 'vscode-jsonrpc/node';
import type { PackageCacheReport } from '../../server/src/cli/packageCacheCommand.ts';
import type { CacheEntryInfo, PackageCacheSummary, SessionStatus } from '../../shared/src/protocol.ts';
import { startLspServer } from '../helpers/lspServer.ts';
import { loadPackageCaches, packageSession } from '../../server/src/packages/buildPackageCache.ts';
import { readPackage } from '../../server/src/packages/packageInfo.ts';
import { brief, childEnv, cleanupTemps, cliJs, cliRun, privateKeyDir, run, tempDir, workloads } from '../helpers/cliRun.ts';
import { waitUntil } from '../helpers/wait.ts';

async function packageCache(pkgDir: string, cache: string, env: Record<string, string>): Promise<PackageCacheReport> {
  const r = await run(process.execPath, [cliJs, 'package-cache', pkgDir, '--cache', cache, '--json'], childEnv(env));
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  return JSON.parse(line) as PackageCacheReport;
}

/** Method signatures of each entry in the store, oldest entry first. */
function entrySignatures(cache: string): string[][] {
  const metas = readdirSync(cache, { recursive: true, withFileTypes: true }).filter((d) => d.isFile() && d.name === 'meta.json');
  return metas
    .map((d) => JSON.parse(readFileSync(join(d.parentPath, d.name), 'utf8')) as { createdAt: string; methods: { signature: string }[] })
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
    .map((m) => m.methods.map((x) => x.signature));
}

const own = (sigs: string[], pkg: string) => sigs.filter((s) => s.includes(`${pkg}.`));

/**
 * A fresh session on the package's load path, the caches in `cache` loaded (an empty directory: none), `using` the
 * package: the value `code` displays and the signatures its evaluation compiled.
 */
async function firstCall(pkgDir: string, cache: string, code: string): Promise<{ display?: string; compiled: string[] }> {
  process.env.JLCACHE_KEY_DIR = privateKeyDir(); // the key the CLI children signed the entries with
  const pkg = readPackage(pkgDir);
  const session = packageSession(pkg, { juliaPath: process.env.JULIA ?? '' });
  try {
    await session.start();
    await loadPackageCaches(session, cache);
    assert.ok((await session.evaluate({ code: `using ${pkg.name}` })).ok);
    const before = (await session.request('sessionLog', {})).compiled.length;
    const r = await session.evaluate({ code });
    assert.ok(r.ok, r.error?.message);
    return { display: r.display, compiled: (await session.request('sessionLog', {})).compiled.slice(before).map((c) => c.sig) };
  } finally {
    await session.stop();
  }
}

/** A package `Doomed` (by default one function) whose test suite passes one test and then runs `rest`. */
function doomedPackage(label: string, rest: string, src = 'export twice\ntwice(x) = 2x'): string {
  const dir = join(tempDir(label), 'Doomed');
  mkdirSync(join(dir, 'src'), { recursive: true });
  mkdirSync(join(dir, 'test'));
  writeFileSync(join(dir, 'Project.toml'), 'name = "Doomed"\nuuid = "5f1d0c3e-7a1b-4c2d-9e8f-0a1b2c3d4e5f"\nversion = "0.1.0"\n');
  writeFileSync(join(dir, 'src', 'Doomed.jl'), `module Doomed\n${src}\nend\n`);
  writeFileSync(join(dir, 'test', 'runtests.jl'), `using Doomed, Test\n@test twice(21) == 42\n${rest}\n`);
  return dir;
}

describe('package caches from tests', () => {
  let pkgs: string;
  let env: Record<string, string>;
  let script: string;
  before(() => {
    pkgs = tempDir('packages');
    cpSync(join(workloads, 'packages'), pkgs, { recursive: true });
    env = { JULIA_LOAD_PATH: `${pkgs}:@stdlib` };
    script = join(pkgs, 'use_reports.jl');
  });
  after(cleanupTemps);

  test('built from tests: the packages load cached in a fresh session, B reuses A, an edit to A makes exactly its code stale', async (t) => {
    const cache = tempDir('package-cache');
    const stats = await packageCache(join(pkgs, 'TinyStats'), cache, env);
    t.diagnostic(JSON.stringify(stats));
    assert.deepEqual(stats.tests, { passed: 15, failed: 0, errored: 0 });
    assert.equal(stats.package, 'TinyStats');
    assert.ok(stats.methods_saved > 0 && stats.cache_bytes > 0);
    const reports = await packageCache(join(pkgs, 'TinyReports'), cache, env);
    t.diagnostic(JSON.stringify(reports));
    assert.deepEqual(reports.tests, { passed: 8, failed: 0, errored: 0 });
    assert.ok(reports.methods_saved > 0);
    const [statsEntry, reportsEntry] = entrySignatures(cache);
    assert.deepEqual(reportsEntry.filter((sig) => statsEntry.includes(sig)), [], 'TinyReports stores nothing TinyStats already did');
    assert.ok(reportsEntry.every((sig) => !sig.startsWith('Tuple{typeof(TinyStats.')), 'nor TinyStats methods');

    const cold = await cliRun(script, tempDir('no-cache'), { env });
    t.diagnostic(`cold: ${brief(cold)}`);
    assert.ok(own(cold.first_compiled, 'TinyReports').length > 0, 'cold: the packages compile');
    const cached = await cliRun(script, cache, { env });
    t.diagnostic(`cached: ${brief(cached)}`);
    assert.equal(cached.cache, 'loaded');
    assert.equal(cached.result, cold.result);
    assert.ok(cached.methods_loaded > 0);
    assert.deepEqual([...own(cached.first_compiled, 'TinyStats'), ...own(cached.first_compiled, 'TinyReports')], [],
      'nothing of either package compiled again');

    // The call a user types and the display of its value: both cached, the display although the tests never showed it.
    const call = 'summarize([12, 15, 11, 13, 14, 12, 48])';
    const shown = await firstCall(join(pkgs, 'TinyStats'), cache, call);
    t.diagnostic(`cached first call: ${JSON.stringify(shown)}`);
    assert.equal(shown.display, 'Summary(n=7, mean=17.857, sd=13.359)');
    assert.deepEqual(own(shown.compiled, 'TinyStats'), [], 'neither the call nor the display of its Summary compiles');
    const coldShown = await firstCall(join(pkgs, 'TinyStats'), tempDir('no-cache'), call);
    assert.equal(coldShown.display, shown.display);
    assert.ok(coldShown.compiled.some((sig) => sig.startsWith('Tuple{typeof(Base.show)') && sig.includes('TinyStats.Summary{Int64}')),
      'without the cache the display compiles');

    // A comment added to TinyStats changes its digest: its code and TinyReports' code on its types is stale.
    appendFileSync(join(pkgs, 'TinyStats', 'src', 'TinyStats.jl'), '\n# edited\n');
    const edited = await cliRun(script, cache, { env });
    t.diagnostic(`edited: ${brief(edited)}`);
    assert.equal(edited.result, cold.result);
    assert.ok(edited.methods_compiled > cached.methods_compiled, 'code that needs TinyStats compiles again');
    assert.ok(edited.methods_loaded < cached.methods_loaded, 'entries that need the old TinyStats are not installed');
    assert.ok(edited.methods_loaded > 0, 'TinyReports code that does not need TinyStats still is');
  });

  test("the display of a package's values is compiled for its cache, never called", async (t) => {
    // `show` of Noisy leaves a mark: the build must not run it, though it caches its code; the user's display does.
    const mark = join(tempDir('noisy-mark'), 'shown');
    const dir = doomedPackage('noisy', '@test make(1) isa Noisy', 'export twice, make, Noisy\ntwice(x) = 2x\nstruct Noisy\n    x::Int\nend\nmake(x) = Noisy(x)\n' +
      `Base.show(io::IO, ::MIME"text/plain", ::Noisy) = (touch(${JSON.stringify(mark)}); print(io, "noisy"))`);
    const cache = tempDir('noisy-cache');
    const r = await packageCache(dir, cache, { JULIA_LOAD_PATH: `${join(dir, '..')}:@stdlib` });
    t.diagnostic(JSON.stringify(r));
    assert.deepEqual(r.tests, { passed: 2, failed: 0, errored: 0 });
    assert.ok(!existsSync(mark), 'the build compiled the display without calling it');
    const shown = await firstCall(dir, cache, 'make(2)');
    t.diagnostic(JSON.stringify(shown));
    assert.equal(shown.display, 'noisy');
    assert.ok(existsSync(mark), "the user's display ran the package's show");
    assert.deepEqual(shown.compiled.filter((sig) => sig.includes('Doomed.')), [], 'and compiled none of it');
  });

  test('a failing test is reported and what did compile is still saved', async (t) => {
    const dir = join(tempDir('failing'), 'TinyStats');
    cpSync(join(workloads, 'packages', 'TinyStats'), dir, { recursive: true });
    const tests = join(dir, 'test', 'runtests.jl');
    writeFileSync(tests, `${readFileSync(tests, 'utf8')}\n@testset "wrong on purpose" begin\n    @test mean([1, 3]) == 3\n    @test error("boom")\nend\n`);
    const r = await packageCache(dir, tempDir('failing-cache'), { JULIA_LOAD_PATH: `${join(dir, '..')}:@stdlib` });
    t.diagnostic(JSON.stringify(r));
    assert.deepEqual(r.tests, { passed: 15, failed: 1, errored: 1 });
    assert.deepEqual(r.failed_testsets, ['wrong on purpose']);
    assert.ok(r.methods_saved > 0);
  });

  test('over LSP: julia/buildPackageCache in a trusted workspace; refused in an untrusted one', async () => {
    const cacheDir = tempDir('lsp-package-cache');
    const trusted = await startLspServer({ workspace: pkgs, settings: { cacheDir, trusted: true }, env: childEnv(env) });
    try {
      const summary: PackageCacheSummary = await trusted.conn.sendRequest('julia/buildPackageCache', { packageDir: join(pkgs, 'TinyStats') });
      assert.equal(summary.package, 'TinyStats');
      assert.deepEqual(summary.tests, { passed: 15, failed: 0, errored: 0, broken: 0 });
      assert.ok(summary.methodsSaved > 0);
      await trusted.conn.sendRequest('julia/startSession'); // the listing needs the session's identity
      const entries: CacheEntryInfo[] = await trusted.conn.sendRequest('julia/cacheEntries');
      assert.equal(entries.length, 1);
      assert.equal(entries[0].package, 'TinyStats', 'the view groups it under its package');
      const restarted: SessionStatus = await trusted.conn.sendRequest('julia/restartSession');
      assert.deepEqual(restarted.cache.packages, ['TinyStats'], 'the status names the loaded package caches');
      await assert.rejects(trusted.conn.sendRequest('julia/buildPackageCache', { packageDir: workloads }), /is not a Julia package/);
    } finally {
      assert.equal(await trusted.close(), 0);
    }
    const untrusted = await startLspServer({ workspace: pkgs, settings: { cacheDir, trusted: false }, env: childEnv(env) });
    try {
      await assert.rejects(untrusted.conn.sendRequest('julia/buildPackageCache', { packageDir: join(pkgs, 'TinyStats') }), /not trusted/);
    } finally {
      assert.equal(await untrusted.close(), 0);
    }
  });

  test('a test suite that kills its session: reported, nothing written', async () => {
    const dir = doomedPackage('killing', 'println("leaving"); exit(3)');
    const cache = tempDir('killing-cache');
    const r = await run(process.execPath, [cliJs, 'package-cache', dir, '--cache', cache], childEnv({ JULIA_LOAD_PATH: `${join(dir, '..')}:@stdlib` }));
    assert.equal(r.code, 1, r.stderr.slice(-2000));
    assert.match(r.stderr, /Doomed's tests ended their Julia session, so nothing was saved: Julia exited unexpectedly with code 3/, r.stderr.slice(-2000));
    assert.deepEqual(entrySignatures(cache), [], 'no entry, not even a partial one');
  });

  test('a test suite that hangs: Build Package Cache is cancelled, nothing written, the server goes on', async () => {
    const dir = doomedPackage('hanging', 'println("suite is hanging"); sleep(3600)');
    const cacheDir = tempDir('hanging-cache');
    const server = await startLspServer({ workspace: join(dir, '..'), settings: { cacheDir, trusted: true }, env: childEnv({ JULIA_LOAD_PATH: `${join(dir, '..')}:@stdlib` }) });
    try {
      const cts = new CancellationTokenSource();
      const build = server.conn.sendRequest('julia/buildPackageCache', { packageDir: dir }, cts.token);
      await waitUntil(() => server.stdoutText().includes('suite is hanging'), 600_000, 'the hanging suite to start');
      cts.cancel();
      await assert.rejects(build, (e: unknown) => e instanceof ResponseError && /cancelled: nothing was written/.test(e.message));
      assert.deepEqual(entrySignatures(cacheDir), []);
      const evaluated = await server.conn.sendRequest<{ display?: string }>('julia/evaluate', { code: '1 + 1' });
      assert.equal(evaluated.display, '2', 'the workspace session still works');
    } finally {
      assert.equal(await server.close(), 0);
    }
  });

  test('not a package, or no tests: a clear error and nothing written', async () => {
    const r = await run(process.execPath, [cliJs, 'package-cache', workloads, '--cache', tempDir('none')], childEnv());
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is not a Julia package: it has no Project.toml/);
  });
});
