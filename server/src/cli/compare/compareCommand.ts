// `benchmark --compare` (npm run bench -- --compare): for each shipped workload, plain Julia, a custom system image
// built from the same workload's compile log (sysimage.ts) and this product's cache, measured side by side in one run.
// Sessions are medians of several runs; each build and save happens once. Writes docs/COMPARISON.md (the part between
// its markers) and docs/comparison.svg.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { treeBytes } from '../../cache/files.ts';
import { repoRoot } from '../../util/repoRoot.ts';
import { cliJuliaPath, type CliOptions } from '../cliSession.ts';
import { runReport } from '../runCommand.ts';
import { median } from '../benchMath.ts';
import { type CompareRow, writeComparison } from './compareReport.ts';
import { bareRun, buildSysimage, type BareRun } from './sysimage.ts';

export async function compareCommand(options: CliOptions): Promise<number> {
  const julia = cliJuliaPath(options);
  const runs = options.runs ?? 3;
  const dir = join(repoRoot(), 'workloads');
  const files = (await readdir(dir)).filter((n) => n.endsWith('.jl')).sort();
  const rows: CompareRow[] = [];
  const startedAt = new Date();
  let written = { table: '', files: [] as string[] };
  // Written after every workload: a run cut short still leaves the workloads it finished, marked as partial.
  for (const [i, name] of files.entries()) {
    rows.push(...(await compareWorkload(julia, join(dir, name), runs)));
    const partial = i < files.length - 1 ? `${i + 1} of ${files.length} workloads` : undefined;
    written = await writeComparison(rows, { runs, startedAt, julia, partial });
  }
  process.stdout.write(`${written.table}\n\nwrote ${written.files.join(', ')}\n`);
  return rows.every((r) => r.correct) ? 0 : 1;
}

async function compareWorkload(julia: string, file: string, runs: number): Promise<CompareRow[]> {
  const workload = file.split('/').pop()!;
  const work = await mkdtemp(join(tmpdir(), 'jlcache-compare-'));
  const log = (what: string) => process.stderr.write(`${workload}: ${what}\n`);
  try {
    const build = await buildSysimage(julia, file, work);
    log(`system image built in ${(build.totalMs / 1000).toFixed(1)} s (${build.statements} statements)`);
    const cacheDir = join(work, 'cache');
    const cold = await runReport(file, { json: true, juliaPath: julia, cacheDir, save: true });
    log(`cache saved in ${(cold.save_ms! / 1000).toFixed(1)} s`);
    const cacheBytes = await treeBytes(cacheDir);
    const plain: BareRun[] = [];
    const image: BareRun[] = [];
    const cached: BareRun[] = [];
    // Interleaved, so that a change of machine load touches every variant alike.
    for (let i = 0; i < runs; i++) {
      plain.push(await bareRun(julia, file, work));
      image.push(await bareRun(julia, file, work, { image: build.path }));
      const r = await runReport(file, { json: true, juliaPath: julia, cacheDir });
      if (r.cache !== 'loaded') throw new Error(`${workload}: the cache did not load (${r.cache})`);
      cached.push({ startMs: r.start_ms + r.load_ms, sessionMs: r.session_ms, firstMs: r.first_ms, result: r.result });
      log(`run ${i + 1}: ${JSON.stringify({ plain: plain[i], image: image[i], cache: cached[i], load: { ms: r.load_ms, steps: r.load_steps, bytes: cacheBytes } })}`);
    }
    const expected = plain[0].result;
    const row = (variant: CompareRow['variant'], rs: BareRun[], buildMs: number | undefined, bytes: number | undefined): CompareRow => ({
      workload, variant, buildMs, bytes,
      startMs: median(rs.map((r) => r.startMs)),
      firstMs: median(rs.map((r) => r.firstMs)),
      sessionMs: median(rs.map((r) => r.sessionMs)),
      correct: rs.every((r) => r.result === expected),
    });
    return [
      row('plain Julia', plain, undefined, undefined),
      row('system image', image, build.totalMs, build.bytes),
      row('this cache', cached, cold.save_ms, cacheBytes),
    ];
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
