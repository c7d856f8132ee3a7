// The benchmark's load-breakdown table: where a cached session's cache/load time goes, per shipped workload (medians
// of the same runs as the main table). This side (runCommand.ts, loadFlow.ts): ahead = opening the store (identity,
// key) and listing it (signatures, sizes, proof markers) while the session warms up (loadAhead.ts), not part of the
// load; wait = what of that the session still waited for after its start, plus the proof check; rpc = the request
// round trip minus the agent's handler. The agent's (glue.jl / jlcache.c): read + sha256, parse the plan, link, unwind
// tables, slot fill, install; glue = the handler's time outside those C steps (requirements, counts, its Julia code).
import type { BenchReport } from './benchCommand.ts';
import { fmt as f, median } from './benchMath.ts';

const STEPS = ['ahead', 'wait', 'rpc', 'read', 'parse', 'link', 'unwind', 'fill', 'install', 'glue'] as const;
const LOADER_STEPS = ['read', 'parse', 'link', 'unwind', 'fill', 'install'] as const;

/** One run's load split into STEPS (ms); steps it did not report count 0. */
export function loadSteps(r: BenchReport): Record<(typeof STEPS)[number], number> {
  const s = r.load_steps ?? {};
  const v = (k: string) => s[k] ?? 0;
  const loader = LOADER_STEPS.reduce((t, k) => t + v(k), 0);
  return {
    ahead: v('openAhead') + v('listAhead'),
    wait: v('waited') + v('list') + v('prove'),
    rpc: Math.max(0, v('request') - v('handler')),
    read: v('read'), parse: v('parse'), link: v('link'), unwind: v('unwind'), fill: v('fill'), install: v('install'),
    glue: Math.max(0, v('handler') - loader),
  };
}

export function loadBreakdownTable(byWorkload: [string, BenchReport[]][]): string[] {
  const rows = [
    `| workload | bytes | ${STEPS.join(' | ')} | load | ms per MB | load / cold compile | cold session | cached session |`,
    '|' + '---|'.repeat(STEPS.length + 7),
  ];
  for (const [name, reps] of byWorkload) {
    const m = (g: (r: BenchReport) => number) => median(reps.map(g));
    const bytes = m((r) => r.cache_bytes);
    const load = m((r) => r.load_ms);
    const steps = STEPS.map((k) => f(m((r) => loadSteps(r)[k])));
    rows.push(
      `| ${name} | ${Math.round(bytes / 1024)} KB | ${steps.join(' | ')} | ${f(load)} | ${f(load / (bytes / (1 << 20)))} | ` +
        `${((100 * load) / Math.max(1, m((r) => r.cold_compile_ms))).toFixed(1)}% | ${f(m((r) => r.cold_session_ms))} | ${f(m((r) => r.cached_session_ms))} |`,
    );
  }
  rows.push(
    '',
    'ms, medians; ahead: opening and listing the store while the session warms up (not part of load); load: what the',
    'session waits for after its start, end to end from the server (wait for the listing, proof check, request, link,',
    'install); ms per MB: load / (object + plan); load / cold compile: against the compile time the cold first call spent',
    '(target <= 10%); sessions: spawn to main() returned, wall clock.',
  );
  return rows;
}
