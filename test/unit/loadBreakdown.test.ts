// The load breakdown's columns from one run's raw steps (cli/loadBreakdown.ts): what was done during the start is
// apart from what the session waited for, and the round trip and the glue are what the agent's handler does not cover.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BenchReport } from '../../server/src/cli/benchCommand.ts';
import { loadSteps } from '../../server/src/cli/loadBreakdown.ts';

test('loadSteps splits a run into ahead, wait, round trip, loader steps and glue', () => {
  const load_steps = {
    openAhead: 6, listAhead: 4, waited: 0.5, list: 0.02, prove: 0.1, request: 4, handler: 2.75,
    read: 0.25, parse: 0.02, link: 0.9, unwind: 0.08, fill: 0.2, install: 1, entries: 2.6, satisfy: 0.02, counts: 0.01,
  };
  const s = loadSteps({ load_steps } as unknown as BenchReport);
  assert.equal(s.ahead, 10);
  assert.ok(Math.abs(s.wait - 0.62) < 1e-9);
  assert.equal(s.rpc, 1.25);
  assert.equal(s.install, 1);
  assert.ok(Math.abs(s.glue - (2.75 - 2.45)) < 1e-9);
  const sum = s.wait + s.rpc + s.read + s.parse + s.link + s.unwind + s.fill + s.install + s.glue;
  assert.ok(Math.abs(sum - (0.5 + 0.02 + 0.1 + 4)) < 1e-9, 'the columns after ahead add up to what the session waited for');
});

test('loadSteps of a run without a load is all zeros', () => {
  const s = loadSteps({} as BenchReport);
  assert.ok(Object.values(s).every((v) => v === 0));
});
