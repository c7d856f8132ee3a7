import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cacheStatusForVersion } from '../../server/src/cache/cacheStatus.ts';
import { parseJuliaVersion } from '../../server/src/session/juliaProbe.ts';
import { describeExit } from '../../server/src/session/exitMessage.ts';

test('parses `julia --version` output', () => {
  assert.equal(parseJuliaVersion('julia version 1.5.3\n'), '1.5.3');
  assert.equal(parseJuliaVersion('julia version 1.10.0-rc1\n'), '1.10.0-rc1');
  assert.equal(parseJuliaVersion('Python 3.11.2'), undefined);
});

test('only Julia 1.5.3 keeps the cache; others say why it is off', () => {
  assert.equal(cacheStatusForVersion('1.5.3').state, 'none');
  const other = cacheStatusForVersion('1.6.7');
  assert.equal(other.state, 'disabled');
  assert.match(other.reason ?? '', /Julia 1\.6\.7 .*only with Julia 1\.5\.3/);
});

test('exit descriptions name the signal or code', () => {
  assert.match(describeExit({ signal: 'SIGKILL' }), /killed by SIGKILL/);
  assert.match(describeExit({ signal: 'SIGSEGV' }), /crash inside Julia/);
  assert.match(describeExit({ exitCode: 3 }), /code 3/);
  assert.match(describeExit({ exitCode: 0 }, 'the agent closed its connection'), /ended: the agent closed its connection/);
});
