// Save through a capture worker prepared ahead of time (worker.jl --serve: warmed up by a throwaway capture, then one
// job): the entry it writes must load and run exactly like one from a cold worker, for the hard reload cases
// (Regex ccall, closure, kwargs, parametric struct, exception, dynamic dispatch, GC), and it must be fast.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { loadCache } from '../../server/src/cache/loadFlow.ts';
import { prepareSave, saveCompiledWork, type SessionLog } from '../../server/src/cache/saveFlow.ts';
import { openSessionStore } from '../../server/src/cache/sessionStore.ts';
import { stopCaptureWorkers, takeCaptureWorker } from '../../server/src/capture/warmWorker.ts';
import { withSession } from '../../server/src/cli/cliSession.ts';
import { runMain } from '../../server/src/cli/runCommand.ts';
import type { JuliaSession } from '../../server/src/session/juliaSession.ts';

const file = resolve(__dirname, '..', 'fixtures', 'julia', 'reload_cases.jl');
const julia = process.env.JULIA || 'julia';
const cacheDir = mkdtempSync(join(tmpdir(), 'jlcache-prepared-'));
after(async () => {
  await stopCaptureWorkers();
  rmSync(cacheDir, { recursive: true, force: true });
});

/** A session as the CLI runs one: Julia's output to stderr; stopped, with any prepared worker, at the end. */
const inSession = <T>(body: (s: JuliaSession) => Promise<T>) => withSession({ json: true, juliaPath: process.env.JULIA }, body);

const storeOf = async (s: JuliaSession) => {
  const opened = await openSessionStore(s, { cacheDir, maxCacheMB: 512 });
  if (!opened.ok) throw new Error(opened.error);
  return opened.value;
};

test('a prepared worker saves the reload cases; a fresh session runs them from the cache, same results', async () => {
  const cold = await inSession(async (s) => {
    const run = await runMain(s, file);
    const worker = await prepareSave(s, julia);
    assert.ok(worker && (await worker.ready), 'the prepared worker reports ready');
    const summary = await saveCompiledWork(s, await storeOf(s), { julia, alreadySaved: new Set() });
    assert.equal(takeCaptureWorker({ julia, sysimage: s.agentInfo!.identity.sysimage }), undefined, 'the save used the prepared worker');
    return { run, summary };
  });
  assert.ok(cold.summary.methodsSaved > 0);
  assert.ok(cold.summary.ms < 10_000, `save with a prepared worker took ${cold.summary.ms} ms`);

  await inSession(async (s) => {
    const outcome = await loadCache(s, await storeOf(s));
    assert.equal(outcome.status.state, 'loaded', JSON.stringify(outcome.status));
    const run = await runMain(s, file);
    assert.equal(run.result, cold.run.result);
    const log = (await s.request('sessionLog', {})) as SessionLog;
    const recompiled = log.compiled.map((c) => c.sig).filter((sig) => /typeof\(Main\.(main|case_\w+)\)/.test(sig));
    assert.deepEqual(recompiled, [], `compiled again in the cached session: ${recompiled.join(', ')}`);
  });
});
