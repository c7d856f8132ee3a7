// Neovim 0.7 (Debian's nvim, headless) as a second real LSP client of dist/server.js: it knows nothing of our custom
// requests and reaches everything through workspace/executeCommand (ServerCommands in shared/src/protocol.ts).
// The Lua side (neovim_client.lua) records what it saw; this file checks it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { EvaluateResult, SessionStatus } from '../../shared/src/protocol.ts';
import { isAlive } from '../helpers/wait.ts';
import { ROOT } from './codeServer.ts';

interface Step {
  name: string;
  ms: number;
  result?: unknown;
  error?: string;
}
interface NvimRun {
  initialized: boolean;
  initialize_ms: number;
  commands?: string[];
  steps: Step[];
  outputs: { stream: string; text: string }[];
  statuses: SessionStatus[];
  finished: { code: string; result: EvaluateResult }[];
  stopped?: boolean;
  lua_error?: string;
}

const ARTIFACTS = join(ROOT, 'test-artifacts', 'e2e', 'neovim');
const SERVER_JS = process.env.SERVER_JS ?? join(ROOT, 'dist', 'server.js');

describe('Neovim LSP client against dist/server.js', { timeout: 600_000 }, () => {
  let run: NvimRun;
  let workspace: string;
  const step = (name: string): Step => {
    const s = run.steps.find((x) => x.name === name);
    assert.ok(s, `step ${name} did not run (lua error: ${run.lua_error ?? 'none'})`);
    return s;
  };
  const evaluation = (name: string): EvaluateResult => {
    const s = step(name);
    assert.equal(s.error, undefined, `${name} failed: ${s.error}`);
    return s.result as EvaluateResult;
  };

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    workspace = mkdtempSync(join(tmpdir(), 'jlc-e2e-nvim-'));
    writeFileSync(join(workspace, 'work.jl'), 'g(n) = sum(sqrt(i) + sin(i) for i in 1:n)\ng(1000)\n');
    const resultFile = join(ARTIFACTS, 'result.json');
    rmSync(resultFile, { force: true });
    const nvim = spawn('nvim', ['--headless', '--clean', '-c', `luafile ${join(__dirname, 'neovim_client.lua')}`], {
      cwd: workspace,
      env: { ...process.env, SERVER_JS, WORKSPACE: workspace, RESULT_FILE: resultFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    nvim.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => nvim.kill('SIGKILL'), 540_000);
    const code = await new Promise<number | null>((r) => nvim.once('exit', (c) => r(c)));
    clearTimeout(timer);
    run = JSON.parse(readFileSync(resultFile, 'utf8'));
    writeFileSync(join(ARTIFACTS, 'result.pretty.json'), JSON.stringify(run, null, 2));
    assert.equal(code, 0, `nvim exited with ${code}: ${stderr}`);
  });

  after(() => rmSync(workspace, { recursive: true, force: true }));

  test('initializes and advertises the server commands', () => {
    assert.equal(run.lua_error, undefined);
    assert.equal(run.initialized, true);
    assert.ok(run.commands?.includes('julia.server.evaluate'), `commands: ${run.commands}`);
  });

  test('starts a Julia 1.5.3 session through executeCommand', () => {
    const status = step('start').result as SessionStatus;
    assert.equal(step('start').error, undefined);
    assert.equal(status.state, 'idle');
    assert.equal(status.juliaVersion, '1.5.3');
    assert.ok(run.statuses.some((s) => s.state === 'starting'), 'sessionStatus notifications arrive');
  });

  test('evaluates: values, streamed output, syntax errors', () => {
    assert.equal(evaluation('one_plus_one').display, '2');
    assert.equal(evaluation('println').ok, true);
    assert.match(run.outputs.map((o) => o.text).join(''), /hello from neovim/);
    const bad = evaluation('syntax_error');
    assert.equal(bad.ok, false);
    assert.equal(bad.error?.kind, 'syntax');
    assert.ok(run.finished.some((f) => f.code === '1 + 1'), 'evaluationFinished notifications arrive');
  });

  test('reports latency: the first call compiles, the second does not', () => {
    const first = evaluation('first_call');
    const second = evaluation('second_call');
    assert.equal(first.display, second.display);
    assert.ok(first.timing.methodsCompiled > 0 && first.timing.compileMs > 0, JSON.stringify(first.timing));
    assert.equal(second.timing.methodsCompiled, 0, JSON.stringify(second.timing));
    console.log(`# neovim: g(1000) first ${first.timing.totalMs} ms (${first.timing.compileMs} ms compile, ${first.timing.methodsCompiled} methods), second ${second.timing.totalMs} ms`);
  });

  test('cache: save, restart, and the first call after restart compiles less', () => {
    const save = step('save');
    assert.equal(save.error, undefined, `save failed: ${save.error}`);
    const status = step('status_cached').result as SessionStatus;
    assert.equal(status.cache.state, 'loaded', JSON.stringify(status.cache));
    assert.ok(status.cache.methods > 0);
    const cold = evaluation('first_call');
    const warm = evaluation('first_call_cached');
    assert.equal(warm.display, cold.display, 'the cached code computes the same value');
    // By what compiled, not by milliseconds (those depend on the machine's load: the benchmark measures them).
    assert.ok(warm.timing.methodsCompiled < cold.timing.methodsCompiled, `methods compiled: ${warm.timing.methodsCompiled} with the cache vs ${cold.timing.methodsCompiled} cold`);
    console.log(`# neovim: g(1000) after restart with the cache ${warm.timing.totalMs} ms vs ${cold.timing.totalMs} ms cold`);
  });

  test('an unknown command is a clear error, and nothing outlives the client', () => {
    assert.match(step('unknown_command').error ?? '', /unknown command/);
    assert.equal(step('stop').error, undefined);
    assert.equal(run.stopped, true, 'the server stopped when the client did');
    const pids = run.statuses.map((s) => s.pid).filter((p): p is number => typeof p === 'number');
    assert.ok(pids.length > 0, 'the session reported its Julia pid');
    for (const pid of new Set(pids)) assert.equal(isAlive(pid), false, `Julia pid ${pid} is still running`);
  });
});
