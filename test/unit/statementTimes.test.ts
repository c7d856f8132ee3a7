// Cold times of statements (timing.coldMs/savedMs): what a save records, what a cached session reports, and that a
// tampered or foreign side file reports nothing.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import type { EvalTiming } from '../../shared/src/protocol.ts';
import { readColdTimes, recordColdTimes, SavedTime } from '../../server/src/cache/statementTimes.ts';
import { sandbox, type Sandbox } from './fixtures/cacheFixtures.ts';

const H1 = 'a'.repeat(40);
const H2 = 'b'.repeat(40);
let sb: Sandbox;
let keyDirBefore: string | undefined;

beforeEach(() => {
  sb = sandbox();
  keyDirBefore = process.env.JLCACHE_KEY_DIR;
  process.env.JLCACHE_KEY_DIR = sb.keyDir; // the side file is signed with the per-user key, like the entries
});
afterEach(() => {
  if (keyDirBefore === undefined) delete process.env.JLCACHE_KEY_DIR;
  else process.env.JLCACHE_KEY_DIR = keyDirBefore;
  sb.cleanup();
});

const timing = (totalMs: number): EvalTiming => ({ totalMs, compileMs: 0, methodsCompiled: 0 });

test('a save records first runs that compiled something, and never replaces a recorded (cold) time', async () => {
  const store = await sb.open();
  await recordColdTimes(store, [
    { hash: H1, ms: 400, methodsCompiled: 13 },
    { hash: H2, ms: 0.5, methodsCompiled: 0 }, // compiled nothing: not a cold run
  ]);
  await recordColdTimes(store, [{ hash: H1, ms: 1, methodsCompiled: 1 }]); // a later, cached session's run
  const times = await readColdTimes(store);
  assert.deepEqual([...times], [[H1, { ms: 400, methodsCompiled: 13 }]]);
});

test('a tampered or foreign file reports nothing', async () => {
  const store = await sb.open();
  await recordColdTimes(store, [{ hash: H1, ms: 400, methodsCompiled: 13 }]);
  const file = path.join(store.layout.identityDir, 'statement-times.json');
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  doc.times[H1].ms = 4000;
  writeFileSync(file, JSON.stringify(doc));
  assert.equal((await readColdTimes(store)).size, 0);
  writeFileSync(file, '{not json');
  assert.equal((await readColdTimes(store)).size, 0);
});

test('savedMs only for a statement first run here that compiled less than its recorded cold run', () => {
  const saved = new SavedTime(new Map([[H1, { ms: 400, methodsCompiled: 13 }], [H2, { ms: 50, methodsCompiled: 2 }]]));
  const first = timing(1.2);
  saved.annotate(first, [{ hash: H1, kind: 'expression', line: 1, ms: 1, methodsCompiled: 0 }]);
  assert.equal(first.coldMs, 400);
  assert.equal(first.savedMs, 399);

  const again = timing(0.6); // second run of the same statement: nothing to compare with
  saved.annotate(again, [{ hash: H1, kind: 'expression', line: 1, ms: 0.5, methodsCompiled: 0 }]);
  assert.equal(again.coldMs, undefined);

  const compiledAsMuch = timing(60); // the cache did not spare this statement any compilation
  saved.annotate(compiledAsMuch, [{ hash: H2, kind: 'expression', line: 1, ms: 55, methodsCompiled: 2 }]);
  assert.equal(compiledAsMuch.savedMs, undefined);

  const unknown = timing(3); // no recorded cold time
  saved.annotate(unknown, [{ hash: 'c'.repeat(40), kind: 'expression', line: 1, ms: 3, methodsCompiled: 0 }]);
  assert.equal(unknown.coldMs, undefined);
});
