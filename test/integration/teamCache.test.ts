// The team cache with real Julia sessions and a real server (Debian's nginx, DAV PUT, on 127.0.0.1): a cache built
// and pushed on one "machine" (cache directory + key directory) is pulled on another and its first call runs cached;
// an interrupted push leaves nothing broken; and in the language server the pull at session start is bounded by its
// budget against a server that never answers or is down, while the session works; refused entries (corrupted blob,
// another CPU, untrusted signer) leave the sessions working with what they had. 404s, altered or unsigned manifests,
// auth and concurrent pushes are covered with synthetic entries in test/unit/teamCache.test.ts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { EvaluateResult, SessionStatus, TeamCacheSummary } from '../../shared/src/protocol.ts';
import { sha256Hex } from '../../server/src/cache/files.ts';
import { withKey } from '../../server/src/cache/identity.ts';
import { startNginxCache, type NginxCache } from '../../server/src/cli/nginxCacheServer.ts';
import { indexKeyOf, manifestKeyOf, signIndex, signManifest } from '../../server/src/remote/manifest.ts';
import { loadOrCreateTeamKey } from '../../server/src/remote/teamKey.ts';
import { childEnv, cleanupTemps, cliJs, cliRun, run, tempDir, workloads, type CliReport } from '../helpers/cliRun.ts';
import { startLspServer, type LspServer } from '../helpers/lspServer.ts';
import { waitUntil } from '../helpers/wait.ts';

const PARSER = join(workloads, 'parser.jl');

interface Machine {
  cache: string;
  key: string;
}
const machine = (label: string): Machine => ({ cache: tempDir(`${label}-cache`), key: tempDir(`${label}-key`) });

/** `node dist/cli.js cache ...` as machine `m` (its key directory); the JSON report or the error. */
async function cache(m: Machine, args: string[], extraEnv: Record<string, string> = {}) {
  const r = await run(process.execPath, [cliJs, 'cache', ...args, '--json'], childEnv({ JLCACHE_KEY_DIR: m.key, ...extraEnv }));
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  return { code: r.code, stderr: r.stderr, json: line.startsWith('{') ? JSON.parse(line) : undefined };
}

async function publicKey(m: Machine): Promise<string> {
  const r = await cache(m, ['key']);
  assert.equal(r.code, 0, r.stderr);
  return r.json.publicKey;
}

/** Every file of the cache directory with its sha256: what "nothing local lost or overwritten" compares. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name !== '.lock' && e.name !== 'statement-times.json') out[p.slice(dir.length)] = sha256Hex(readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

/** Server-side files: the action cache records and the blobs (each blob's name must be its sha256). */
const serverFiles = (server: NginxCache, space: 'ac' | 'cas') => (existsSync(join(server.dataDir, space)) ? readdirSync(join(server.dataDir, space)) : []);
const resetServer = (server: NginxCache) => ['ac', 'cas'].forEach((d) => rmSync(join(server.dataDir, d), { recursive: true, force: true }));

describe('team cache with real Julia sessions', () => {
  let server: NginxCache;
  const a = machine('a');
  let cold: CliReport;
  let keyA: string;
  before(async () => {
    server = await startNginxCache();
    cold = await cliRun(PARSER, a.cache, { save: true, env: { JLCACHE_KEY_DIR: a.key } });
    assert.ok((cold.methods_saved ?? 0) > 0, 'the cold session saved an entry');
    keyA = await publicKey(a);
  });
  after(async () => {
    await server.stop();
    cleanupTemps();
  });

  test('push, then pull into an empty cache on a second machine: its first call is cached, nothing local changed', async () => {
    const before = snapshot(a.cache);
    const pushed = await cache(a, ['push', '--cache', a.cache, '--remote', server.url]);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.equal(pushed.json.pushed, 1);
    assert.deepEqual(snapshot(a.cache), before, 'a push changes nothing local');

    const b = machine('b');
    const pulled = await cache(b, ['pull', '--cache', b.cache, '--remote', server.url, '--trust', keyA]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(pulled.json.pulled.length, 1);
    assert.equal(pulled.json.proven, 1, 'pulled entries are proven like saved ones');
    assert.deepEqual(pulled.json.problems, []);
    assert.equal(pulled.json.bytesReceived, pushed.json.bytesSent);

    const cached = await cliRun(PARSER, b.cache, { env: { JLCACHE_KEY_DIR: b.key } });
    assert.equal(cached.cache, 'loaded', cached.stderr.slice(-2000));
    assert.deepEqual(cached.first_compiled, [], 'main() compiled nothing: it came from the pulled entry');
    assert.equal(cached.result, cold.result);

    // Without trusting A, a third machine installs nothing: its pull finds no entries from keys it trusts.
    const c = machine('c');
    const untrusting = await cache(c, ['pull', '--cache', c.cache, '--remote', server.url]);
    assert.equal(untrusting.code, 0, untrusting.stderr);
    assert.equal(untrusting.json.pulled.length, 0);
  });

  test('server down: push and pull exit 1 naming the server and the reason; the local cache is untouched', async () => {
    const dead = await startNginxCache();
    await dead.stop();
    const before = snapshot(a.cache);
    for (const verb of ['push', 'pull']) {
      const r = await cache(a, [verb, '--cache', a.cache, '--remote', dead.url]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`cannot reach the team cache at ${dead.url}: connect ECONNREFUSED`));
    }
    assert.deepEqual(snapshot(a.cache), before);
  });

  test('a push killed mid-upload leaves no partial blob and no manifest; the next push completes it', async () => {
    resetServer(server);
    const before = snapshot(a.cache);
    const child = spawn(process.execPath, [cliJs, 'cache', 'push', '--cache', a.cache, '--remote', server.url, '--json'], {
      env: childEnv({ JLCACHE_KEY_DIR: a.key, JLC_TEST_PAUSE_AT: 'remote-upload-half' }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await waitUntil(() => stderr.includes('paused remote-upload-half'), 120_000, 'the push to stop mid-upload');
    child.kill('SIGKILL');
    await exited;

    assert.deepEqual(serverFiles(server, 'ac'), [], 'no manifest or index was written');
    for (const name of serverFiles(server, 'cas')) assert.equal(sha256Hex(readFileSync(join(server.dataDir, 'cas', name))), name, 'every blob on the server is whole');
    assert.deepEqual(snapshot(a.cache), before, 'nothing local changed');
    const b = machine('b2');
    const empty = await cache(b, ['pull', '--cache', b.cache, '--remote', server.url, '--trust', keyA]);
    assert.equal(empty.code, 0, empty.stderr);
    assert.deepEqual([empty.json.pulled.length, empty.json.problems], [0, []]);

    const again = await cache(a, ['push', '--cache', a.cache, '--remote', server.url]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json.pushed, 1);
    const pulled = await cache(b, ['pull', '--cache', b.cache, '--remote', server.url, '--trust', keyA]);
    assert.equal(pulled.json.pulled.length, 1, pulled.stderr);
  });

  test('refused entries (a corrupted blob, another CPU, an untrusted signer): reported, nothing written, sessions work with what they had', async () => {
    resetServer(server);
    assert.equal((await cache(a, ['push', '--cache', a.cache, '--remote', server.url])).code, 0);
    const [manifestFile] = serverFiles(server, 'ac').filter((f) => JSON.parse(readFileSync(join(server.dataDir, 'ac', f), 'utf8')).format === 'jlcache-manifest-1');
    const manifest = JSON.parse(readFileSync(join(server.dataDir, 'ac', manifestFile), 'utf8'));

    // A corrupted blob: the second machine writes nothing and runs uncached, with the same result.
    const blobFile = join(server.dataDir, 'cas', manifest.blobs.object.sha256);
    const good = readFileSync(blobFile);
    writeFileSync(blobFile, Buffer.concat([good.subarray(0, 1000), Buffer.from([good[1000] ^ 0xff]), good.subarray(1001)]));
    const b = machine('b3');
    const corrupted = await cache(b, ['pull', '--cache', b.cache, '--remote', server.url, '--trust', keyA]);
    assert.equal(corrupted.code, 0, corrupted.stderr);
    assert.deepEqual(corrupted.json.pulled, []);
    assert.match(corrupted.json.problems[0], /^team cache entry [0-9a-f]{12} is not installed: its object.o on the server is corrupted \(sha256 mismatch\)$/);
    assert.deepEqual(Object.keys(snapshot(b.cache)).filter((f) => f.includes('/entries/')), []);
    const uncached = await cliRun(PARSER, b.cache, { env: { JLCACHE_KEY_DIR: b.key } });
    assert.deepEqual([uncached.cache, uncached.result], ['none', cold.result]);
    writeFileSync(blobFile, good);

    // A manifest for another CPU, signed with A's own key and listed in A's index: A's pull refuses it, A's cache
    // stays as it was and still loads.
    const key = await loadOrCreateTeamKey(a.key);
    assert.ok(key.ok);
    const other = withKey({ ...manifest.identity, key: undefined, cpuName: 'skylake-avx512' });
    const forged = signManifest({ identity: other, methods: manifest.methods, blobs: manifest.blobs }, key.value);
    writeFileSync(join(server.dataDir, 'ac', manifestKeyOf(forged.entryKey, keyA)), JSON.stringify(forged));
    const index = signIndex(manifest.identity.key, [manifest.entryKey, forged.entryKey], key.value);
    writeFileSync(join(server.dataDir, 'ac', indexKeyOf(manifest.identity.key, keyA)), JSON.stringify(index));
    const before = snapshot(a.cache);
    const foreign = await cache(a, ['pull', '--cache', a.cache, '--remote', server.url]);
    assert.equal(foreign.code, 0, foreign.stderr);
    assert.deepEqual([foreign.json.pulled, foreign.json.present], [[], 1]);
    assert.match(foreign.json.problems[0], new RegExp(`its manifest is made for another machine or Julia build: compiled for CPU skylake-avx512, this machine is ${manifest.identity.cpuName}$`));
    assert.deepEqual(snapshot(a.cache), before);
    const stillCached = await cliRun(PARSER, a.cache, { env: { JLCACHE_KEY_DIR: a.key } });
    assert.deepEqual([stillCached.cache, stillCached.first_compiled, stillCached.result], ['loaded', [], cold.result]);

    // The real manifest replaced by one an untrusted key signed.
    const m = machine('mallory');
    await publicKey(m);
    const mallory = await loadOrCreateTeamKey(m.key);
    assert.ok(mallory.ok);
    const replaced = signManifest({ identity: manifest.identity, methods: manifest.methods, blobs: manifest.blobs }, mallory.value);
    writeFileSync(join(server.dataDir, 'ac', manifestFile), JSON.stringify(replaced));
    const untrusted = await cache(b, ['pull', '--cache', b.cache, '--remote', server.url, '--trust', keyA]);
    assert.deepEqual(untrusted.json.pulled, []);
    assert.ok(untrusted.json.problems.some((p: string) => p.endsWith(`its manifest is refused: signed by a key you do not trust (${mallory.value.publicText})`)), untrusted.json.problems.join('\n'));
    assert.deepEqual(Object.keys(snapshot(b.cache)).filter((f) => f.includes('/entries/')), []);
  });

  describe('in the language server', () => {
    let lsp: LspServer | undefined;
    after(async () => {
      if (lsp && lsp.proc.exitCode === null) await lsp.close();
    });

    async function startWith(m: Machine, settings: Record<string, unknown>): Promise<SessionStatus> {
      lsp = await startLspServer({ settings: { cacheDir: m.cache, ...settings }, env: childEnv({ JLCACHE_KEY_DIR: m.key }) });
      return lsp.conn.sendRequest('julia/startSession');
    }
    async function evaluate(code: string, file = 'check'): Promise<EvaluateResult> {
      const r: EvaluateResult = await lsp!.conn.sendRequest('julia/evaluate', { code, file, line: 1 });
      assert.equal(r.ok, true, JSON.stringify(r.error));
      return r;
    }
    async function closeLsp() {
      await lsp!.close();
      lsp = undefined;
    }

    test('session start pulls, verifies and proves the entry; the first call runs cached', async () => {
      resetServer(server);
      const pushed = await cache(a, ['push', '--cache', a.cache, '--remote', server.url]);
      assert.equal(pushed.code, 0, pushed.stderr);
      const d = machine('d');
      const status = await startWith(d, { remoteUrl: server.url, remoteTrustedKeys: [keyA], remotePullBudgetMs: 60_000 });
      assert.match(status.cache.teamCache ?? '', /^pulled 1 entries \(\d+ methods, \d+ KB\) in \d+ ms$/);
      assert.equal(status.cache.state, 'loaded', JSON.stringify(status.cache));
      await evaluate(readFileSync(PARSER, 'utf8'), PARSER);
      const first = await evaluate('Text(repr(main()))');
      assert.equal(first.timing.methodsCompiled, 0);
      assert.equal(first.display, cold.result);
      await closeLsp();
    });

    test('a server that never answers: the session starts at the budget with its local cache and works', async () => {
      const held: ServerResponse[] = [];
      const stall = createServer((_req: IncomingMessage, res: ServerResponse) => void held.push(res));
      await new Promise<void>((r) => stall.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(stall.address() as { port: number }).port}`;
      try {
        const status = await startWith(a, { remoteUrl: url, remotePullBudgetMs: 500 });
        assert.equal(status.cache.teamCache, 'the team cache did not answer within 500 ms (julia.cache.remote.pullBudgetMs): the session started with the local cache');
        assert.equal(status.cache.state, 'loaded', 'the local cache loaded');
        const r = await evaluate('1 + 1');
        assert.equal(r.display, '2');
        await closeLsp();
      } finally {
        for (const res of held) res.destroy();
        stall.close();
      }
    });

    test('a server that is down: the reason in the status and the log once, the session works with its local cache', async () => {
      const dead = await startNginxCache();
      await dead.stop();
      const status = await startWith(a, { remoteUrl: dead.url });
      assert.match(status.cache.teamCache ?? '', new RegExp(`^pull stopped: cannot reach the team cache at ${dead.url}: connect ECONNREFUSED`));
      assert.equal(status.cache.state, 'loaded');
      await lsp!.conn.sendRequest('julia/restartSession');
      const logged = lsp!.logs.filter((l) => l.includes('cannot reach the team cache'));
      assert.equal(logged.length, 1, `reported once across two session starts: ${JSON.stringify(logged)}`);
      await evaluate(readFileSync(PARSER, 'utf8'), PARSER);
      assert.equal((await evaluate('Text(repr(main()))')).display, cold.result);
      await closeLsp();
    });

    test('after a save the new entry is pushed in the background; Push Compiled Work then finds it there', async () => {
      resetServer(server);
      const e = machine('e');
      await startWith(e, { remoteUrl: server.url });
      await evaluate(readFileSync(PARSER, 'utf8'), PARSER);
      await evaluate('main()');
      await lsp!.conn.sendRequest('julia/saveCompiledWork');
      // Proof, then push: wait for the push's own log line (nothing else writes it).
      const line = await waitUntil(() => lsp!.logs.find((l) => l.startsWith('team cache: pushed')), 180_000, 'the background push');
      assert.match(line, /^team cache: pushed 1 entries \(\d+ KB\), 0 already there/);
      assert.equal(serverFiles(server, 'ac').length, 2, 'one manifest and one index');
      const again: TeamCacheSummary = await lsp!.conn.sendRequest('julia/pushCompiledWork');
      assert.deepEqual([again.entries, again.present, again.bytes], [0, 1, 0]);
      const pulled: TeamCacheSummary = await lsp!.conn.sendRequest('julia/pullTeamCache');
      assert.deepEqual([pulled.entries, pulled.present, pulled.problems], [0, 1, []]);
      await closeLsp();
    });
  });
});
