// Cancelling Save Compiled Work ($/cancelRequest, VS Code's Cancel button on the progress notification): the save
// stops at its next step once the in-session capture (one Julia call) returns, writes nothing, marks nothing as
// saved, and leaves the session working; the next save stores everything.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CancellationTokenSource, ProgressType, ResponseError } from 'vscode-jsonrpc/node';
import type { CacheEntryInfo, EvaluateResult, SaveSummary } from '../../shared/src/protocol.ts';
import { startLspServer } from '../helpers/lspServer.ts';

const RequestCancelled = -32800;

describe('Save Compiled Work can be cancelled', () => {
  test('cancelled while capturing: nothing written, the session works, the next save stores everything', async () => {
    const server = await startLspServer({ settings: { cacheDir: mkdtempSync(join(tmpdir(), 'jlcache-cancel-')) } });
    try {
      await server.conn.sendRequest('julia/evaluate', { code: 'tri(n::Int) = n <= 1 ? n : n + tri(n - 1)', file: 'tri.jl', line: 1 });
      assert.equal(((await server.conn.sendRequest('julia/evaluate', { code: 'tri(100)' })) as EvaluateResult).display, '5050');

      // Cancel as soon as the server says it is compiling: the capture request is then on its way to Julia.
      const cts = new CancellationTokenSource();
      const messages: string[] = [];
      server.conn.onProgress(new ProgressType<{ kind: string; message?: string }>(), 'save-1', (value) => {
        if (value.message) messages.push(value.message);
        if (value.message?.startsWith('compiling')) cts.cancel();
      });
      await assert.rejects(server.conn.sendRequest('julia/saveCompiledWork', { workDoneToken: 'save-1' }, cts.token), (e: unknown) => {
        assert.ok(e instanceof ResponseError, String(e));
        assert.equal(e.code, RequestCancelled);
        assert.match(e.message, /cancelled: nothing was written/);
        return true;
      });
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
