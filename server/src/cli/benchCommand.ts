// `bench FILE.jl`: a cold session that saves its compiled work, then a fresh session with that cache: the numbers
// of one workload side by side. `benchmark`: every shipped workload, medians of several runs, as one table.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../util/repoRoot.ts';
import type { CliOptions } from './cliSession.ts';
import { formsTable, remoteTable, scalingTable } from './benchTables.ts';
import { compareCommand } from './compare/compareCommand.ts';
import { loadBreakdownTable } from './loadBreakdown.ts';
import { saveBreakdownTable } from './saveBreakdown.ts';
import { runReport } from './runCommand.ts';
import { packagesTable } from './packageTable.ts';
import { fmt as f, median } from './benchMath.ts';

export interface BenchReport {
  file: string;
  cold_first_ms: number;
  cached_first_ms: number;
  warm_ms: number;
  load_ms: number;
  /** Where load_ms went, per step (runCommand.ts load_steps). */
  load_steps?: Record<string, number>;
  /** Compile time main()'s cold first call spent (the compile log). */
  cold_compile_ms: number;
  save_ms: number;
  /** Where save_ms went (runCommand.ts save_steps). */
  save_steps?: Record<string, number>;
  cache_bytes: number;
  methods_cached: number;
  methods_loaded: number;
  skipped: number;
  /** The proof after the save (a throwaway process; the editor runs it in the background). */
  prove_ms: number;
  /** main()'s first call with the cache as the status bar reports it: coldMs - totalMs (statementTimes.ts). */
  saved_ms: number;
  /**
   * Whole sessions, wall clock in this process: spawn -> first main() returned (start, cache load, file, main). The
   * warm floor is the cold session with its first main() replaced by the warm one (start with no cache + warm
   * workload). Excess = session - floor; the target is cached excess <= 10% of the cold excess.
   */
  cold_session_ms: number;
  cached_session_ms: number;
  floor_ms: number;
  session_excess: number;
  cache: string;
  correct: boolean;
  /** Signatures main()'s first call compiled: cold, and again with the cache. */
  cold_compiled: string[];
  cached_compiled: string[];
  capture_path: string;
}

export async function benchOnce(file: string, options: CliOptions): Promise<BenchReport> {
  const dir = await mkdtemp(join(tmpdir(), 'jlcache-bench-'));
  try {
    const cold = await runReport(file, { ...options, cacheDir: dir, save: true, warm: true });
    const cached = await runReport(file, { ...options, cacheDir: dir, save: false });
    const floor = cold.session_ms - cold.first_wall_ms + (cold.warm_wall_ms ?? 0);
    return {
      file,
      cold_first_ms: cold.first_ms,
      cached_first_ms: cached.first_ms,
      warm_ms: cold.warm_ms ?? 0,
      load_ms: cached.load_ms,
      load_steps: cached.load_steps,
      cold_compile_ms: cold.compile_ms,
      save_ms: cold.save_ms ?? 0,
      save_steps: cold.save_steps,
      cache_bytes: cold.cache_bytes ?? 0,
      methods_cached: cold.methods_saved ?? 0,
      methods_loaded: cached.methods_loaded,
      skipped: cold.skipped ?? 0,
      prove_ms: cold.prove_ms ?? 0,
      saved_ms: cached.saved_ms ?? 0,
      cold_session_ms: cold.session_ms,
      cached_session_ms: cached.session_ms,
      floor_ms: floor,
      session_excess: (cached.session_ms - floor) / Math.max(1, cold.session_ms - floor),
      cache: cached.cache,
      correct: cold.result === cached.result,
      cold_compiled: cold.first_compiled,
      cached_compiled: cached.first_compiled,
      capture_path: cold.capture_path ?? '',
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchCommand(file: string, options: CliOptions): Promise<number> {
  const r = await benchOnce(file, options);
  process.stdout.write(options.json ? `${JSON.stringify(r)}\n` : `${JSON.stringify(r, null, 2)}\n`);
  return r.correct ? 0 : 1;
}


export async function benchmarkCommand(options: CliOptions): Promise<number> {
  if (options.compare) return compareCommand(options);
  const sections = options.sections ?? ['shipped', 'forms', 'scaling', 'remote', 'packages'];
  let ok = true;
  if (sections.includes('shipped')) ok = (await shippedTable(options)) && ok;
  for (const [name, title, table] of [
    ['forms', 'Everyday Julia forms (workloads/forms) and scripts that include their code (workloads/include), one run each', formsTable],
    ['scaling', 'Scaling: generated workloads of n distinct methods, one run each', scalingTable],
    ['remote', 'Team cache: pushed to and pulled from nginx on 127.0.0.1, pull and load medians of --runs (ms unless noted)', remoteTable],
    ['packages', 'Package caches built from tests (workloads/packages), ms unless noted', packagesTable],
  ] as const) {
    if (!sections.includes(name)) continue;
    const { rows, ok: correct } = await table(options);
    process.stdout.write(`\n${title}\n\n${rows.join('\n')}\n`);
    ok &&= correct;
  }
  return ok ? 0 : 1;
}

async function shippedTable(options: CliOptions): Promise<boolean> {
  const runs = options.runs ?? 3;
  const dir = join(repoRoot(), 'workloads');
  const files = (await readdir(dir)).filter((n) => n.endsWith('.jl')).sort();
  const rows: string[] = [];
  const runsByWorkload: [string, BenchReport[]][] = [];
  let allCorrect = true;
  process.stdout.write(`Julia compiled cache benchmark: medians of ${runs} runs per workload (ms unless noted)\n\n`);
  const header = '| workload | cold first | cached first | warm | cold/cached | load | save | bytes | methods cached | installed | whole-session excess | correct |';
  rows.push(header, '|' + '---|'.repeat(12));
  for (const name of files) {
    const reps: BenchReport[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await benchOnce(join(dir, name), { ...options, json: true });
      reps.push(r);
      process.stderr.write(`${name} run ${i + 1}: cold ${f(r.cold_first_ms)} cached ${f(r.cached_first_ms)} (${r.cache})\n`);
    }
    runsByWorkload.push([name, reps]);
    const m = (k: keyof BenchReport) => median(reps.map((r) => r[k] as number));
    const excess = m('session_excess');
    const correct = reps.every((r) => r.correct);
    allCorrect &&= correct;
    rows.push(
      `| ${name} | ${f(m('cold_first_ms'))} | ${f(m('cached_first_ms'))} | ${f(m('warm_ms'))} | ${(m('cold_first_ms') / m('cached_first_ms')).toFixed(1)}x | ` +
        `${f(m('load_ms'))} | ${f(m('save_ms'))} | ${Math.round(m('cache_bytes') / 1024)} KB | ${m('methods_cached')} | ${m('methods_loaded')} | ` +
        `${(excess * 100).toFixed(0)}% | ${correct ? 'yes' : 'NO'} |`,
    );
  }
  rows.push(
    '',
    'first calls: main() as its own statement, timed inside Julia; load: what the session waits for (open the store, list,',
    'read + sha256, link, install); save: Save Compiled Work end to end, the first of the session (capture in the session,',
    'object emission, store); whole-session excess: (cached session - warm floor) / (cold session - warm floor), wall clock',
    'from spawn to main() returned, where the warm floor is the cold session with a warm main() (target <= 10%).',
  );
  rows.push('', 'Load breakdown (same runs)', '', ...loadBreakdownTable(runsByWorkload));
  rows.push('', 'Save breakdown (same runs)', '', ...saveBreakdownTable(runsByWorkload));
  process.stdout.write(rows.join('\n') + '\n');
  return allCorrect;
}
