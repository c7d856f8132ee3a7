// "saved N ms" through the real language server: after Save Compiled Work the session's cache status says the
// methods load next session; after a restart with the cache, the first run of the saved statement reports
// timing.coldMs (its first run in the saving session) and timing.savedMs, and a second run reports neither.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { EvaluateResult, SaveSummary, SessionStatus } from '../../shared/src/protocol.ts';
import { repo, startLspServer } from '../helpers/lspServer.ts';

const file = join(repo, 'workloads', 'parser.jl');
const code = readFileSync(file, 'utf8');

test('the status bar numbers: saved methods after a save, coldMs/savedMs on the first cached run', async () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'jlcache-saved-'));
  const server = await startLspServer({ settings: { cacheDir } });
  const evaluate = (c: string, f = 'repl'): Promise<EvaluateResult> => server.conn.sendRequest('julia/evaluate', { code: c, file: f, line: 1 });
  try {
    await evaluate(code, file);
    const cold = await evaluate('r = main();');
    assert.ok(cold.ok && cold.timing.methodsCompiled > 0, JSON.stringify(cold.timing));
    assert.equal(cold.timing.savedMs, undefined);

    const summary: SaveSummary = await server.conn.sendRequest('julia/saveCompiledWork');
    assert.ok(summary.methodsSaved > 0);
    const afterSave: SessionStatus = await server.conn.sendRequest('julia/sessionStatus');
    // What was saved is reported as such; the state still says what this session loaded (nothing).
    assert.deepEqual(afterSave.cache.saved, { methods: summary.methodsSaved, bytes: summary.bytes }, JSON.stringify(afterSave.cache));
    assert.deepEqual([afterSave.cache.state, afterSave.cache.methods], ['none', 0]);

    const restarted: SessionStatus = await server.conn.sendRequest('julia/restartSession');
    assert.equal(restarted.cache.state, 'loaded', JSON.stringify(restarted.cache));
    await evaluate(code, file);
    const cached = await evaluate('r = main();');
    assert.ok(cached.ok && cached.timing.methodsCompiled < cold.timing.methodsCompiled, JSON.stringify(cached.timing));
    // coldMs is the statement's time in the saving session, savedMs that minus its time here (at least 0): checked
    // as relations between the reported times, since which run is faster is the benchmark's question.
    const { coldMs, savedMs, totalMs } = cached.timing;
    assert.ok(coldMs !== undefined && coldMs > 0 && coldMs <= cold.timing.totalMs, JSON.stringify({ cached: cached.timing, cold: cold.timing }));
    assert.ok(savedMs !== undefined && savedMs >= Math.max(0, coldMs - totalMs) && savedMs <= coldMs, JSON.stringify(cached.timing));
    const again = await evaluate('r = main();');
    assert.equal(again.timing.savedMs, undefined, 'only the first run in a session is compared');
  } finally {
    await server.close();
    rmSync(cacheDir, { recursive: true, force: true });
  }
});
