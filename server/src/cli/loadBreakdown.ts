// The benchmark's load-breakdown table: where a cached session's cache/load time goes, per shipped workload (medians
// of the same runs as the main table). Steps: this side (open = identity and key, runCommand.ts; loadFlow.ts: list =
// listing + signature + proof checks,
// rpc = the request round trip minus the agent's own time) and the agent's (glue.jl / jlcache.c: read + sha256, parse
// the plan, link, unwind tables, slot fill, install, then requirements and status).
import type { BenchReport } from './benchCommand.ts';
import { fmt as f, median } from './benchMath.ts';

const STEPS = ['open', 'list', 'rpc', 'read', 'parse', 'link', 'unwind', 'fill', 'install', 'glue'] as const;


/** One run's load split into STEPS (ms); steps it did not report count 0. */
export function loadSteps(r: BenchReport): Record<(typeof STEPS)[number], number> {
  const s = r.load_steps ?? {};
  const agent = ['read', 'parse', 'link', 'unwind', 'fill', 'install'].reduce((t, k) => t + (s[k] ?? 0), 0);
  return {
    open: s.open ?? 0,
    list: (s.list ?? 0) + (s.prove ?? 0),
    rpc: Math.max(0, (s.request ?? 0) - (s.entries ?? 0) - (s.satisfy ?? 0) - (s.status ?? 0)),
    read: s.read ?? 0, parse: s.parse ?? 0, link: s.link ?? 0, unwind: s.unwind ?? 0, fill: s.fill ?? 0, install: s.install ?? 0,
    glue: Math.max(0, (s.entries ?? 0) - agent) + (s.satisfy ?? 0) + (s.status ?? 0),
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
    'ms, medians; load: what the session waits for, end to end from the server (open the store, list, proof check, request,',
    'link, install); ms per MB: load / (object + plan); load / cold compile: against the compile time the cold first call spent',
    '(target <= 10%); sessions: spawn to main() returned, wall clock.',
  );
  return rows;
}
