// Code lenses through the real language server and real Julia: compile time and cache state per function, kept up
// to date as the user evaluates, saves compiled work, edits and restarts (the server asks for a refresh each time).
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import type { CodeLens } from 'vscode-languageserver/node';
import { ServerCommands, type EvaluateResult, type SaveSummary } from '../../shared/src/protocol.ts';
import { repo, startLspServer } from '../helpers/lspServer.ts';
import { waitUntil } from '../helpers/wait.ts';

const SOURCE = ['sq(x) = x * x', '', 'function cube(x)', '    return x * sq(x)', 'end', ''].join('\n');

test('code lenses: not compiled yet, compiled · not cached, cached after a save, stale after an edit, cached after a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'jlc-lens-'));
  const file = join(dir, 'lens.jl');
  const uri = pathToFileURL(file).href;
  const server = await startLspServer({
    settings: { cacheDir: join(dir, 'cache') },
    capabilities: { workspace: { codeLens: { refreshSupport: true } } },
  });
  let refreshes = 0;
  server.conn.onRequest('workspace/codeLens/refresh', () => void refreshes++);
  const lenses = async () =>
    ((await server.conn.sendRequest('textDocument/codeLens', { textDocument: { uri } })) as CodeLens[]).map((l) => `${l.range.start.line}: ${l.command?.title}`);
  try {
    assert.ok(server.initializeResult.capabilities.codeLensProvider, 'the server advertises code lenses');
    await server.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'julia', version: 1, text: SOURCE } });
    assert.deepEqual(await lenses(), [], 'no session yet: no lenses');

    await server.conn.sendRequest('julia/evaluate', { code: SOURCE, file, line: 1 });
    assert.deepEqual(await lenses(), ['0: not compiled yet', '2: not compiled yet']);

    // The compile log names what was sent to codegen: cube(::Int64) (sq inlined into it) and sq(::Float64).
    await server.conn.sendRequest('julia/evaluate', { code: 'cube(3), sq(2.0)' });
    await waitUntil(() => refreshes > 0, 5000, 'a code lens refresh after an evaluation');
    const compiled = (await server.conn.sendRequest('textDocument/codeLens', { textDocument: { uri } })) as CodeLens[];
    assert.equal(compiled.length, 2);
    for (const l of compiled) {
      assert.match(l.command!.title, /^compiled in \d+(\.\d)? ms · not cached$/);
      assert.equal(l.command!.command, ServerCommands.saveCompiledWork, 'the lens offers Save Compiled Work');
    }

    const summary: SaveSummary = await server.conn.sendRequest('julia/saveCompiledWork');
    assert.ok(summary.methodsSaved > 0);
    const saved = await lenses();
    assert.match(saved[0], /^0: compiled in \d+(\.\d)? ms · cached$/);
    assert.match(saved[1], /^2: compiled in \d+(\.\d)? ms · cached$/);

    // Edit sq without evaluating: its cached code no longer matches the source; cube's statement is unchanged.
    await server.conn.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: 2 },
      contentChanges: [{ range: { start: { line: 0, character: 13 }, end: { line: 0, character: 13 } }, text: ' + 0' }],
    });
    const edited = await lenses();
    assert.match(edited[0], /^0: compiled in .* · stale \(source changed\)$/);
    assert.match(edited[1], /^2: compiled in .* · cached$/);

    // A new session has compiled nothing: the lens shows what the cached methods took to compile.
    const before = refreshes;
    await server.conn.sendRequest('julia/restartSession');
    await waitUntil(() => refreshes > before, 5000, 'a code lens refresh after a restart');
    assert.match((await lenses())[1], /^2: compiled in \d+(\.\d)? ms · cached$/);
  } finally {
    assert.equal(await server.close(), 0);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('code lenses in included files: the including module names the functions; Execute File on an included file as on any other', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'jlc-lens-include-'));
  cpSync(join(repo, 'workloads', 'include'), dir, { recursive: true });
  const server = await startLspServer({
    settings: { cacheDir: join(dir, 'cache') },
    capabilities: { workspace: { codeLens: { refreshSupport: true } } },
  });
  let refreshes = 0;
  server.conn.onRequest('workspace/codeLens/refresh', () => void refreshes++);
  const open = async (rel: string) => {
    const file = join(dir, rel);
    const uri = pathToFileURL(file).href;
    await server.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'julia', version: 1, text: readFileSync(file, 'utf8') } });
    return { file, uri, lenses: async () => ((await server.conn.sendRequest('textDocument/codeLens', { textDocument: { uri } })) as CodeLens[]).map((l) => `${l.range.start.line}: ${l.command?.title}`) };
  };
  const evaluate = async (code: string, file?: string) => {
    const r: EvaluateResult = await server.conn.sendRequest('julia/evaluate', file ? { code, file, line: 1 } : { code });
    assert.equal(r.ok, true, JSON.stringify(r.error));
  };
  const save = async () => assert.ok(((await server.conn.sendRequest('julia/saveCompiledWork')) as SaveSummary).methodsSaved > 0);
  try {
    // geo/measure.jl is included by geo/geo.jl, itself included into `module Geo` by nested.jl.
    const measure = await open('geo/measure.jl');
    const TOTAL = 4; // total_area(shapes) = sum(area, shapes)
    const nested = join(dir, 'nested.jl');
    await evaluate(readFileSync(nested, 'utf8'), nested);
    await evaluate('main()');
    assert.match((await measure.lenses())[2], new RegExp(`^${TOTAL}: compiled in \\d+(\\.\\d)? ms · not cached$`), 'Geo.total_area compiled');
    await save();
    assert.match((await measure.lenses())[2], new RegExp(`^${TOTAL}: compiled in \\d+(\\.\\d)? ms · cached$`));

    // A new session has included nothing yet: the cached methods from this file say which module it runs in.
    const before = refreshes;
    await server.conn.sendRequest('julia/restartSession');
    await waitUntil(() => refreshes > before, 5000, 'a code lens refresh after a restart');
    assert.match((await measure.lenses())[2], new RegExp(`^${TOTAL}: compiled in \\d+(\\.\\d)? ms · cached$`), 'cached, before any include');

    // Edit total_area without evaluating: its cached code was compiled from the old text.
    await server.conn.sendNotification('textDocument/didChange', {
      textDocument: { uri: measure.uri, version: 2 },
      contentChanges: [{ range: { start: { line: TOTAL, character: 37 }, end: { line: TOTAL, character: 37 } }, text: ' + 0' }],
    });
    assert.match((await measure.lenses())[2], new RegExp(`^${TOTAL}: compiled in .* · stale \\(source changed\\)$`));

    // lib/text.jl is included by report.jl; here it is run itself (Execute File), then through report.jl's include.
    const text = await open('lib/text.jl');
    await evaluate(readFileSync(text.file, 'utf8'), text.file);
    await evaluate('topword(tokens("b a b"))');
    assert.match((await text.lenses())[0], /^1: compiled in \d+(\.\d)? ms · not cached$/, 'tokens, compiled after Execute File');
    await save();
    assert.match((await text.lenses())[0], /^1: compiled in \d+(\.\d)? ms · cached$/);
    const report = join(dir, 'report.jl');
    await evaluate(readFileSync(report, 'utf8'), report);
    assert.match((await text.lenses())[0], /^1: compiled in \d+(\.\d)? ms · cached$/, 'the same statements, now included');
  } finally {
    assert.equal(await server.close(), 0);
    rmSync(dir, { recursive: true, force: true });
  }
});
