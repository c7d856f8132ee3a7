// Fault tests with real processes, on the save side, through the language server (what the editor runs): the
// capture worker and the server itself killed with SIGKILL in the middle of a save, and a disk that fills up
// (a tiny tmpfs in a private mount namespace). Each case ends with the session alive and computing the uncached
// results, every earlier entry still valid (nothing of the user's work lost), a clear message, and a later save
// that works. The README's "Cache safety" table lists these cases; keep both in step.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import type { CacheEntryInfo, EvaluateResult, SaveSummary, SessionStatus } from '../../shared/src/protocol.ts';
import { startLspServer, type LspServer } from '../helpers/lspServer.ts';
import { isAlive, waitUntil } from '../helpers/wait.ts';
import { descendants, entryDirs, env, filesUnder, fixtures, tempDir, workloads } from './faultsKit.ts';

const PARSER = join(workloads, 'parser.jl');
const DATES = join(workloads, 'datesprintf.jl');
const TWO = join(fixtures, 'two.jl');

/** Evaluates a workload file, then returns repr(main()) as the session shows it. */
async function runMain(server: LspServer, file: string): Promise<string> {
  const loaded: EvaluateResult = await server.conn.sendRequest('julia/evaluate', { code: readFileSync(file, 'utf8'), file, line: 1 });
  assert.equal(loaded.ok, true, JSON.stringify(loaded.error));
  return callMain(server);
}

async function callMain(server: LspServer): Promise<string> {
  const r: EvaluateResult = await server.conn.sendRequest('julia/evaluate', { code: 'Text(repr(main()))', file: 'check', line: 1 });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  return r.display ?? '';
}

function save(server: LspServer): Promise<SaveSummary | ResponseError> {
  return (server.conn.sendRequest('julia/saveCompiledWork') as Promise<SaveSummary>).catch((e: ResponseError) => e);
}

async function entries(server: LspServer): Promise<CacheEntryInfo[]> {
  return server.conn.sendRequest('julia/cacheEntries');
}

describe('cache faults while saving', () => {
  const root = tempDir('save');
  const cold: Record<string, string> = {};
  let server: LspServer;
  const cleanup: string[] = [root];
  const pauseDir = tempDir('pause');
  const pauseReport = join(pauseDir, 'paused.txt');
  cleanup.push(pauseDir);
  before(async () => {
    // The fallback path: the session refuses in-session capture, so a capture worker process runs (and is killed).
    // The first worker stops for good once it replayed the session's definitions (server/julia/testpause.jl).
    const pause = { JLC_TEST_PAUSE_AT: 'worker-replayed', JLC_TEST_PAUSE_REPORT: pauseReport };
    server = await startLspServer({ settings: { cacheDir: root }, env: { ...env, JLC_FORCE_WORKER: '1', ...pause } });
  });
  after(async () => {
    if (server.proc.exitCode === null && server.proc.signalCode === null) await server.close();
    for (const d of cleanup) rmSync(d, { recursive: true, force: true });
  });

  test('kill -9 of the capture worker mid-save: clear error, session intact, nothing half-written, the next save works', async () => {
    cold.parser = await runMain(server, PARSER);
    const saving = save(server);
    const paused = await waitUntil(() => existsSync(pauseReport) && readFileSync(pauseReport, 'utf8'), 180_000, 'the capture worker to pause');
    const [, point, pid] = paused.trim().split(' ');
    assert.equal(point, 'worker-replayed');
    assert.ok(descendants(server.proc.pid!).some((d) => d.pid === Number(pid) && d.cmdline.includes('--output-o')), 'the paused process is this save\'s worker');
    process.kill(Number(pid), 'SIGKILL');
    const outcome = await saving;
    assert.ok(outcome instanceof ResponseError, `the save failed: ${JSON.stringify(outcome)}`);
    assert.match(outcome.message, /^Save Compiled Work failed: the capture worker failed \(killed by SIGKILL\)/);
    assert.equal(await callMain(server), cold.parser, 'the session still has the user\'s definitions');
    assert.deepEqual(await entries(server), []);
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);

    const again = await save(server); // its worker runs through: the point was reported once
    assert.ok(!(again instanceof ResponseError), String(again));
    assert.ok(again.methodsSaved > 0);
    const listed = await entries(server);
    assert.equal(listed.length, 1);
    assert.equal(listed[0].state, 'valid');
  });

  test('kill -9 of the server while it writes an entry: the cache stays valid, the next writer removes the debris', async () => {
    // A server that stops for good once the new entry's object.o is on disk (testPause.ts), to be killed right there.
    await server.close();
    server = await startLspServer({ settings: { cacheDir: root }, env: { ...env, JLC_TEST_PAUSE_AT: 'object-written' } });
    const pid = server.proc.pid!;
    cold.two = await runMain(server, TWO);
    const tmp = join(root, 'tmp');
    void save(server);
    await waitUntil(() => server.stderr().includes('paused object-written'), 180_000, 'the server writing the entry');
    const family = descendants(pid);
    process.kill(pid, 'SIGKILL');
    server.conn.dispose();
    await waitUntil(() => server.proc.exitCode !== null || server.proc.signalCode !== null, 5000, 'the server gone');
    const debris = readdirSync(tmp);
    assert.equal(debris.length, 1, 'an incomplete entry was left in tmp/');
    assert.ok(existsSync(join(root, '.lock')), 'the dead server still holds the lock');
    assert.equal(entryDirs(root).length, 1, 'only the complete entry is visible');
    // The server's Julia processes notice that it is gone and end (the user's session ends with its server).
    await waitUntil(() => family.every((p) => !isAlive(p.pid)), 15_000, `orphans of the killed server to exit: ${family.map((p) => p.cmdline.slice(0, 80)).join(' | ')}`)
      .catch((e) => {
        for (const p of family) if (isAlive(p.pid)) process.kill(p.pid, 'SIGKILL');
        throw e;
      });

    server = await startLspServer({ settings: { cacheDir: root }, env });
    const status: SessionStatus = await server.conn.sendRequest('julia/startSession');
    assert.equal(status.cache.state, 'loaded', JSON.stringify(status.cache));
    assert.equal(await runMain(server, PARSER), cold.parser);
    assert.equal(await runMain(server, TWO), cold.two);
    const saved = await save(server);
    assert.ok(!(saved instanceof ResponseError), String(saved));
    assert.ok(saved.methodsSaved > 0);
    assert.deepEqual(readdirSync(tmp), [], 'the next writer removed the debris');
    assert.equal(existsSync(join(root, '.lock')), false, 'the dead server\'s lock was broken and released');
    const listed = await entries(server);
    assert.equal(listed.length, 2);
    assert.ok(listed.every((e) => e.state === 'valid'), JSON.stringify(listed));
  });

  test('a full disk during a save: clear error, every entry kept, space freed by deleting one, the next save works', async (t) => {
    await server.close();
    if (spawnSync('unshare', ['-rm', 'true']).status !== 0) return t.skip('this machine allows no private mount namespace (unshare -rm) for the tmpfs');
    // The cache root is a tmpfs just larger than the entries already in it, in the server's own mount namespace.
    const mount = tempDir('tmpfs');
    cleanup.push(mount);
    const used = filesUnder(root).reduce((s, f) => s + Math.ceil(statSync(join(root, f)).size / 4096) * 4, 0);
    const sizeKB = used + 96;
    const wrap = ['unshare', '-rm', 'sh', '-c', 'mount -t tmpfs -o size="$2"k tmpfs "$0" && cp -a "$1/." "$0/" && shift 2 && exec "$@"', mount, root, String(sizeKB)];
    server = await startLspServer({ settings: { cacheDir: mount }, env, wrap });
    const status: SessionStatus = await server.conn.sendRequest('julia/startSession');
    assert.equal(status.cache.state, 'loaded', JSON.stringify(status.cache));
    const dates = await runMain(server, DATES);
    const failed = await save(server);
    assert.ok(failed instanceof ResponseError, `the save failed: ${JSON.stringify(failed)} (tmpfs ${sizeKB} KB)`);
    assert.match(failed.message, /^Save Compiled Work failed: cannot save to the cache: ENOSPC: no space left on device/);
    assert.equal(await callMain(server), dates, 'the session is intact');
    const kept = await entries(server);
    assert.equal(kept.length, 2, 'nothing already saved was lost');
    assert.ok(kept.every((e) => e.state === 'valid'));

    const inTmp = async () => ((await server.conn.sendRequest('julia/evaluate', { code: `length(readdir(${JSON.stringify(join(mount, 'tmp'))}))` })) as EvaluateResult).display;
    assert.equal(await inTmp(), '1', 'the partial entry waits in tmp/ for the next writer');
    await server.conn.sendRequest('julia/deleteCacheEntry', { id: kept[0].id });
    const saved = await save(server);
    assert.ok(!(saved instanceof ResponseError), String(saved));
    assert.ok(saved.methodsSaved > 0);
    assert.equal(await inTmp(), '0');
    const listed = await entries(server);
    assert.equal(listed.length, 2);
    assert.ok(listed.every((e) => e.state === 'valid'));
    assert.deepEqual(readdirSync(mount), [], 'the tmpfs lived only in the server\'s namespace');
  });
});
