// JuliaSession against real Julia 1.5.3 and the real agent.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { OutputParams } from '../../shared/src/protocol.ts';
import { disabledAtStart } from '../../server/src/cache/cacheStatus.ts';
import { SessionError } from '../../server/src/session/errors.ts';
import { JuliaSession } from '../../server/src/session/juliaSession.ts';
import { fakeJulia } from '../helpers/fakeJulia.ts';
import { isAlive, waitUntil } from '../helpers/wait.ts';

function recordOutput(session: JuliaSession): { outputs: OutputParams[]; text: (stream?: string) => string } {
  const outputs: OutputParams[] = [];
  session.on('output', (o) => outputs.push({ ...o }));
  return { outputs, text: (stream = 'stdout') => outputs.filter((o) => o.stream === stream).map((o) => o.text).join('') };
}

describe('a running session', () => {
  const session = new JuliaSession();
  const out = recordOutput(session);

  before(async () => {
    const status = await session.start();
    assert.equal(status.state, 'idle');
    assert.equal(status.juliaVersion, '1.5.3');
    assert.equal(status.cache.state, 'none');
    assert.ok(status.pid && isAlive(status.pid));
  });
  after(async () => {
    const pid = session.status().pid!;
    await session.stop();
    assert.equal(session.status().state, 'stopped');
    assert.equal(isAlive(pid), false, 'no Julia process remains after stop');
  });

  test('evaluate returns the display text of the last value', async () => {
    const result = await session.evaluate({ code: 'x = [1, 2, 3]\nsum(x) * 7' });
    assert.equal(result.ok, true);
    assert.equal(result.display, '42');
    const silent = await session.evaluate({ code: 'y = 5;' });
    assert.equal(silent.display, undefined);
  });

  test("the user's code sees the ARGS of a plain session, not the agent's", async () => {
    const result = await session.evaluate({ code: 'ARGS' });
    assert.equal(result.display, 'String[]');
  });

  test('the agent answers sessionLog and cache/status in the shapes agentProtocol.ts declares', async () => {
    await session.evaluate({ code: 'sq(x) = x * x\nsq(3)', file: 'shapes.jl', line: 1 });
    const log = await session.request('sessionLog', {});
    assert.ok(log.project === null || typeof log.project === 'string');
    assert.ok(Array.isArray(log.loadPath) && log.loadPath.every((p) => typeof p === 'string'));
    const def = log.definitions.find((d) => d.code.startsWith('sq(x)'));
    assert.ok(def, JSON.stringify(log.definitions));
    assert.deepEqual(Object.keys(def).sort(), ['code', 'file', 'hash', 'line']);
    assert.equal(def.file, 'shapes.jl');
    assert.ok(log.compiled.some((c) => c.sig.includes('sq') && typeof c.ms === 'number'), JSON.stringify(log.compiled));
    assert.ok((log.firstRuns ?? []).every((r) => typeof r.hash === 'string' && typeof r.ms === 'number' && typeof r.methodsCompiled === 'number'));
    assert.ok((log.included ?? []).every((i) => typeof i.file === 'string' && typeof i.module === 'string'));
    const status = await session.request('cache/status', {});
    assert.deepEqual([status.installed, status.pending, status.failed, status.entries], [0, 0, [], []]);
  });

  test('stdout streams while the evaluation is still running', async () => {
    // The evaluation waits for a file that the test writes when "tick 1" reaches it: the result is `true` only if
    // that line streamed out while Julia was still running (the 60 s bound turns "never" into `false`).
    const seen = join(mkdtempSync(join(tmpdir(), 'jlc-stream-')), 'seen');
    const onOutput = (o: OutputParams) => void (o.text.includes('tick 1') && writeFileSync(seen, ''));
    session.on('output', onOutput);
    const started = out.outputs.length;
    const code = `println("tick 1"); flush(stdout)\nt0 = time(); while !isfile(${JSON.stringify(seen)}) && time() - t0 < 60; sleep(0.01); end\nprintln("tick 2"); println("tick 3")\nisfile(${JSON.stringify(seen)})`;
    const result = await session.evaluate({ code }).finally(() => session.off('output', onOutput));
    rmSync(dirname(seen), { recursive: true, force: true });
    const ticks = out.outputs.slice(started).filter((o) => o.text.includes('tick 1'));
    assert.equal(result.ok, true);
    assert.equal(ticks.length, 1);
    assert.equal(result.display, 'true', 'the first line arrived before the evaluation ended');
    assert.match(out.text(), /tick 1\ntick 2\ntick 3\n/);
  });

  test('a syntax error has kind syntax and the parser message', async () => {
    const result = await session.evaluate({ code: 'a = 1\nb = (2 +* 3', file: 'bad.jl', line: 10 });
    assert.equal(result.ok, false);
    assert.equal(result.error?.kind, 'syntax');
    assert.ok(result.error!.message.length > 3, result.error!.message);
  });

  test('an exception thrown inside a compiled function is caught with its stack (libunwind fix)', async () => {
    const code = 'function thrower(n)\n  n > 2 && error("boom at $n")\n  return thrower(n + 1)\nend\nthrower(0)';
    const result = await session.evaluate({ code, file: '/tmp/thrower.jl', line: 1 });
    assert.equal(result.ok, false);
    assert.equal(result.error?.kind, 'exception');
    assert.match(result.error!.message, /boom at 3/);
    assert.ok(result.error!.stack.some((f) => f.func === 'thrower'), JSON.stringify(result.error!.stack));
    const after = await session.evaluate({ code: '1 + 1' });
    assert.equal(after.display, '2', 'the session survives the exception');
  });

  test('interrupting `while true end` leaves a usable session', async () => {
    const pid = session.status().pid;
    const started = out.outputs.length;
    // One block, so the line is printed by the same evaluation step that then enters the loop.
    const running = session.evaluate({ code: 'begin\n println("looping"); flush(stdout)\n while true end\nend' });
    await waitUntil(() => out.outputs.slice(started).some((o) => o.text.includes('looping')), 30_000, 'the loop to start');
    assert.equal(session.status().state, 'busy');
    assert.equal(session.interrupt(), true);
    const result = await running;
    assert.equal(result.ok, false);
    assert.equal(result.error?.kind, 'interrupted');
    const after = await session.evaluate({ code: '2 + 2' });
    assert.equal(after.display, '4');
    assert.equal(session.status().pid, pid);
    assert.equal(session.interrupt(), false, 'nothing to interrupt when idle');
  });

  test('timing: the first call of a new function compiles, the second does not', async () => {
    await session.evaluate({ code: 'newfun(v) = sum(abs2, v) + length(string(v))' });
    const first = await session.evaluate({ code: 'newfun([1.5, 2.5])' });
    const second = await session.evaluate({ code: 'newfun([1.5, 2.5])' });
    assert.equal(first.ok, true);
    assert.ok(first.timing.compileMs > 0, `first compileMs ${first.timing.compileMs}`);
    assert.ok(first.timing.methodsCompiled > 0, `first methodsCompiled ${first.timing.methodsCompiled}`);
    assert.ok(first.timing.totalMs >= first.timing.compileMs);
    assert.equal(second.timing.methodsCompiled, 0);
    assert.equal(second.timing.compileMs, 0, 'no compile time without compiled methods');
  });

  test('an output flood is capped with a notice and the session stays responsive', async () => {
    const started = out.outputs.length;
    // About 7 MB of output as fast as Julia can print it.
    const result = await session.evaluate({ code: 'for i in 1:1_000_000\n println(i)\nend' });
    assert.equal(result.ok, true);
    // The drop is reported when the throttle's one-second window closes, after the result: wait for that report.
    const dropReport = () => out.outputs.slice(started).some((o) => o.stream === 'stderr' && /KB of output dropped/.test(o.text));
    await waitUntil(dropReport, 10_000, 'the report of the dropped output');
    const received = out.outputs.slice(started);
    const stdoutBytes = received.filter((o) => o.stream === 'stdout').reduce((n, o) => n + Buffer.byteLength(o.text), 0);
    const seconds = Math.ceil(result.timing.totalMs / 1000) + 2;
    assert.ok(stdoutBytes <= 256 * 1024 * seconds, `${stdoutBytes} bytes passed in ~${seconds} s`);
    assert.ok(stdoutBytes < 6_888_896, 'some output was dropped');
    const notices = received.filter((o) => o.stream === 'stderr').map((o) => o.text).join('');
    assert.match(notices, /dropping the rest of this second/);
    assert.match(notices, /KB of output dropped/);
    const after = await session.evaluate({ code: '3 + 3' });
    assert.equal(after.display, '6');
  });
});

describe('session failures', () => {
  test('kill -9 mid-evaluation: state dead, evaluation rejected clearly, restart works', async () => {
    const session = new JuliaSession();
    const statuses: string[] = [];
    session.on('status', (s) => statuses.push(s.state));
    const { pid } = await session.start();
    const running = session.evaluate({ code: 'sleep(30)' });
    await waitUntil(() => session.status().state === 'busy', 5000, 'busy');
    const queued = session.evaluate({ code: '1' });
    process.kill(pid!, 'SIGKILL');
    await assert.rejects(running, (error: unknown) => {
      assert.ok(error instanceof SessionError);
      assert.equal(error.kind, 'session-died');
      assert.match(error.message, /killed by SIGKILL/);
      return true;
    });
    await assert.rejects(queued, /killed by SIGKILL/);
    const dead = session.status();
    assert.equal(dead.state, 'dead');
    assert.match(dead.message ?? '', /killed by SIGKILL[\s\S]*Restart the session/);
    await assert.rejects(session.evaluate({ code: '1' }), (e: unknown) => e instanceof SessionError && e.kind === 'session-died');

    const restarted = await session.restart();
    assert.equal(restarted.state, 'idle');
    assert.notEqual(restarted.pid, pid);
    assert.equal((await session.evaluate({ code: '6 * 7' })).display, '42');
    await session.stop();
    assert.equal(isAlive(restarted.pid!), false);
    assert.ok(statuses.includes('dead'));
  });

  test('a missing julia gives a clear error', async () => {
    const session = new JuliaSession({ juliaPath: '/nonexistent/bin/julia' });
    await assert.rejects(session.start(), /Julia not found at \/nonexistent\/bin\/julia: install Julia 1\.5\.3 or set julia\.cache\.juliaPath/);
    const status = session.status();
    assert.equal(status.state, 'dead');
    assert.match(status.message ?? '', /Julia not found/);
  });

  test('another Julia version starts without the cache and says why', async () => {
    const fake = fakeJulia('1.6.0');
    try {
      const session = new JuliaSession({ juliaPath: fake.path });
      const status = await session.start();
      assert.equal(status.state, 'idle');
      assert.equal(status.juliaVersion, '1.6.0');
      const cache = disabledAtStart(session, { autoLoad: true, trusted: true });
      assert.equal(cache?.state, 'disabled');
      assert.match(cache?.reason ?? '', /Julia 1\.6\.0 .*only with Julia 1\.5\.3/);
      assert.equal((await session.evaluate({ code: '1 + 2' })).display, '3');
      await session.stop();
    } finally {
      rmSync(fake.dir, { recursive: true, force: true });
    }
  });

  test('a non-Julia executable is reported as such', async () => {
    const session = new JuliaSession({ juliaPath: '/bin/true' });
    await assert.rejects(session.start(), /\/bin\/true does not look like Julia/);
  });

  test('stop kills processes the user code spawned (whole process group)', async () => {
    const session = new JuliaSession();
    await session.start();
    const result = await session.evaluate({ code: 'p = run(`sleep 120`; wait = false); getpid(p)' });
    const child = Number(result.display);
    assert.ok(child > 0 && isAlive(child), result.display);
    await session.stop();
    await waitUntil(() => !isAlive(child), 60_000, 'the spawned sleep to end'); // a limit only against a hang
  });
});
