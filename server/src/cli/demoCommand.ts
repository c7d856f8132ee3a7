// `demo`: the latency story in one table: workloads/parser.jl's main(), first call vs second call.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../util/repoRoot.ts';
import { ms, mustSucceed, withSession, type CliOptions } from './cliSession.ts';

export async function demoCommand(options: CliOptions): Promise<number> {
  const workload = join(repoRoot(), 'workloads', 'parser.jl');
  // json: true sends Julia's own output to stderr, so stdout holds only the table.
  const rows = await withSession({ ...options, json: true }, async (session) => {
    mustSucceed('loading the workload', await session.evaluate({ code: await readFile(workload, 'utf8'), file: workload, line: 1 }));
    const calls = [];
    for (const label of ['first call', 'second call']) {
      const result = mustSucceed('main()', await session.evaluate({ code: 'main();', file: 'demo', line: 1 }));
      calls.push({ label, ...result.timing });
    }
    return { calls, version: session.status().juliaVersion };
  });
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ workload, julia_version: rows.version, calls: rows.calls })}\n`);
    return 0;
  }
  const lines = [
    `Julia ${rows.version} · ${workload}`,
    `${'main()'.padEnd(12)} ${'latency'.padStart(11)} ${'compile'.padStart(11)} ${'share'.padStart(6)} ${'methods'.padStart(8)}`,
    ...rows.calls.map((c) => {
      const share = c.totalMs > 0 ? `${Math.round((100 * c.compileMs) / c.totalMs)}%` : '-';
      return `${c.label.padEnd(12)} ${ms(c.totalMs).padStart(11)} ${ms(c.compileMs).padStart(11)} ${share.padStart(6)} ${String(c.methodsCompiled).padStart(8)}`;
    }),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
