import assert from 'node:assert/strict';
import { test } from 'node:test';
import { entryLabel, functionOf } from '../../server/src/cache/entryLabel.ts';

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
