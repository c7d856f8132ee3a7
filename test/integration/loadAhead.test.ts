// The store is opened and listed while the session warms up (cache/loadAhead.ts), against real Julia 1.5.3: the agent
// answers `initialize` before its warm-up, the session says so ('identified', still starting), and the listing made
// then is what the load uses; an untrusted workspace or a cache directory changed since gets none.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LoadAheadTracker } from '../../server/src/cache/loadAhead.ts';
import { loadCache } from '../../server/src/cache/loadFlow.ts';
import { JuliaSession } from '../../server/src/session/juliaSession.ts';

describe('opening the cache while the session starts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jlc-ahead-'));
  const settings = { cacheDir: join(dir, 'cache'), maxCacheMB: 64, autoLoad: true, trusted: true };
  const session = new JuliaSession();
  const tracker = new LoadAheadTracker(() => settings);
  tracker.watch(session);
  const seen: { state: string; hasInfo: boolean }[] = [];
  session.on('identified', () => seen.push({ state: session.status().state, hasInfo: session.agentInfo !== undefined }));

  before(async () => {
    await session.start();
  });
  after(async () => {
    await session.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the agent is identified during the start, before its warm-up ends', () => {
    assert.deepEqual(seen, [{ state: 'starting', hasInfo: true }]);
    assert.equal(session.status().state, 'idle');
  });

  test('the store was opened and listed during the start, and the load uses that listing', async () => {
    const ahead = await tracker.take(session, settings);
    assert.ok(ahead?.store.ok, 'the store opened');
    assert.ok(ahead.listed?.ok, 'the store was listed');
    assert.deepEqual(ahead.listed.value, []);
    assert.ok(existsSync(settings.cacheDir));
    const outcome = await loadCache(session, ahead.store.value, ahead.listed.value);
    assert.equal(outcome.status.state, 'none');
    assert.ok(outcome.steps.list < 5, `no second listing (${outcome.steps.list} ms)`);
    assert.equal(await tracker.take(session, settings), undefined, 'handed out once');
  });

  test('a restart in an untrusted workspace opens nothing; a changed cache directory is not served', async () => {
    const untrusted = { ...settings, cacheDir: join(dir, 'untrusted'), trusted: false };
    const other = new LoadAheadTracker(() => untrusted);
    other.watch(session);
    await session.restart();
    assert.equal(await other.take(session, untrusted), undefined);
    assert.equal(existsSync(untrusted.cacheDir), false, 'no cache directory was created');
    // The first tracker listed its store again at this start; asked for another directory it gives nothing.
    assert.equal(await tracker.take(session, { ...settings, cacheDir: join(dir, 'elsewhere') }), undefined);
  });
});
