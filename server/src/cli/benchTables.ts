// The benchmark's sections besides the shipped workloads: the corpus of everyday Julia forms (workloads/forms) with
// the scripts that include their code (workloads/include), generated workloads of 10 / 100 / 1,000 methods for
// scaling, and the team cache through a local server. Each row comes from benchOnce (a cold session that saves, then
// a fresh session with that cache), so every figure is measured the same way.
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureProven } from '../cache/prove.ts';
import { openSessionStore } from '../cache/sessionStore.ts';
import { connectTeamCache } from '../remote/connect.ts';
import { pullCache } from '../remote/pull.ts';
import { pushCache } from '../remote/push.ts';
import { repoRoot } from '../util/repoRoot.ts';
import { benchOnce, type BenchReport } from './benchCommand.ts';
import { withSession, type CliOptions } from './cliSession.ts';
import { startNginxCache } from './nginxCacheServer.ts';
import { runReport } from './runCommand.ts';
import { fmt as f, median } from './benchMath.ts';

const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

/** Share of the signatures main()'s cold first call compiled that the cached first call did not compile again. */
export function coverage(r: BenchReport): number {
  if (r.cold_compiled.length === 0) return 1;
  const again = new Set(r.cached_compiled);
  return r.cold_compiled.filter((s) => !again.has(s)).length / r.cold_compiled.length;
}

/** Scripts whose functions live in `include`d files (workloads/include), measured like the forms. */
const INCLUDE_WORKLOADS = ['report.jl', 'nested.jl'];

export async function formsTable(options: CliOptions): Promise<{ rows: string[]; ok: boolean }> {
  const workloads = join(repoRoot(), 'workloads');
  const forms = (await readdir(join(workloads, 'forms'))).filter((n) => n.endsWith('.jl')).sort();
  const files = [...forms.map((n) => join('forms', n)), ...INCLUDE_WORKLOADS.map((n) => join('include', n))];
  const rows = [
    '| form | cold first | compiled | cached first | compiled again | cached | cold/cached | save | correct |',
    '|' + '---|'.repeat(9),
  ];
  let ok = true;
  for (const name of files) {
    const r = await benchOnce(join(workloads, name), { ...options, json: true });
    process.stderr.write(`${name}: cold ${f(r.cold_first_ms)} cached ${f(r.cached_first_ms)} (${r.cache})\n`);
    ok &&= r.correct;
    rows.push(
      `| ${name} | ${f(r.cold_first_ms)} | ${r.cold_compiled.length} | ${f(r.cached_first_ms)} | ${r.cached_compiled.length} | ${pct(coverage(r))} | ` +
        `${(r.cold_first_ms / r.cached_first_ms).toFixed(0)}x | ${f(r.save_ms)} | ${r.correct ? 'yes' : 'NO'} |`,
    );
  }
  return { rows, ok };
}

/** A script of `n` distinct functions that main() calls through dynamic dispatch, so each compiles on its own. */
export function generatedWorkload(n: number): string {
  const fns: string[] = [];
  for (let i = 1; i <= n; i++) {
    const body = [
      `x * ${i} + length(string(x, "-", ${i}))`,
      `sum(k -> k % ${i + 1}, 1:x) + ${i}`,
      `length(join(["a${i}", string(x)], ",")) * ${i}`,
    ][i % 3];
    fns.push(`f_${i}(x::Int) = ${body}`);
  }
  return `${fns.join('\n')}\nconst FS = Function[${Array.from({ length: n }, (_, k) => `f_${k + 1}`).join(', ')}]\nmain() = sum(f(7) for f in FS)\n`;
}

export async function scalingTable(options: CliOptions): Promise<{ rows: string[]; ok: boolean }> {
  const rows = [
    '| methods | cold first | cached first | save | save per method | object + plan | per method | load | load per method | correct |',
    '|' + '---|'.repeat(10),
  ];
  let ok = true;
  const dir = await mkdtemp(join(tmpdir(), 'jlcache-scaling-'));
  try {
    for (const n of [10, 100, 1000]) {
      const file = join(dir, `generated_${n}.jl`);
      await writeFile(file, generatedWorkload(n));
      const r = await benchOnce(file, { ...options, json: true });
      process.stderr.write(`scaling ${n}: save ${f(r.save_ms)} load ${f(r.load_ms)} (${r.cache})\n`);
      ok &&= r.correct;
      const per = Math.max(1, r.methods_cached);
      rows.push(
        `| ${n} (${r.methods_cached} entries) | ${f(r.cold_first_ms)} | ${f(r.cached_first_ms)} | ${f(r.save_ms)} | ${f(r.save_ms / per)} | ` +
          `${Math.round(r.cache_bytes / 1024)} KB | ${(r.cache_bytes / per / 1024).toFixed(1)} KB | ${f(r.load_ms)} | ${(r.load_ms / per).toFixed(3)} | ${r.correct ? 'yes' : 'NO'} |`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { rows, ok };
}

/**
 * The team cache: per shipped workload a cold session saves into one cache and pushes it to a local nginx; N empty
 * caches pull it (fetch, signature and sha256 checks, store write), the last is proven once, and N fresh sessions
 * load it and run main(). Pull and load are medians of the N runs (`--runs`).
 */
export async function remoteTable(options: CliOptions): Promise<{ rows: string[]; ok: boolean }> {
  const runs = options.runs ?? 3;
  const rows = [
    '| workload | cold first | pulled first | cold/pulled | pull (fetch + verify + store) | proof (once) | load | pull + load | bytes transferred per entry | correct |',
    '|' + '---|'.repeat(10),
  ];
  let ok = true;
  const dir = await mkdtemp(join(tmpdir(), 'jlcache-remote-bench-'));
  try {
    const wdir = join(repoRoot(), 'workloads');
    for (const name of (await readdir(wdir)).filter((n) => n.endsWith('.jl')).sort()) {
      const built = join(dir, `${name}-built`);
      const cold = await runReport(join(wdir, name), { ...options, json: true, cacheDir: built, save: true });
      // A server of its own per workload: a pull fetches every entry the index lists, so one pull is one entry.
      const server = await startNginxCache();
      const moved = await pushThenPull(options, server.url, built, join(dir, `${name}-pulled`), runs).finally(() => server.stop());
      const cached = [];
      for (let i = 0; i < runs; i++) cached.push(await runReport(join(wdir, name), { ...options, json: true, cacheDir: moved.proven }));
      const correct = cached.every((c) => c.result === cold.result && c.cache === 'loaded');
      ok &&= correct;
      const [pull, load, first] = [median(moved.pullMs), median(cached.map((c) => c.load_ms)), median(cached.map((c) => c.first_ms))];
      process.stderr.write(`remote/${name}: pull ${moved.pullMs.map(f).join(' ')} load ${cached.map((c) => f(c.load_ms)).join(' ')}\n`);
      rows.push(
        `| ${name} | ${f(cold.first_ms)} | ${f(first)} | ${(cold.first_ms / first).toFixed(0)}x | ${f(pull)} | ${f(moved.proveMs)} | ` +
          `${f(load)} | ${f(pull + load)} | ${Math.round(moved.bytes / Math.max(1, moved.entries) / 1024)} KB | ${correct ? 'yes' : 'NO'} |`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  rows.push(
    '',
    `pull: listing, manifest and blob downloads over loopback, Ed25519 and sha256 checks, written to an empty local cache, one entry from a server of its own (median of ${runs});`,
    'proof: the throwaway Julia process every new entry passes once (cache pull runs it; a session start would);',
    `load: what the next session waits for (store checks, link, install; median of ${runs}); bytes: received by one pull per entry.`,
  );
  return { rows, ok };
}

/** Pushes `from`, pulls it `runs` times into empty caches `into-<i>`, proves the last: its directory is `proven`. */
async function pushThenPull(options: CliOptions, url: string, from: string, into: string, runs: number) {
  return withSession({ ...options, json: true }, async (session) => {
    const open = async (dir: string) => {
      const s = await openSessionStore(session, { cacheDir: dir, maxCacheMB: 512 });
      if (!s.ok) throw new Error(s.error);
      return s.value;
    };
    const connect = async () => {
      const r = await connectTeamCache({ url, trustedKeys: [] }, AbortSignal.timeout(60_000));
      if (!r.ok) throw new Error(r.error);
      return r.value;
    };
    const pushed = await pushCache(await open(from), await connect());
    if (!pushed.ok) throw new Error(pushed.error);
    const pullMs: number[] = [];
    let last;
    for (let i = 0; i < runs; i++) {
      last = { dir: `${into}-${i}`, store: await open(`${into}-${i}`) };
      const pulled = await pullCache(last.store, await connect());
      if (pulled.stopped || pulled.problems.length) throw new Error(`pull failed: ${pulled.stopped ?? pulled.problems[0]}`);
      pullMs.push(pulled.ms);
      last = { ...last, bytes: pulled.bytesReceived, entries: pulled.pulled.length };
    }
    const t = performance.now();
    await ensureProven(last!.store, 'all', { session });
    return { pullMs, proveMs: performance.now() - t, bytes: last!.bytes, entries: last!.entries, proven: last!.dir };
  });
}
