// `bench FILE.jl`: a cold session that saves its compiled work, then a fresh session with that cache: the numbers
// of one workload side by side. `benchmark`: every shipped workload, medians of several runs, as one table.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../util/repoRoot.ts';
import type { CliOptions } from './cliSession.ts';
import { runReport } from './runCommand.ts';

export interface BenchReport {
  file: string;
  cold_first_ms: number;
  cached_first_ms: number;
  warm_ms: number;
  load_ms: number;
  save_ms: number;
  cache_bytes: number;
  methods_cached: number;
  methods_loaded: number;
  skipped: number;
  /** Whole sessions: start + cache load + file + first main(), and the warm floor (start + file + warm main()). */
  cold_session_ms: number;
  cached_session_ms: number;
  floor_ms: number;
  cache: string;
  correct: boolean;
}

export async function benchOnce(file: string, options: CliOptions): Promise<BenchReport> {
  const dir = await mkdtemp(join(tmpdir(), 'jlcache-bench-'));
  try {
    const cold = await runReport(file, { ...options, cacheDir: dir, save: true, warm: true });
    const cached = await runReport(file, { ...options, cacheDir: dir, save: false });
    const floor = cold.start_ms + cold.file_ms + (cold.warm_ms ?? 0);
    return {
      file,
      cold_first_ms: cold.first_ms,
      cached_first_ms: cached.first_ms,
      warm_ms: cold.warm_ms ?? 0,
      load_ms: cached.load_ms,
      save_ms: cold.save_ms ?? 0,
      cache_bytes: cold.cache_bytes ?? 0,
      methods_cached: cold.methods_saved ?? 0,
      methods_loaded: cached.methods_loaded,
      skipped: cold.skipped ?? 0,
      cold_session_ms: cold.start_ms + cold.file_ms + cold.first_ms,
      cached_session_ms: cached.start_ms + cached.load_ms + cached.file_ms + cached.first_ms,
      floor_ms: floor,
      cache: cached.cache,
      correct: cold.result === cached.result,
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

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const f = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(0));

export async function benchmarkCommand(options: CliOptions): Promise<number> {
  const runs = options.runs ?? 3;
  const dir = join(repoRoot(), 'workloads');
  const files = (await readdir(dir)).filter((n) => n.endsWith('.jl')).sort();
  const rows: string[] = [];
  let allCorrect = true;
  process.stdout.write(`Julia compiled cache benchmark: medians of ${runs} runs per workload (ms unless noted)\n\n`);
  const header = '| workload | cold first | cached first | warm | speed-up | load | save | bytes | methods cached | installed | session excess cached/cold | correct |';
  rows.push(header, '|' + '---|'.repeat(12));
  for (const name of files) {
    const reps: BenchReport[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await benchOnce(join(dir, name), { ...options, json: true });
      reps.push(r);
      process.stderr.write(`${name} run ${i + 1}: cold ${f(r.cold_first_ms)} cached ${f(r.cached_first_ms)} (${r.cache})\n`);
    }
    const m = (k: keyof BenchReport) => median(reps.map((r) => r[k] as number));
    const excess = median(reps.map((r) => (r.cached_session_ms - r.floor_ms) / Math.max(1, r.cold_session_ms - r.floor_ms)));
    const correct = reps.every((r) => r.correct);
    allCorrect &&= correct;
    rows.push(
      `| ${name} | ${f(m('cold_first_ms'))} | ${f(m('cached_first_ms'))} | ${f(m('warm_ms'))} | ${(m('cold_first_ms') / m('cached_first_ms')).toFixed(1)}x | ` +
        `${f(m('load_ms'))} | ${f(m('save_ms'))} | ${Math.round(m('cache_bytes') / 1024)} KB | ${m('methods_cached')} | ${m('methods_loaded')} | ` +
        `${(excess * 100).toFixed(0)}% | ${correct ? 'yes' : 'NO'} |`,
    );
  }
  process.stdout.write(rows.join('\n') + '\n');
  return allCorrect ? 0 : 1;
}
