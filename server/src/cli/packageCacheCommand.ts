// `package-cache PKGDIR --cache DIR [--json]`: builds the package's cache from its tests (packages/buildPackageCache.ts).
// With --json, Julia's output goes to stderr and the last stdout line is the report.
import { resolve } from 'node:path';
import { buildPackageCache } from '../packages/buildPackageCache.ts';
import { cliJuliaPath, ms, type CliOptions } from './cliSession.ts';

export interface PackageCacheReport {
  package: string;
  version: string;
  tests: { passed: number; failed: number; errored: number };
  failed_testsets: string[];
  test_ms: number;
  save_ms: number;
  methods_saved: number;
  cache_bytes: number;
  skipped: number;
}

export async function packageCacheCommand(pkgDir: string, options: CliOptions): Promise<number> {
  if (!options.cacheDir) throw new Error('package-cache needs --cache DIR');
  const out = (stream: 'stdout' | 'stderr', text: string) => (stream === 'stdout' && !options.json ? process.stdout : process.stderr).write(text);
  const r = await buildPackageCache(pkgDir, {
    cacheDir: resolve(options.cacheDir), juliaPath: cliJuliaPath(options), onOutput: out,
  });
  const report: PackageCacheReport = {
    package: r.package, version: r.version,
    tests: { passed: r.tests.passed, failed: r.tests.failed, errored: r.tests.errored },
    failed_testsets: r.failedTestsets,
    test_ms: r.testMs, save_ms: r.saveMs, methods_saved: r.methodsSaved, cache_bytes: r.bytes, skipped: r.skipped,
  };
  if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else {
    const t = report.tests;
    process.stdout.write(`${r.package} ${r.version}: tests ${t.passed} passed, ${t.failed} failed, ${t.errored} errored in ${ms(r.testMs)}` +
      `${r.failedTestsets.length ? ` (failing: ${r.failedTestsets.join(', ')})` : ''}; saved ${r.methodsSaved} methods, ` +
      `${(r.bytes / 1024).toFixed(0)} KB in ${ms(r.saveMs)}\n`);
  }
  return 0;
}
