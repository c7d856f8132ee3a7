// `demo`: the latency story of workloads/parser.jl's main() in one table: a cold session (first and second call),
// Save Compiled Work, then a fresh session that loads the cache (its first call).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../util/repoRoot.ts';
import { ms, type CliOptions } from './cliSession.ts';
import { runReport } from './runCommand.ts';

export async function demoCommand(options: CliOptions): Promise<number> {
  const workload = join(repoRoot(), 'workloads', 'parser.jl');
  const dir = await mkdtemp(join(tmpdir(), 'jlcache-demo-'));
  try {
    process.stderr.write('cold session: evaluating workloads/parser.jl, main() twice, then Save Compiled Work...\n');
    // json: true sends Julia's own output to stderr, so stdout holds only the table.
    const cold = await runReport(workload, { ...options, json: true, cacheDir: dir, save: true, warm: true });
    process.stderr.write('fresh session with the cache...\n');
    const cached = await runReport(workload, { ...options, json: true, cacheDir: dir });
    const same = cold.result === cached.result;
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ workload, julia_version: cold.julia_version, cold, cached, same_result: same })}\n`);
      return same ? 0 : 1;
    }
    const row = (label: string, latency: number, compile: string, methods: string, note = '') =>
      `${label.padEnd(30)} ${ms(latency).padStart(11)} ${compile.padStart(11)} ${methods.padStart(8)}${note ? `   ${note}` : ''}`;
    const lines = [
      `Julia ${cold.julia_version} · ${workload} · main()`,
      `${''.padEnd(30)} ${'latency'.padStart(11)} ${'compile'.padStart(11)} ${'methods'.padStart(8)}`,
      row('cold session, first call', cold.first_ms, ms(cold.compile_ms), String(cold.methods_compiled)),
      row('cold session, second call', cold.warm_ms ?? 0, '', ''),
      `Save Compiled Work: ${cold.methods_saved ?? 0} methods, ${Math.round((cold.cache_bytes ?? 0) / 1024)} KB in ${ms(cold.save_ms ?? 0)}` +
        ` (${cold.skipped ?? 0} skipped)`,
      row('cached session, first call', cached.first_ms, ms(cached.compile_ms), String(cached.methods_compiled),
        `cache ${cached.cache}: ${cached.methods_loaded} methods in ${ms(cached.load_ms)}` +
          (cached.saved_ms !== undefined ? `; status bar: saved ${Math.round(cached.saved_ms)} ms` : '')),
      `first call, cold / cached: ${(cold.first_ms / cached.first_ms).toFixed(0)}x; same result: ${same ? 'yes' : 'NO'}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return same ? 0 : 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
