import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OutputParams } from '../../shared/src/protocol.ts';
import { cutToBytes, OutputThrottle } from '../../server/src/session/outputThrottle.ts';

function throttle(maxBytesPerSecond: number) {
  const sent: OutputParams[] = [];
  let clock = 1_000_000;
  const t = new OutputThrottle({ send: (c) => sent.push({ ...c }), maxBytesPerSecond, flushMs: 5, now: () => clock });
  return { t, sent, advance: (ms: number) => (clock += ms) };
}

test('coalesces consecutive chunks of one stream and keeps stream order', () => {
  const { t, sent } = throttle(1024);
  t.push('stdout', 'a');
  t.push('stdout', 'b');
  t.push('stderr', 'c');
  t.push('stdout', 'd');
  t.flush();
  assert.deepEqual(sent, [
    { stream: 'stdout', text: 'ab' },
    { stream: 'stderr', text: 'c' },
    { stream: 'stdout', text: 'd' },
  ]);
});

test('above the rate cap, the rest of the second is dropped with a notice and the dropped size', () => {
  const { t, sent, advance } = throttle(100);
  for (let i = 0; i < 50; i++) t.push('stdout', '0123456789'); // 500 bytes in one window
  t.flush();
  const kept = sent.filter((c) => c.stream === 'stdout').map((c) => c.text).join('');
  assert.equal(kept.length, 100);
  assert.match(sent.map((c) => c.text).join(''), /output faster than 100 bytes\/s/);
  advance(1000);
  t.push('stdout', 'after');
  t.flush();
  const all = sent.map((c) => c.text).join('');
  assert.match(all, /\[400 bytes of output dropped\]/);
  assert.ok(all.endsWith('after'), 'output flows again in the next second');
});

test('dispose reports dropped output even without further output', () => {
  const { t, sent } = throttle(10);
  t.push('stderr', 'x'.repeat(2048));
  t.dispose();
  assert.match(sent.map((c) => c.text).join(''), /\[2 KB of output dropped\]/);
});

test('sends by itself after flushMs, gathered into one notification', async () => {
  const sent: OutputParams[] = [];
  let firstSend!: () => void;
  const sending = new Promise<void>((r) => (firstSend = r));
  const t = new OutputThrottle({ send: (c) => void (sent.push(c), firstSend()), flushMs: 5 });
  t.push('stdout', 'hel');
  t.push('stdout', 'lo');
  assert.equal(sent.length, 0, 'nothing is sent before the flush timer');
  // Waits for the send itself; the generous limit only turns "never sent" into a failure instead of a hang.
  const never = new Promise<string>((r) => setTimeout(() => r('never sent'), 10_000).unref());
  assert.equal(await Promise.race([sending.then(() => 'sent'), never]), 'sent');
  assert.deepEqual(sent, [{ stream: 'stdout', text: 'hello' }]);
});

test('cutToBytes never splits a UTF-8 sequence', () => {
  assert.equal(cutToBytes('aé', 2), 'a'); // é is 2 bytes
  assert.equal(cutToBytes('aé', 3), 'aé');
  assert.equal(cutToBytes('∀x', 2), '');
});
