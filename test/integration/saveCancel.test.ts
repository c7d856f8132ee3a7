// Cancelling Save Compiled Work ($/cancelRequest, VS Code's Cancel button on the progress notification): the save
// stops at its next step once the in-session capture (one Julia call) returns, writes nothing, marks nothing as
// saved, and leaves the session working; the next save stores everything. The server holds its first save right
// after the capture (JLC_TEST_PAUSE_AT=save-captured, server/src/cache/testPause.ts) until it is cancelled, so the
// cancel always arrives before anything could be written; the next save in the same server runs through.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CancellationTokenSource, ProgressType, ResponseError } from 'vscode-jsonrpc/node';
import type { CacheEntryInfo, EvaluateResult, SaveSummary } from '../../shared/src/protocol.ts';
import { startLspServer } from '../helpers/lspServer.ts';
import { waitUntil } from '../helpers/wait.ts';

const RequestCancelled = -32800;

describe('Save Compiled Work can be cancelled', () => {
  test('cancelled after the capture: nothing written, the session works, the next save stores everything', async () => {
    const server = await startLspServer({
      settings: { cacheDir: mkdtempSync(join(tmpdir(), 'jlcache-cancel-')) },
      env: { JLC_TEST_PAUSE_AT: 'save-captured' },
    });
    try {
      await server.conn.sendRequest('julia/evaluate', { code: 'tri(n::Int) = n <= 1 ? n : n + tri(n - 1)', file: 'tri.jl', line: 1 });
      assert.equal(((await server.conn.sendRequest('julia/evaluate', { code: 'tri(100)' })) as EvaluateResult).display, '5050');

      // Cancel once the server reports that it holds the save: the capture returned, nothing written yet.
      const cts = new CancellationTokenSource();
      const messages: string[] = [];
      server.conn.onProgress(new ProgressType<{ kind: string; message?: string }>(), 'save-1', (value) => {
        if (value.message) messages.push(value.message);
      });
      const saving = server.conn.sendRequest('julia/saveCompiledWork', { workDoneToken: 'save-1' }, cts.token);
      let settled = false; // a save that fails before the hold ends the wait (and is reported below) instead of a timeout
      saving.then(() => (settled = true), () => (settled = true));
      const paused = () => server.stderr().includes('paused save-captured\n');
      await waitUntil(() => paused() || settled, 600_000, 'the save to hold after its capture');
      cts.cancel();
      await assert.rejects(saving, (e: unknown) => {
        assert.ok(e instanceof ResponseError, String(e));
        assert.equal(e.code, RequestCancelled);
        assert.match(e.message, /cancelled: nothing was written/);
        return true;
      });
      assert.ok(paused(), server.stderr());
      assert.ok(messages.some((m) => m.startsWith('compiling')), messages.join(' | '));
      assert.deepEqual(await server.conn.sendRequest<CacheEntryInfo[]>('julia/cacheEntries'), []);

      const after: EvaluateResult = await server.conn.sendRequest('julia/evaluate', { code: 'tri(10)' });
      assert.equal(after.display, '55', 'the session still evaluates');
      const summary: SaveSummary = await server.conn.sendRequest('julia/saveCompiledWork');
      assert.ok(summary.methodsSaved > 0, `the next save stores what the cancelled one did not: ${JSON.stringify(summary)}`);
      assert.equal((await server.conn.sendRequest<CacheEntryInfo[]>('julia/cacheEntries')).length, 1);
    } finally {
      assert.equal(await server.close(), 0);
    }
  });
});
