// The real language server over stdio, driven by vscode-jsonrpc as the LSP client, with real Julia behind it.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import { ServerCommands, type CacheEntryInfo, type EvaluateResult, type SaveSummary, type SessionStatus } from '../../shared/src/protocol.ts';
import { startLspServer, type LspServer } from '../helpers/lspServer.ts';
import { isAlive, waitUntil } from '../helpers/wait.ts';

describe('language server with a session', () => {
  let server: LspServer;
  before(async () => {
    server = await startLspServer();
  });
  after(async () => {
    const pids = server.statuses.map((s) => s.pid).filter((p): p is number => p !== undefined);
    assert.equal(await server.close(), 0);
    assert.ok(pids.length > 0);
    for (const pid of new Set(pids)) assert.equal(isAlive(pid), false, `julia ${pid} is gone after shutdown`);
  });

  test('initialize advertises every server command', async () => {
    const commands = server.initializeResult.capabilities.executeCommandProvider?.commands ?? [];
    assert.deepEqual([...commands].sort(), Object.values(ServerCommands).sort());
    // The session is not started before it is needed (autoStart is off in these tests).
    const status: SessionStatus = await server.conn.sendRequest('julia/sessionStatus');
    assert.equal(status.state, 'stopped');
  });

  test('evaluate starts a session, streams output and notifies the result', async () => {
    const result: EvaluateResult = await server.conn.sendRequest('julia/evaluate', {
      code: 'println("hello from julia")\n1 + 41',
      file: 'test.jl',
      line: 1,
    });
    assert.equal(result.ok, true);
    assert.equal(result.display, '42');
    assert.equal((result as { statements?: unknown }).statements, undefined, 'agent internals stay in the server');
    assert.ok(result.timing.totalMs >= 0);
    assert.match(server.stdoutText(), /hello from julia\n/);
    const states = server.statuses.map((s) => s.state);
    assert.deepEqual(states.slice(0, 3), ['stopped', 'starting', 'idle'], 'initial status, then the start');
    assert.ok(states.includes('busy'));
    await waitUntil(() => server.finished.length > 0, 2000, 'evaluationFinished');
    assert.equal(server.finished[0].code, 'println("hello from julia")');
    assert.equal(server.finished[0].result.display, '42');
  });

  test('workspace/executeCommand reaches the same handlers', async () => {
    const result: EvaluateResult = await server.conn.sendRequest('workspace/executeCommand', {
      command: ServerCommands.evaluate,
      arguments: [{ code: 'string(:via, :command)' }],
    });
    assert.equal(result.display, '"viacommand"');
    const status: SessionStatus = await server.conn.sendRequest('workspace/executeCommand', { command: ServerCommands.sessionStatus });
    assert.equal(status.state, 'idle');
    assert.equal(status.juliaVersion, '1.5.3');
  });

  test('malformed requests get clear errors and the server keeps working', async () => {
    await assert.rejects(server.conn.sendRequest('julia/evaluate', { code: 42 }), (e: unknown) => {
      assert.ok(e instanceof ResponseError);
      assert.equal(e.code, -32602);
      assert.match(e.message, /`code` must be a string/);
      return true;
    });
    await assert.rejects(server.conn.sendRequest('julia/evaluate', 'not an object'), /expects an object/);
    await assert.rejects(server.conn.sendRequest('workspace/executeCommand', { command: 'julia.server.nope' }), /unknown command "julia.server.nope"/);
    await assert.rejects(server.conn.sendRequest('julia/deleteCacheEntry', {}), /expects \{ id: string \}/);
    const result: EvaluateResult = await server.conn.sendRequest('julia/evaluate', { code: '"still alive"' });
    assert.equal(result.display, '"still alive"');
  });

  test('Save Compiled Work stores an entry; after a restart the cache is loaded and results stay correct', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'jlcache-lsp-'));
    const cached = await startLspServer({ settings: { cacheDir } });
    try {
      const define = 'tri(n::Int) = n <= 1 ? n : n + tri(n - 1)';
      await cached.conn.sendRequest('julia/evaluate', { code: define, file: 'tri.jl', line: 1 });
      const cold: EvaluateResult = await cached.conn.sendRequest('julia/evaluate', { code: 'tri(100)' });
      assert.equal(cold.display, '5050');
      const summary: SaveSummary = await cached.conn.sendRequest('julia/saveCompiledWork');
      assert.ok(summary.methodsSaved > 0, `saved ${JSON.stringify(summary)}`);
      assert.ok(summary.bytes > 0);
      const entries: CacheEntryInfo[] = await cached.conn.sendRequest('julia/cacheEntries');
      assert.equal(entries.length, 1);
      assert.equal(entries[0].state, 'valid');
      assert.ok(entries[0].methods.some((m) => m.includes('tri')), entries[0].methods.join(', '));
      // Nothing new compiled since: a second save stores nothing.
      const again: SaveSummary = await cached.conn.sendRequest('julia/saveCompiledWork');
      assert.equal(again.methodsSaved, 0);

      const status: SessionStatus = await cached.conn.sendRequest('julia/restartSession');
      assert.equal(status.cache.state, 'loaded', JSON.stringify(status.cache));
      assert.ok(status.cache.methods > 0);
      await cached.conn.sendRequest('julia/evaluate', { code: define, file: 'tri.jl', line: 1 });
      const warm: EvaluateResult = await cached.conn.sendRequest('julia/evaluate', { code: 'tri(100)' });
      assert.equal(warm.display, '5050');

      // Evaluations sent the moment the next session reports 'cache: loading' wait for the load, so they run cached code.
      let early: Promise<EvaluateResult> | undefined;
      cached.onStatus = (s) => {
        if (early || s.state !== 'idle' || s.cache.state !== 'loading') return;
        early = cached.conn.sendRequest('julia/evaluate', { code: `${define}\ntri(100)`, file: 'tri.jl', line: 1 });
      };
      const restarted: SessionStatus = await cached.conn.sendRequest('julia/restartSession');
      assert.equal(restarted.cache.state, 'loaded');
      assert.ok(early, 'the session reported cache: loading');
      const first = await early;
      assert.equal(first.display, '5050');
      assert.ok(cold.timing.methodsCompiled > 0);
      assert.equal(first.timing.methodsCompiled, 0, `tri(100) compiled nothing (cold: ${cold.timing.methodsCompiled} methods)`);

      await cached.conn.sendRequest('julia/clearCache');
      assert.deepEqual(await cached.conn.sendRequest('julia/cacheEntries'), []);
    } finally {
      await cached.close();
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  test('changed settings apply without restarting Julia; a new Julia argument restarts the session with it', async () => {
    const [dirA, dirB] = [mkdtempSync(join(tmpdir(), 'jlcache-settings-a-')), mkdtempSync(join(tmpdir(), 'jlcache-settings-b-'))];
    const s = await startLspServer({ settings: { cacheDir: dirA } });
    try {
      await s.conn.sendRequest('julia/evaluate', { code: 'tri(n::Int) = n <= 1 ? n : n + tri(n - 1)', file: 'tri.jl', line: 1 });
      await s.conn.sendRequest('julia/evaluate', { code: 'tri(10)' });
      const before: SessionStatus = await s.conn.sendRequest('julia/sessionStatus');
      // Notifications and requests are handled in order: the save below sees the new cache directory.
      await s.conn.sendNotification('workspace/didChangeConfiguration', { settings: { autoStart: false, cacheDir: dirB } });
      const summary: SaveSummary = await s.conn.sendRequest('julia/saveCompiledWork');
      assert.ok(summary.methodsSaved > 0);
      const after: SessionStatus = await s.conn.sendRequest('julia/sessionStatus');
      assert.equal(after.pid, before.pid, 'the same Julia process');
      const metas = (dir: string) => readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('meta.json')).length;
      assert.deepEqual([metas(dirA), metas(dirB)], [0, 1], 'the entry went to the new cache directory');

      await s.conn.sendNotification('workspace/didChangeConfiguration', { settings: { autoStart: false, cacheDir: dirB, juliaArgs: ['--optimize=1'] } });
      await waitUntil(() => s.statuses.find((st) => st.state === 'idle' && st.pid !== undefined && st.pid !== before.pid), 120_000, 'a restarted session');
      const level: EvaluateResult = await s.conn.sendRequest('julia/evaluate', { code: 'Base.JLOptions().opt_level' });
      assert.equal(level.display, '1', 'the new session runs with the new argument');
    } finally {
      assert.equal(await s.close(), 0);
      rmSync(dirA, { recursive: true, force: true });
      rmSync(dirB, { recursive: true, force: true });
    }
  });

  test('interrupt through the server stops a running loop', async () => {
    const running = server.conn.sendRequest('julia/evaluate', { code: 'while true end' }) as Promise<EvaluateResult>;
    await waitUntil(() => server.statuses.at(-1)?.state === 'busy', 5000, 'busy');
    await server.conn.sendRequest('julia/interrupt');
    const result = await running;
    assert.equal(result.error?.kind, 'interrupted');
    assert.equal(((await server.conn.sendRequest('julia/evaluate', { code: '1' })) as EvaluateResult).display, '1');
  });

  test('restart gives a new process; stop ends it', async () => {
    const before: SessionStatus = await server.conn.sendRequest('julia/sessionStatus');
    const restarted: SessionStatus = await server.conn.sendRequest('julia/restartSession');
    assert.equal(restarted.state, 'idle');
    assert.notEqual(restarted.pid, before.pid);
    assert.equal(isAlive(before.pid!), false);
    const stopped: SessionStatus = await server.conn.sendRequest('julia/stopSession');
    assert.equal(stopped.state, 'stopped');
    assert.equal(isAlive(restarted.pid!), false);
    const started: SessionStatus = await server.conn.sendRequest('julia/startSession');
    assert.equal(started.state, 'idle');
  });
});

describe('language server failures and start-up', () => {
  test('a missing julia: clear error response and a dead status with the same message', async () => {
    const server = await startLspServer({ settings: { juliaPath: '/opt/no-julia/bin/julia' } });
    try {
      await assert.rejects(server.conn.sendRequest('julia/startSession'), /Julia not found at \/opt\/no-julia\/bin\/julia: install Julia 1\.5\.3 or set julia\.cache\.juliaPath/);
      const dead = await server.waitForState('dead', 5000);
      assert.match(dead.message ?? '', /Julia not found/);
      await assert.rejects(server.conn.sendRequest('julia/evaluate', { code: '1' }), /Julia not found/);
    } finally {
      assert.equal(await server.close(), 0);
    }
  });

  test('auto-start in a trusted workspace with a .jl file; nothing starts when untrusted', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'jlc-ws-'));
    writeFileSync(join(workspace, 'script.jl'), 'println(1)\n');
    try {
      const trusted = await startLspServer({ workspace, settings: { autoStart: true, trusted: true } });
      const idle = await trusted.waitForState('idle');
      assert.equal(await trusted.close(), 0);
      assert.equal(isAlive(idle.pid!), false);

      const untrusted = await startLspServer({ workspace, settings: { autoStart: true, trusted: false } });
      // The server reports its decision; after it nothing but a request would start Julia.
      await waitUntil(() => untrusted.logs.some((m) => /not started automatically: the workspace is not trusted/.test(m)), 10_000, 'the auto-start decision');
      const status: SessionStatus = await untrusted.conn.sendRequest('julia/sessionStatus');
      assert.equal(status.state, 'stopped');
      assert.deepEqual(untrusted.statuses.map((s) => s.state), ['stopped'], 'never started');
      assert.equal(await untrusted.close(), 0);
    } finally {
      rmSync(workspace, { recursive: true, force: true });
    }
  });

  test('SIGTERM to the server leaves no Julia process behind', async () => {
    const server = await startLspServer();
    const status: SessionStatus = await server.conn.sendRequest('julia/startSession');
    assert.ok(status.pid && isAlive(status.pid));
    const exited = new Promise((resolve) => server.proc.once('exit', resolve));
    server.proc.kill('SIGTERM');
    await exited;
    server.conn.dispose();
    await waitUntil(() => !isAlive(status.pid!), 3000, 'julia to be gone');
  });
});
