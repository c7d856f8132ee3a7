// The benchmark's save-breakdown table: where a session's first Save Compiled Work goes, per shipped workload
// (medians of the same runs as the main table). Server side (saveFlow.ts, storeCapture.ts): agent code = installing
// the capture code's own cache; emit = the codegen child's request (object emission and checks); store = the entry's
// durable write. The session's (capture/inprocess.jl, capture.jl `timing`): resolve the signatures, infer (sources
// the JIT dropped), jl_create_native, imports (entries, system-image callees, pruning), describe (slots), Julia's
// passes, analysis (requirements, plans), write (bitcode, plan); other = the rest of the capture request.
import type { BenchReport } from './benchCommand.ts';
import { fmt as f, median } from './benchMath.ts';

const SESSION_STEPS = [
  ['resolve', 'resolveMs'], ['infer', 'inferMs'], ['create native', 'createNativeMs'], ['imports', 'importMs'],
  ['describe', 'describeMs'], ['passes', 'passesMs'], ['analysis', 'analysisMs'], ['write', 'writeMs'],
] as const;

/** One run's save split into columns (ms); steps it did not report count 0. */
export function saveSteps(r: BenchReport): number[] {
  const s = r.save_steps ?? {};
  const v = (k: string) => s[k] ?? 0;
  const inSession = SESSION_STEPS.map(([, k]) => v(k));
  const other = Math.max(0, v('capture') - inSession.reduce((a, b) => a + b, 0));
  return [v('agentCode'), ...inSession, other, v('emit'), v('store')];
}

export function saveBreakdownTable(byWorkload: [string, BenchReport[]][]): string[] {
  const names = ['agent code', ...SESSION_STEPS.map(([n]) => n), 'capture other', 'emit', 'store'];
  const rows = [`| workload | ${names.join(' | ')} | save |`, '|' + '---|'.repeat(names.length + 2)];
  for (const [name, reps] of byWorkload) {
    const cols = names.map((_, i) => f(median(reps.map((r) => saveSteps(r)[i]))));
    rows.push(`| ${name} | ${cols.join(' | ')} | ${f(median(reps.map((r) => r.save_ms)))} |`);
  }
  rows.push(
    '',
    'ms, medians; resolve ... write: the capture in the session; emit: object emission and checks in the codegen child',
    '(started before the capture, so loading LLVM overlaps it); save: Save Compiled Work end to end (target <= 1 s).',
  );
  return rows;
}
