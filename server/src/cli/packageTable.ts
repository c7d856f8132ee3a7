// The benchmark's package-cache section (`benchmark --only packages`): the shipped packages (workloads/packages;
// TinyReports uses TinyStats) built from their tests, against their test suites run by themselves in plain Julia (`julia
// test/runtests.jl`, and `Pkg.test()`: pkgTestBaseline.ts), each test suite run again in a fresh session without and with
// the caches (compile time of the run), then workloads/packages/use_reports.jl's first call without and with the
// package caches (medians).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPackageCache, loadPackageCaches, packageSession } from '../packages/buildPackageCache.ts';
import { packageLoadPath, readPackage, type PackageInfo } from '../packages/packageInfo.ts';
import { runPackageTests, type TestCounts } from '../packages/testRun.ts';
import { loadExeca } from '../util/execa.ts';
import { juliaEnv } from '../session/juliaLaunch.ts';
import { repoRoot } from '../util/repoRoot.ts';
import { ensureAgentCode } from '../capture/agentCode.ts';
import { cliJuliaPath, mustSucceed, withSession, type CliOptions } from './cliSession.ts';
import { runReport, type RunReport } from './runCommand.ts';
import { fmt as f, median } from './benchMath.ts';
import { pkgTestMs } from './pkgTestBaseline.ts';

const PACKAGES = ['TinyStats', 'TinyReports'];

/** A public API call per package, as a user would type it right after `using` (evaluated at top level). */
const API_CALLS: Record<string, string> = {
  TinyStats: 'summarize([12, 15, 11, 13, 14, 12, 48])',
  TinyReports: 'report([Column("latency", [12.0, 15.5, 11.2, 13.9, 14.1, 12.7, 48.0])]; limit = 2.0)',
};

export async function packagesTable(options: CliOptions): Promise<{ rows: string[]; ok: boolean }> {
  const root = join(repoRoot(), 'workloads', 'packages');
  const pkgs = PACKAGES.map((name) => readPackage(join(root, name)));
  const cacheDir = await mkdtemp(join(tmpdir(), 'jlcache-bench-packages-'));
  const saved = process.env.JULIA_LOAD_PATH;
  process.env.JULIA_LOAD_PATH = packageLoadPath(pkgs[0]); // the sessions runReport starts resolve the packages
  try {
    const rows = [
      '| package | tests | tests alone | Pkg.test | build | build/tests alone | build/Pkg.test | methods | size | test run: without → with cache (counts, compile) |',
      '|' + '---|'.repeat(10),
    ];
    // Once per agent version, not per package: built before the timed builds, which would otherwise include it.
    await withSession(options, (session) => ensureAgentCode(session));
    for (const pkg of pkgs) {
      const alone = await plainTestRun(pkg, options);
      const pkgTest = await pkgTestMs(pkg, cliJuliaPath(options), options.runs ?? 3);
      const t0 = performance.now();
      const built = await buildPackageCache(pkg.dir, { cacheDir, juliaPath: cliJuliaPath(options) });
      const build = performance.now() - t0;
      const [without, withCache] = [await testRun(pkg, undefined, options), await testRun(pkg, cacheDir, options)];
      const t = built.tests;
      rows.push(`| ${pkg.name} | ${counts(t)} | ${f(alone)} | ${f(pkgTest)} | ${f(build)} | ${(build / alone).toFixed(2)}x | ` +
        `${(build / pkgTest).toFixed(2)}x | ` +
        `${built.methodsSaved} | ${Math.round(built.bytes / 1024)} KB | ${counts(without)} → ${counts(withCache)}, ${f(without.compileMs)} → ${f(withCache.compileMs)} ms |`);
    }
    const runs = options.runs ?? 3;
    rows.push('', `First call of each package's API in a fresh session, right after \`using\` (medians of ${runs}):`, '');
    rows.push('| package | call | cold | with its cache | cold/cached | compiled: cold → cached | same result |', '|' + '---|'.repeat(7));
    for (const pkg of pkgs) rows.push(await apiRow(pkg, cacheDir, runs, options));
    const script = join(root, 'use_reports.jl');
    const cold: RunReport[] = [];
    const cached: RunReport[] = [];
    for (let i = 0; i < runs; i++) {
      cold.push(await runReport(script, { ...options, json: true }));
      cached.push(await runReport(script, { ...options, json: true, cacheDir }));
    }
    const ok = cached.every((r, i) => r.cache === 'loaded' && r.result === cold[i].result);
    const [c, w] = [median(cold.map((r) => r.first_ms)), median(cached.map((r) => r.first_ms))];
    rows.push('', `use_reports.jl first call, medians of ${runs}: cold ${f(c)} ms, with the package caches ${f(w)} ms (${(c / w).toFixed(1)}x; ` +
      `${median(cached.map((r) => r.methods_compiled))} methods compiled, ${median(cached.map((r) => r.methods_loaded))} installed); same result: ${ok ? 'yes' : 'NO'}`);
    rows.push('', 'tests: passed/failed/errored; tests alone: `julia test/runtests.jl` wall time (plain Julia, no agent); Pkg.test:',
      "`julia --project=PKG -e 'using Pkg; Pkg.test()'` (median, after one run that precompiled; offline, no registry); build: Build",
      'Package Cache from Tests end to end (session start, tests, save, proof); test run: the package\'s tests again in a fresh',
      'session without and with its cache: passed/failed/errored, and the ms its compile log recorded.');
    return { rows, ok };
  } finally {
    if (saved === undefined) delete process.env.JULIA_LOAD_PATH;
    else process.env.JULIA_LOAD_PATH = saved;
    await rm(cacheDir, { recursive: true, force: true });
  }
}

async function apiRow(pkg: PackageInfo, cacheDir: string, runs: number, options: CliOptions): Promise<string> {
  const cold: ApiCall[] = [];
  const cached: ApiCall[] = [];
  for (let i = 0; i < runs; i++) {
    cold.push(await apiFirstCall(pkg, undefined, options));
    cached.push(await apiFirstCall(pkg, cacheDir, options));
  }
  const [c, w] = [median(cold.map((r) => r.ms)), median(cached.map((r) => r.ms))];
  const same = cached.every((r) => r.display === cold[0].display);
  const compiled = `${median(cold.map((r) => r.compiled))} → ${median(cached.map((r) => r.compiled))}`;
  return `| ${pkg.name} | \`${API_CALLS[pkg.name]}\` | ${f(c)} | ${f(w)} | ${(c / w).toFixed(1)}x | ${compiled} | ${same ? 'yes' : 'NO'} |`;
}

interface ApiCall {
  ms: number;
  compiled: number;
  display: string;
}

/** `using` the package in a fresh session (its package cache loaded first, if given), then its API call, timed in Julia. */
async function apiFirstCall(pkg: PackageInfo, cacheDir: string | undefined, options: CliOptions): Promise<ApiCall> {
  const session = packageSession(pkg, { juliaPath: cliJuliaPath(options) });
  try {
    await session.start();
    if (cacheDir) await loadPackageCaches(session, cacheDir);
    mustSucceed(`using ${pkg.name}`, await session.evaluate({ code: `using ${pkg.name}` }));
    const r = mustSucceed(`${pkg.name}'s API call`, await session.evaluate({ code: API_CALLS[pkg.name] }));
    return { ms: r.timing.totalMs, compiled: r.timing.methodsCompiled, display: r.display ?? '' };
  } finally {
    await session.stop();
  }
}

/** Wall time of the package's test suite in a plain `julia` process (no agent, no cache). */
async function plainTestRun(pkg: PackageInfo, options: CliOptions): Promise<number> {
  const { execa } = await loadExeca();
  const env = juliaEnv({ JULIA_LOAD_PATH: packageLoadPath(pkg) });
  const t0 = performance.now();
  await execa(cliJuliaPath(options), ['--startup-file=no', pkg.tests], { env, cwd: pkg.dir });
  return performance.now() - t0;
}

const counts = (t: Pick<TestCounts, 'passed' | 'failed' | 'errored'>) => `${t.passed}/${t.failed}/${t.errored}`;

/** One test-suite run in a fresh session, with the cache in `cacheDir` loaded first (or none): its counts, and the
 * ms its compile log recorded. */
async function testRun(pkg: PackageInfo, cacheDir: string | undefined, options: CliOptions): Promise<TestCounts & { compileMs: number }> {
  const session = packageSession(pkg, { juliaPath: cliJuliaPath(options) });
  try {
    await session.start();
    if (cacheDir) await loadPackageCaches(session, cacheDir);
    const ran = await runPackageTests(session, pkg);
    return { ...ran, compileMs: (await session.request('sessionLog', {})).compiled.reduce((s, c) => s + c.ms, 0) };
  } finally {
    await session.stop();
  }
}
