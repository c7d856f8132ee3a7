// `run FILE.jl [--cache DIR] [--save] [--json]`: a fresh session (loading the cache in DIR first, if any) evaluates the
// file, then calls `main()` as its own top-level statement (so its compilation is inside the measured statement) and
// reports that first call; with --save it then saves the session's compiled work into DIR.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadCache } from '../cache/loadFlow.ts';
import { ensureAgentCode } from '../capture/agentCode.ts';
import { saveCompiledWork } from '../cache/saveFlow.ts';
import { proveSavedEntry } from '../cache/prove.ts';
import { openAndList, type LoadAhead } from '../cache/loadAhead.ts';
import { readColdTimes, SavedTime } from '../cache/statementTimes.ts';
import type { Store } from '../cache/store.ts';
import type { JuliaSession } from '../session/juliaSession.ts';
import { ms, mustSucceed, withSession, type CliOptions } from './cliSession.ts';

export interface RunReport {
  file: string;
  julia_version: string;
  /** Session start: process + agent ready. */
  start_ms: number;
  /** Evaluating the file's definitions. */
  file_ms: number;
  first_ms: number;
  /** With the cache: main()'s first call in the session that saved it, and the difference (timing.coldMs/savedMs). */
  cold_ms?: number;
  saved_ms?: number;
  /** A second main() call: the warm floor. */
  warm_ms?: number;
  /** Wall clock here: spawn -> first main() returned (start, cache load, file, main), and the two main() calls. */
  session_ms: number;
  first_wall_ms: number;
  warm_wall_ms?: number;
  compile_ms: number;
  methods_compiled: number;
  /** Signatures the first call compiled (what the cache did not cover). */
  first_compiled: string[];
  /** repr() of main()'s value. */
  result: string;
  /** `none`, `loaded`, or `rejected: <reason>`. */
  cache: string;
  load_ms: number;
  /** Where the load's time went: this side's steps and the agent's (loadFlow.ts, glue.jl), ms. */
  load_steps?: Record<string, number>;
  methods_loaded: number;
  /** The save itself (capture in the session or by the worker, object emission, store). */
  save_ms?: number;
  /** Where save_ms went (SaveSummary.steps). */
  save_steps?: Record<string, number>;
  /** Which process captured: the session, or the worker where the session refused. */
  capture_path?: string;
  /** Proving the new entry in a throwaway process right after the save (the editor does it in the background). */
  prove_ms?: number;
  methods_saved?: number;
  cache_bytes?: number;
  skipped?: number;
}

/** Evaluates `path` and times the first `main()` call in an already started session. */
export async function runMain(session: JuliaSession, path: string, savedTime?: SavedTime) {
  const code = await readFile(path, 'utf8');
  const load = mustSucceed(`evaluating ${path}`, await session.evaluate({ code, file: path, line: 1 }));
  const before = (await session.request('sessionLog', {})).compiled.length;
  const t = performance.now();
  const first = mustSucceed('main()', await session.evaluate({ code: '__jlc_main_result = main();', file: 'cli-run', line: 1 }));
  const end = performance.now();
  const compiled = (await session.request('sessionLog', {})).compiled.slice(before).map((c) => c.sig);
  const firstWall = { ms: end - t, end };
  savedTime?.annotate(first.timing, first.statements);
  // Text shows its string verbatim, so the display is exactly repr(value).
  const shown = mustSucceed('repr(main())', await session.evaluate({ code: 'Text(repr(__jlc_main_result))', file: 'cli-run', line: 1 }));
  return { file_ms: load.timing.totalMs, first, firstWall, compiled, result: shown.display ?? '' };
}

export async function runReport(file: string, options: CliOptions & { warm?: boolean }): Promise<RunReport> {
  const path = resolve(file);
  const t0 = performance.now();
  const cacheDir = options.cacheDir && resolve(options.cacheDir);
  // As the editor does (nativeCacheService.ts): the store is opened and listed while the session warms up.
  let ahead: Promise<LoadAhead> | undefined;
  const watch = (session: JuliaSession) => {
    if (cacheDir) session.once('identified', () => (ahead = openAndList(session, { cacheDir, maxCacheMB: 512 })));
  };
  return withSession(options, async (session) => {
    const start_ms = performance.now() - t0;
    let store: Store | undefined;
    let cache = 'none';
    let load_ms = 0;
    let load_steps: Record<string, number> | undefined;
    if (ahead) {
      const t = performance.now();
      const early = await ahead;
      // What the session still waits for of the open and the listing once its start is over (usually nothing).
      const waited = performance.now() - t;
      if (!early.store.ok) cache = `rejected: ${early.store.error}`;
      else {
        store = early.store.value;
        const outcome = await loadCache(session, store, early.listed?.ok ? early.listed.value : undefined);
        load_ms = waited + (outcome.status.loadMs ?? 0);
        load_steps = { waited, openAhead: early.openMs, listAhead: early.listMs, ...outcome.steps, ...outcome.result?.steps };
        cache = outcome.status.state === 'loaded' ? 'loaded' : outcome.status.state === 'none' ? 'none' : `rejected: ${outcome.status.reason}`;
      }
    }
    const savedTime = store && cache === 'loaded' ? new SavedTime(await readColdTimes(store)) : undefined;
    const { file_ms, first, firstWall, compiled, result } = await runMain(session, path, savedTime);
    const report: RunReport = {
      file: path, julia_version: session.status().juliaVersion ?? 'unknown', start_ms, file_ms,
      session_ms: firstWall.end - t0, first_wall_ms: firstWall.ms,
      first_ms: first.timing.totalMs, compile_ms: first.timing.compileMs, methods_compiled: first.timing.methodsCompiled, first_compiled: compiled,
      result, cache, load_ms, load_steps, methods_loaded: 0, cold_ms: first.timing.coldMs, saved_ms: first.timing.savedMs,
    };
    if (cache === 'loaded') {
      // User methods are installed as their definitions are evaluated: count after the file ran.
      report.methods_loaded = (await session.request('cache/status', {})).installed;
    }
    if (options.warm) {
      const t = performance.now();
      report.warm_ms = mustSucceed('main()', await session.evaluate({ code: 'main();', file: 'cli-run', line: 1 })).timing.totalMs;
      report.warm_wall_ms = performance.now() - t;
    }
    if (options.save && store) {
      const summary = await saveCompiledWork(session, store, { alreadySaved: new Set() });
      Object.assign(report, { save_ms: summary.ms, save_steps: summary.steps, methods_saved: summary.methodsSaved, cache_bytes: summary.bytes, skipped: summary.skipped.length, capture_path: summary.capturePath });
      const p = performance.now();
      if (summary.entryId) await proveSavedEntry(store, summary.entryId, { session });
      report.prove_ms = performance.now() - p;
      await ensureAgentCode(session);
    }
    return report;
  }, watch);
}

export async function runCommand(file: string, options: CliOptions): Promise<number> {
  const report = await runReport(file, options);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    process.stdout.write(`${report.result}\n`);
    process.stderr.write(
      `main() first call: ${ms(report.first_ms)} (compile ${ms(report.compile_ms)}, ${report.methods_compiled} methods); cache: ${report.cache}` +
        (report.save_ms !== undefined ? `; saved ${report.methods_saved} methods in ${ms(report.save_ms)}` : '') + '\n',
    );
  }
  return 0;
}
