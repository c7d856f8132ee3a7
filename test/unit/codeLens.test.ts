// The code lens scanner (top-level functions, statement hashes equal to the agent's) and the lens text.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { describeFunctions, functionOf } from '../../server/src/codeLens/describe.ts';
import { moduleOfFile } from '../../server/src/codeLens/fileModule.ts';
import { findFunctions, splitTopLevel, statementHash } from '../../server/src/codeLens/scanner.ts';
import { juliaEnv } from '../../server/src/session/juliaLaunch.ts';

const ROOT = join(__dirname, '..', '..');
const FIXTURE = join(__dirname, 'fixtures', 'codeLens.jl');
const WORKLOADS = ['parser.jl', 'linalg.jl', 'markdown.jl', 'datesprintf.jl'].map((f) => join(ROOT, 'workloads', f));

describe('code lens scanner', () => {
  test('finds top-level functions in every form, qualified as in signatures, at their definition line', () => {
    const found = findFunctions(readFileSync(FIXTURE, 'utf8')).map((d) => `${d.line + 1} ${d.name}`);
    assert.deepEqual(found, [
      '9 Main.square', // below its docstring
      '13 Main.twice',
      '14 Main.add', // where clause
      '15 Main.clamp01', // return type
      '17 Main.parse_all', // body with strings, chars, `end`/`begin` as indices, a comprehension with `if`
      '28 Main.fast', // @inline
      '31 Main.typed',
      '35 Main.long_short', // short form over two lines
      '46 Inner.helper', // inside a simple module (the compile log prints modules below Main without `Main.`)
      '47 Inner.run',
      '55 Base.show', // a method of another module's function
    ]);
  });

  test('statement text and hash are exactly the agent\'s (statements.jl, run in Julia 1.5.3)', () => {
    const files = [FIXTURE, ...WORKLOADS];
    // The agent's own splitter, loaded on its own, prints "<0-based line> <hash>" per statement of each file.
    const script = `
      module S; include(${JSON.stringify(join(ROOT, 'server/julia/agent/src/statements.jl'))}); end
      for f in ARGS
        stmts, problem = S.split_statements(read(f, String), f, 1, "Main")
        problem === nothing || error(problem.message)
        for st in stmts; println(f, " ", st.line - 1, " ", st.hash); end
      end`;
    const out = execFileSync('julia', ['--startup-file=no', '-e', script, ...files], {
      env: juliaEnv(),
      encoding: 'utf8',
      timeout: 120_000,
    });
    const ours = files.flatMap((f) => {
      const text = readFileSync(f, 'utf8');
      return splitTopLevel(text).map((s) => `${f} ${text.slice(0, s.start).split('\n').length - 1} ${statementHash(text.slice(s.start, s.end))}`);
    });
    assert.ok(ours.length > 40, `${ours.length} statements`);
    assert.deepEqual(ours, out.trim().split('\n'));
  });

  test('each function carries the hash of its statement; inside a module, the module statement\'s', () => {
    const text = 'module M\nf(x) = 1\nend\ng(x) = 2 # two\n';
    const [f, g] = findFunctions(text);
    assert.equal(f.statementHash, statementHash('module M\nf(x) = 1\nend'));
    assert.equal(g.statementHash, statementHash('g(x) = 2 # two'));
  });

  test('a file included into a module: functions qualified by it, statements hashed with it, as the agent does', () => {
    const [area] = findFunctions('"doc"\narea(r) = r.w * r.h\n', 'Main.Geo');
    assert.deepEqual(area, { name: 'Geo.area', own: true, line: 1, statementHash: statementHash('"doc"\narea(r) = r.w * r.h', 'Main.Geo') });
    assert.notEqual(area.statementHash, statementHash('"doc"\narea(r) = r.w * r.h'));
  });

  test('unbalanced or odd input does not throw', () => {
    for (const text of ['function f(x', 'end end end', '"unterminated', "x = 'a", '#= open', 'f(x) = )', '', '\n\n']) {
      assert.doesNotThrow(() => findFunctions(text), text);
    }
  });
});

describe('code lens text', () => {
  const defs = findFunctions(['f(x) = x + 1', 'g(x) = 2x', 'h(x) = 3x', 'k(x) = 4x', 'Base.show(io::IO, x::Int) = 1', ''].join('\n'));
  const [f, g] = defs.map((d) => `stmt:${d.statementHash}`);
  const compiled = [
    { sig: 'Tuple{typeof(Main.f), Int64}', ms: 200 },
    { sig: 'Tuple{typeof(Main.f), Float64}', ms: 12.4 },
    { sig: 'Tuple{typeof(Main.g), Int64}', ms: 5.25 },
    { sig: 'Tuple{typeof(Main.k), Int64}', ms: 30 },
    { sig: 'Tuple{typeof(Base.show), IO, Int64}', ms: 99 }, // no type of this session: not the user's method
    { sig: 'Tuple{Main.var"#3#4", Int64}', ms: 1 },
  ];
  const cached = [
    { signature: 'Tuple{typeof(Main.f), Int64}', requires: [f], compileMs: 200 },
    { signature: 'Tuple{typeof(Main.h), Int64}', requires: ['stmt:0123456789012345678901234567890123456789', 'stmt:aaaa'], compileMs: 40 },
    { signature: 'Tuple{typeof(Base.sum), Array{Main.P, 1}}', requires: [g] },
  ];
  const reports = describeFunctions(defs, compiled, cached);

  test('compile times are summed per function from the session log', () => {
    assert.equal(reports[0].compileMs, 212.4);
    assert.equal(reports[1].compileMs, 5.25);
    assert.equal(reports[4].compileMs, undefined, 'Base.show(IO, Int64) is not a method of this session');
  });

  test('cached, stale (source changed), not cached, not compiled yet', () => {
    assert.deepEqual(reports.map((r) => r.title), [
      'compiled in 212 ms · cached',
      'compiled in 5.3 ms · not cached',
      'compiled in 40 ms · stale (source changed)', // not compiled this session: the cached methods' time
      'compiled in 30 ms · not cached',
      'not compiled yet',
    ]);
  });

  test('a method cached for an edited definition is stale; the same function\'s other definitions are not', () => {
    const two = findFunctions('p(x::Int) = 1\np(x::String) = 2\n');
    const stored = [{ signature: 'Tuple{typeof(Main.p), Int64}', requires: [`stmt:${two[0].statementHash}`] }];
    assert.deepEqual(describeFunctions(two, [], stored).map((r) => r.cache), ['cached', 'not cached']);
    const edited = findFunctions('p(x::Int) = 10\np(x::String) = 2\n');
    assert.deepEqual(describeFunctions(edited, [], stored).map((r) => r.cache), ['stale', 'stale']);
  });

  test('an included file: cached through its `def:<file>:<hash>` requirements, stale when its definition changed', () => {
    const file = '/w/geo/measure.jl';
    const text = 'area(r) = r.w * r.h\ntotal(s) = sum(area, s)\n';
    const [area, total] = findFunctions(text, 'Main.Geo');
    const stored = [
      { signature: 'Tuple{typeof(Geo.area), Geo.Rect}', requires: ['stmt:1111', `def:${file}:${area.statementHash}`] },
      { signature: 'Tuple{typeof(Geo.total), Array{Geo.Rect, 1}}', requires: ['stmt:1111', `def:${file}:${total.statementHash}`, `def:${file}:${area.statementHash}`] },
    ];
    assert.deepEqual(describeFunctions([area, total], [], stored, file).map((r) => r.cache), ['cached', 'cached']);
    assert.deepEqual(describeFunctions([area, total], [], stored, '/w/other.jl').map((r) => r.cache), ['stale', 'stale'], 'another file\'s definitions');
    const edited = findFunctions(text.replace('r.w * r.h', 'r.w * r.h + 1'), 'Main.Geo');
    assert.deepEqual(describeFunctions(edited, [], stored, file).map((r) => r.cache), ['stale', 'cached']);
  });

  test('the module of an included file: where the session included it, else where the cached methods from it live', () => {
    const file = '/w/geo/measure.jl';
    const text = 'area(r) = r.w * r.h\nmodule Inner\nf() = 1\nend\n';
    const included = [{ file, module: 'Main.Geo' }];
    assert.equal(moduleOfFile(file, text, included, []), 'Main.Geo');
    assert.equal(moduleOfFile(file, text, [], []), 'Main', 'nothing known: evaluated in Main');
    const fromCache = [
      { signature: 'Tuple{typeof(Geo.Inner.f)}', requires: [`def:${file}:abcd`] },
      { signature: 'Tuple{typeof(Geo.area), Int64}', requires: [`def:${file}:ef01`] },
      { signature: 'Tuple{typeof(Main.area), Int64}', requires: ['stmt:2345'] }, // not from this file
    ];
    assert.equal(moduleOfFile(file, text, [], fromCache), 'Main.Geo');
    assert.equal(moduleOfFile('/w/else.jl', text, [], fromCache), 'Main');
  });

  test('function names from signatures', () => {
    assert.equal(functionOf('Tuple{typeof(Main.f!), Int64}'), 'Main.f!');
    assert.equal(functionOf('Tuple{typeof(Main.M.g)}'), 'Main.M.g');
    assert.equal(functionOf('Tuple{Type{Main.P}, Int64}'), undefined);
  });
});
