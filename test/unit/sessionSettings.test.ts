import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultSettings } from '../../shared/src/protocol.ts';
import { InvalidParams, readEntryId, readEvaluateParams } from '../../server/src/util/params.ts';
import { readSettings } from '../../server/src/util/settings.ts';

test('settings: absent options give the defaults', () => {
  assert.deepEqual(readSettings(undefined), { settings: defaultSettings, problems: [] });
});

test('settings: valid fields are taken, wrong types fall back with a problem', () => {
  const { settings, problems } = readSettings({ juliaPath: '/opt/julia', juliaArgs: ['-t', 2], autoStart: false, maxCacheMB: -1 });
  assert.equal(settings.juliaPath, '/opt/julia');
  assert.equal(settings.autoStart, false);
  assert.deepEqual(settings.juliaArgs, []);
  assert.equal(settings.maxCacheMB, defaultSettings.maxCacheMB);
  assert.equal(problems.length, 2);
  assert.match(problems[0], /juliaArgs must be an array of strings/);
});

test('settings: a non-object is reported', () => {
  assert.equal(readSettings('x').problems.length, 1);
});

test('evaluate params are checked', () => {
  assert.deepEqual(readEvaluateParams({ code: '1', file: 'a.jl', line: 3 }), { code: '1', file: 'a.jl', line: 3 });
  assert.deepEqual(readEvaluateParams({ code: '1', file: null }), { code: '1' });
  assert.throws(() => readEvaluateParams({ code: 42 }), /`code` must be a string/);
  assert.throws(() => readEvaluateParams({ code: 'x', line: 0 }), /positive integer/);
  assert.throws(() => readEvaluateParams('x'), InvalidParams);
  assert.throws(() => readEntryId({}), /expects \{ id: string \}/);
});
