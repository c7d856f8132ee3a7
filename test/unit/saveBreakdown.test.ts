// The save breakdown's columns from one run's raw steps (cli/saveBreakdown.ts): the session's own steps, the rest of
// the capture request, and the server's steps add up to the save.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BenchReport } from '../../server/src/cli/benchCommand.ts';
import { saveSteps } from '../../server/src/cli/saveBreakdown.ts';

test('saveSteps splits a save into agent code, the capture steps, the rest of the request, emission and store', () => {
  const save_steps = {
    agentCode: 30, capture: 700, resolveMs: 4, inferMs: 150, createNativeMs: 90, importMs: 60, describeMs: 45,
    passesMs: 190, analysisMs: 30, writeMs: 20, emit: 350, store: 25,
  };
  const s = saveSteps({ save_steps } as unknown as BenchReport);
  assert.equal(s[0], 30);
  assert.equal(s[9], 700 - (4 + 150 + 90 + 60 + 45 + 190 + 30 + 20));
  assert.deepEqual(s.slice(-2), [350, 25]);
  assert.equal(s.reduce((a, b) => a + b, 0), 30 + 700 + 350 + 25);
});

test('saveSteps of a run without a save is all zeros', () => {
  assert.ok(saveSteps({} as BenchReport).every((v) => v === 0));
});
