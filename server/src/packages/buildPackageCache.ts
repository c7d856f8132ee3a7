// Build Package Cache from Tests: a package's test suite runs in a session of its own whose load path resolves the
// package as the user's would; what the tests compiled that belongs to the package (its methods, and Base or
// dependency methods specialized on its types) is saved as one entry that needs `pkg:<name>:<digest>`, so any
// session installs it the moment the package loads. The store's existing entries load first: a dependency's
// package cache is installed as it loads, so building B that uses A stores only what is new for B.
import { SessionError } from '../session/errors.ts';
import { JuliaSession } from '../session/juliaSession.ts';
import { ensureAgentCode, loadAgentCode } from '../capture/agentCode.ts';
import { loadCache } from '../cache/loadFlow.ts';
import { proveSavedEntry } from '../cache/prove.ts';
import { saveCompiledWork } from '../cache/saveFlow.ts';
import { openSessionStore } from '../cache/sessionStore.ts';
import type { Store } from '../cache/store.ts';
import { packageLoadPath, readPackage, type PackageInfo } from './packageInfo.ts';
import type { PackageCacheSummary } from '../../../shared/src/protocol.ts';
import { runPackageTests } from './testRun.ts';

export interface PackageCacheOptions {
  cacheDir: string;
  juliaPath?: string;
  juliaArgs?: string[];
  maxCacheMB?: number;
  /** Stops the test run (its session is stopped) or the save; nothing is written. */
  signal?: AbortSignal;
  /** Julia's output while the tests run. */
  onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
  report?: (message: string, percent: number) => void;
}

export type PackageCacheResult = PackageCacheSummary & { entryId?: string };

/** A session (not started) in the package's directory whose load path resolves it and its sibling packages. */
export function packageSession(pkg: PackageInfo, launch: Pick<PackageCacheOptions, 'juliaPath' | 'juliaArgs'>): JuliaSession {
  return new JuliaSession({
    juliaPath: launch.juliaPath ?? '', juliaArgs: launch.juliaArgs, cwd: pkg.dir, env: { JULIA_LOAD_PATH: packageLoadPath(pkg) },
  });
}

/** Opens the store in `cacheDir` and loads its entries: package entries install as their packages load. */
export async function loadPackageCaches(session: JuliaSession, cacheDir: string, maxCacheMB = 512): Promise<Store> {
  const opened = await openSessionStore(session, { cacheDir, maxCacheMB });
  if (!opened.ok) throw new Error(opened.error);
  await loadCache(session, opened.value);
  return opened.value;
}

export async function buildPackageCache(pkgDir: string, opts: PackageCacheOptions): Promise<PackageCacheResult> {
  const pkg = readPackage(pkgDir);
  const session = packageSession(pkg, opts);
  if (opts.onOutput) session.on('output', ({ stream, text }) => opts.onOutput!(stream, text));
  const stop = () => void session.stop();
  opts.signal?.addEventListener('abort', stop, { once: true });
  try {
    await session.start();
    return await testAndSave(session, pkg, opts);
  } catch (e) {
    opts.signal?.throwIfAborted();
    throw e;
  } finally {
    opts.signal?.removeEventListener('abort', stop);
    await session.stop();
  }
}

async function testAndSave(session: JuliaSession, pkg: PackageInfo, opts: PackageCacheOptions): Promise<PackageCacheResult> {
  const report = opts.report ?? (() => {});
  const store = await loadPackageCaches(session, opts.cacheDir, opts.maxCacheMB);
  report(`running ${pkg.name}'s tests`, 10);
  const { ms: testMs, failedSets, ...tests } = await runPackageTests(session, pkg).catch((e: unknown) => {
    if (!(e instanceof SessionError && e.kind === 'session-died')) throw e;
    throw new Error(`${pkg.name}'s tests ended their Julia session, so nothing was saved: ${e.message}`);
  });
  opts.signal?.throwIfAborted();
  await compileDisplays(session, pkg, testMs);
  report(`saving what ${pkg.name}'s tests compiled`, 60);
  const saved = await saveCompiledWork(session, store, { alreadySaved: new Set(), onlyPackage: pkg.name, signal: opts.signal });
  if (saved.entryId) await proveSavedEntry(store, saved.entryId, { session });
  await ensureAgentCode(session);
  return {
    package: pkg.name, version: pkg.version, tests, failedTestsets: failedSets, testMs, saveMs: saved.ms,
    methodsSaved: saved.methodsSaved, bytes: saved.bytes, skipped: saved.skipped.length, entryId: saved.entryId,
  };
}

/** Time for compiling displays: a tenth of the test run, so that it adds little to the build, but never less than this. */
const DISPLAY_BUDGET_MIN_MS = 500;

/**
 * A user who calls the package sees the value displayed, which its tests seldom do: the agent compiles (never
 * calls) its display for the package's value types the tests produced, so the save below captures it too
 * (server/julia/agent/src/packagedisplay.jl). Tests that never loaded the package leave nothing to compile.
 */
async function compileDisplays(session: JuliaSession, pkg: PackageInfo, testMs: number): Promise<void> {
  await loadAgentCode(session); // the signature resolver it uses is capture code: installed, not compiled here
  const budget = Math.round(Math.max(DISPLAY_BUDGET_MIN_MS, testMs / 10));
  await session.evaluate({ code: `Main.JLCacheAgent.compile_package_displays(${JSON.stringify(pkg.name)}, ${budget})` });
}
