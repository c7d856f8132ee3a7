// The agent-code cache (server/src/capture/agentCode.ts): the roots the capture code compiled for itself in one
// session are cached once, proven like any entry, and installed by the next session's save before it captures, so
// that save compiles (almost) none of the capture code again and captures exactly what the first one did. A damaged
// agent-code entry is refused by the store and the save compiles the capture code as before.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureProven } from '../../server/src/cache/prove.ts';
import { cacheAgentCode, loadAgentCode } from '../../server/src/capture/agentCode.ts';
import { runCapture, type CaptureResult } from '../../server/src/capture/runCapture.ts';
import type { Store } from '../../server/src/cache/store.ts';
import type { JuliaSession } from '../../server/src/session/juliaSession.ts';
import { cleanupTemps, privateKeyDir, tempDir, workloads } from '../helpers/cliRun.ts';
import { inSession } from '../helpers/juliaSession.ts';

const PARSER = join(workloads, 'parser.jl');
const julia = process.env.JULIA || 'julia';
const none = { project: null, loadPath: [], definitions: [] };

/** As a save does: runs parser.jl and main(), loads the agent code, captures what the session compiled. */
async function captureParser(session: JuliaSession): Promise<{ record: CaptureResult['record']; store: Store | undefined }> {
  assert.ok((await session.evaluate({ code: readFileSync(PARSER, 'utf8'), file: PARSER, line: 1 })).ok);
  assert.ok((await session.evaluate({ code: 'main();', file: 'test', line: 1 })).ok);
  const store = await loadAgentCode(session);
  const log = await session.request<{ compiled: { sig: string }[] }>('sessionLog', {});
  const signatures = [...new Set(log.compiled.map((c) => c.sig))];
  const capture = await runCapture(session, signatures, none, { julia, sysimage: session.agentInfo!.identity.sysimage });
  try {
    assert.equal(capture.path, 'session');
    return { record: capture.record, store };
  } finally {
    await capture.dispose();
  }
}

describe('agent-code cache', () => {
  const saved = { ...process.env };
  before(() => Object.assign(process.env, { XDG_CACHE_HOME: tempDir('agent-code'), JLCACHE_KEY_DIR: privateKeyDir() }));
  after(() => {
    process.env = saved;
    cleanupTemps();
  });

  let first: CaptureResult['record'];

  test('the first save caches the roots its capture code compiled, and the entry is proven', async () => {
    await inSession(async (session) => {
      const captured = await captureParser(session);
      const store = captured.store;
      assert.ok(store, 'the agent-code store opens');
      first = captured.record;
      const own = first.agentCompiled ?? [];
      assert.ok(own.some((s) => s.includes('JLCacheAgent.handle_capture')), 'the request handler is among the roots');
      assert.ok(own.length > 20, `the capture code compiled many roots of its own: ${own.length}`);
      assert.ok(own.every((s) => !s.includes('Main.')), 'no root names the user\'s code');
      await cacheAgentCode(session, store, own, julia);
      const proof = await ensureProven(store, 'all', { session });
      assert.equal(proof.usable.length, 1, `one proven entry: ${proof.problems.join('; ')}`);
    });
  });

  test('the next session installs it before capturing: far fewer own compilations, the same capture', async () => {
    await inSession(async (session) => {
      const second = (await captureParser(session)).record;
      const status = await session.request<{ installed: number }>('cache/status', {});
      assert.ok(status.installed > 0, 'agent methods are installed');
      const own = second.agentCompiled ?? [];
      assert.ok(own.length * 4 < (first.agentCompiled ?? []).length, `own roots: ${own.length} now, ${first.agentCompiled?.length} before`);
      assertCapturesAll(second, first);
      assert.equal(second.compiledInWindow, 0);
    });
  });

  test('a damaged agent-code entry is refused, and the save compiles the capture code instead', async () => {
    const root = join(process.env.XDG_CACHE_HOME!, 'julia-compiled-cache', 'agent-code');
    const objects = findFiles(root, 'object.o');
    assert.equal(objects.length, 1);
    const bytes = readFileSync(objects[0]);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(objects[0], bytes);
    await inSession(async (session) => {
      const third = (await captureParser(session)).record;
      const status = await session.request<{ installed: number }>('cache/status', {});
      assert.equal(status.installed, 0, 'nothing of the damaged entry was installed');
      assert.ok((third.agentCompiled ?? []).length > 20, 'the capture code compiled as in a first session');
      assertCapturesAll(third, first);
    });
  });
});

/** Every method the first capture saved is saved again (installed code may add a callee it inlined before). */
function assertCapturesAll(now: CaptureResult['record'], before: CaptureResult['record']): void {
  const saved = new Set(now.entries.map((e) => e.signature));
  assert.deepEqual(before.entries.map((e) => e.signature).filter((s) => !saved.has(s)), []);
  assert.deepEqual(now.skipped, before.skipped);
}

function findFiles(dir: string, name: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && d.name === name)
    .map((d) => join(d.parentPath, d.name));
}
