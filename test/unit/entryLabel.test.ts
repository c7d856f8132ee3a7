import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { entryLabel, functionOf, packageOf } from '../../server/src/cache/entryLabel.ts';

test('function names come out of Julia signatures, gensym names included', () => {
  assert.deepEqual(functionOf('Tuple{typeof(Main.parse_config), String}'), { module: 'Main', name: 'parse_config' });
  assert.deepEqual(functionOf('Tuple{typeof(Base.Markdown.term), IO, Array{Any, 1}, Int64}'), { module: 'Base.Markdown', name: 'term' });
  assert.deepEqual(functionOf('Tuple{typeof(Base.var"#sprint#355"), Nothing}'), { module: 'Base', name: 'var"#sprint#355"' });
  assert.equal(functionOf('Tuple{Type{Dict{String, Int64}}}'), null);
});

test('the label names the user functions first, then the rest, and counts what it leaves out', () => {
  const sigs = [
    'Tuple{typeof(Base.show), Base.IOContext{Base.GenericIOBuffer{Array{UInt8, 1}}}, String}',
    'Tuple{typeof(Main.main)}',
    'Tuple{typeof(Main.parse_config), String}',
    'Tuple{typeof(Main.parse_config), SubString{String}}',
    'Tuple{Type{Dict{String, Int64}}}',
  ];
  assert.equal(entryLabel('e1', sigs), 'main, parse_config, Base.show, … (5 methods)');
  assert.equal(entryLabel('e1', ['Tuple{typeof(Main.f), Int64}']), 'f');
  assert.equal(entryLabel('e1', []), 'e1');
  assert.equal(entryLabel('e1', ['f(::Int64)', 'g(::Int64)']), 'f(::Int64), g(::Int64) (2 methods)');
});

describe('packageOf: the package an entry was built for', () => {
  test('every method needs only packages, one of them in common', () => {
    assert.equal(packageOf([['pkg:TinyStats:4e98edcc'], ['pkg:TinyStats:4e98edcc']]), 'TinyStats');
    assert.equal(packageOf([['pkg:TinyReports:1'], ['pkg:TinyReports:1', 'pkg:TinyStats:2']]), 'TinyReports');
  });
  test("the session's own work, or a mix, is no package", () => {
    assert.equal(packageOf([['stmt:abc'], ['pkg:TinyStats:1']]), undefined);
    assert.equal(packageOf([['pkg:A:1'], ['pkg:B:2']]), undefined);
    assert.equal(packageOf([[], ['pkg:A:1']]), undefined);
    assert.equal(packageOf([]), undefined);
  });
});
