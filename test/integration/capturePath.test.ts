// The capture fallback: a session that refuses to capture in process (JLC_FORCE_WORKER set, or several threads:
// the codegen flag is process-wide) still saves, through the worker process, and the entry loads in the next
// session with the same result. The refusal names its reason, and the refusing session keeps working afterwards.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { openSessionStore } from '../../server/src/cache/sessionStore.ts';
import { saveCompiledWork } from '../../server/src/cache/saveFlow.ts';
import { JuliaSession } from '../../server/src/session/juliaSession.ts';
import { brief, cleanupTemps, cliRun, privateKeyDir, tempDir, workloads } from '../helpers/cliRun.ts';

const PARSER = join(workloads, 'parser.jl');

const refusals = [
  { name: 'JLC_FORCE_WORKER=1', env: { JLC_FORCE_WORKER: '1' }, reason: /JLC_FORCE_WORKER is set/ },
  { name: 'JULIA_NUM_THREADS=2', env: { JULIA_NUM_THREADS: '2' }, reason: /runs 2 threads/ },
];

describe('capture path: the worker saves where the session refuses', () => {
  after(cleanupTemps);

  for (const { name, env } of refusals) {
    test(`${name}: the save goes through the worker, the next session loads it and returns the same value`, async (t) => {
      const cache = tempDir('capture-path');
      const cold = await cliRun(PARSER, cache, { save: true, env });
      t.diagnostic(`save: ${brief(cold)}`);
      assert.equal(cold.cache, 'none');
      assert.equal(cold.capture_path, 'worker', `the session refused and the worker captured: ${brief(cold)}`);
      assert.ok((cold.methods_saved ?? 0) > 0, `the worker saved methods: ${brief(cold)}`);

      // The next session runs under the same conditions (the refusal is about capturing, not loading).
      const cached = await cliRun(PARSER, cache, { env });
      t.diagnostic(`cached: ${brief(cached)}`);
      assert.equal(cached.cache, 'loaded', `the worker's entry loaded: ${brief(cached)}`);
      assert.ok(cached.methods_loaded > 0, `methods were installed: ${brief(cached)}`);
      assert.equal(cached.result, cold.result, 'the same value from the cache');
    });
  }

  // The same save inside one session (as the editor runs it), to see the refusal's reason and the session after it.
  for (const { name, env, reason } of refusals) {
    test(`${name}: the session names why it refused, and keeps working after the worker's save`, async (t) => {
      const saved = { ...process.env };
      Object.assign(process.env, env, { JLCACHE_KEY_DIR: privateKeyDir() });
      const session = new JuliaSession({ juliaPath: process.env.JULIA ?? '' });
      try {
        await session.start();
        const store = await openSessionStore(session, { cacheDir: tempDir('capture-path-session'), maxCacheMB: 512 });
        assert.ok(store.ok, store.ok ? '' : store.error);
        const code = readFileSync(PARSER, 'utf8');
        assert.ok((await session.evaluate({ code, file: PARSER, line: 1 })).ok, 'parser.jl evaluates');
        const first = await session.evaluate({ code: 'Text(repr(main()))', file: 'test', line: 1 });
        assert.ok(first.ok, JSON.stringify(first.error));

        const summary = await saveCompiledWork(session, store.value, { alreadySaved: new Set() }).catch((e: Error) => e);

        // Whatever the save did, the session is alive and unchanged: main() again, same value, same thread count.
        const again = await session.evaluate({ code: 'Text(repr(main()))', file: 'test', line: 1 });
        assert.ok(again.ok, JSON.stringify(again.error));
        assert.equal(again.display, first.display, 'main() after the save returns the same value');
        const threads = await session.evaluate({ code: 'Threads.nthreads()', file: 'test', line: 1 });
        assert.equal(threads.display, env.JULIA_NUM_THREADS ?? '1');
        assert.equal(session.status().state, 'idle');

        if (summary instanceof Error) throw summary;
        t.diagnostic(`save: ${JSON.stringify({ ...summary, skipped: summary.skipped.length })}`);
        assert.equal(summary.capturePath, 'worker');
        assert.match(summary.captureNote ?? '', reason, 'the reason the session refused is reported');
        assert.ok(summary.methodsSaved > 0, JSON.stringify(summary));
      } finally {
        await session.stop();
        for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
        Object.assign(process.env, saved);
      }
    });
  }
});
