// The agent-code cache (server/src/capture/agentCode.ts): built once in a sibling session of our own from the
// driver workload, proven like any entry, and installed by a save before it captures, so that save compiles (almost)
// none of the capture code and captures what it would have without it. A damaged agent-code entry is refused by the
// store, and the save compiles the capture code as before.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureAgentCode, loadAgentCode } from '../../server/src/capture/agentCode.ts';
import { runCapture, type CaptureResult } from '../../server/src/capture/runCapture.ts';
import type { JuliaSession } from '../../server/src/session/juliaSession.ts';
import { cleanupTemps, privateKeyDir, tempDir, workloads } from '../helpers/cliRun.ts';
import { inSession } from '../helpers/juliaSession.ts';

const PARSER = join(workloads, 'parser.jl');
const none = { project: null, loadPath: [], definitions: [] };

/** As a save does: runs parser.jl and main(), installs the agent code, captures what the session compiled. */
async function captureParser(session: JuliaSession): Promise<CaptureResult['record']> {
  assert.ok((await session.evaluate({ code: readFileSync(PARSER, 'utf8'), file: PARSER, line: 1 })).ok);
  assert.ok((await session.evaluate({ code: 'main();', file: 'test', line: 1 })).ok);
  await loadAgentCode(session);
  const log = await session.request('sessionLog', {});
  const signatures = [...new Set(log.compiled.map((c) => c.sig))];
  const capture = await runCapture(session, signatures, none);
  try {
    assert.equal(capture.path, 'session');
    return capture.record;
  } finally {
    await capture.dispose();
  }
}

function findFiles(dir: string, name: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && d.name === name)
    .map((d) => join(d.parentPath, d.name));
}

describe('agent-code cache', () => {
  const saved = { ...process.env };
  let root = '';
  before(() => {
    Object.assign(process.env, { XDG_CACHE_HOME: tempDir('agent-code'), JLCACHE_KEY_DIR: privateKeyDir() });
    root = join(process.env.XDG_CACHE_HOME!, 'julia-compiled-cache', 'agent-code');
  });
  after(() => {
    process.env = saved;
    cleanupTemps();
  });

  let withCode: CaptureResult['record'];

  test('built once in a sibling session from the driver, and proven', async () => {
    await inSession(async (session) => {
      await ensureAgentCode(session);
      const status = await session.request('cache/status', {});
      assert.equal(status.installed, 0, 'the session that asked was not touched');
    });
    const objects = findFiles(root, 'object.o');
    assert.equal(objects.length, 1, 'one agent-code entry');
    assert.ok(existsSync(join(dirname(objects[0]), 'proof.json')), 'proven before any session installs it');
  });

  test('a save installs it before capturing: few own compilations, the same capture', async () => {
    await inSession(async (session) => {
      withCode = await captureParser(session);
      const status = await session.request('cache/status', {});
      assert.ok(status.installed > 0, 'agent methods are installed');
      assert.equal(withCode.compiledInWindow, 0);
    });
  });

  test('a damaged agent-code entry is refused, and the save compiles the capture code instead', async () => {
    const [object] = findFiles(root, 'object.o');
    const bytes = readFileSync(object);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(object, bytes);
    await inSession(async (session) => {
      const without = await captureParser(session);
      const status = await session.request('cache/status', {});
      assert.equal(status.installed, 0, 'nothing of the damaged entry was installed');
      const own = (r: CaptureResult['record']) => r.agentCompiled?.length ?? 0;
      assert.ok(own(withCode) * 4 < own(without), `own roots with the agent code: ${own(withCode)}, without: ${own(without)}`);
      // Installed code may leave a callee out of line that was inlined before: nothing is lost either way.
      const saved = new Set(withCode.entries.map((e) => e.signature));
      assert.deepEqual(without.entries.map((e) => e.signature).filter((sig) => !saved.has(sig)), []);
      assert.deepEqual(withCode.skipped, without.skipped);
    });
  });
});
