// The editor client's pure pieces: REPL input completeness, terminal key decoding, line editing and history, and
// the formatted numbers users read in the status bar and messages.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAge, formatBytes, formatMs, saveSummaryText } from '../../client/src/format.ts';
import { isInputComplete } from '../../client/src/inputComplete.ts';
import { keyText, LineEditor, parseKeys } from '../../client/src/lineEditor.ts';

test('complete input: single lines, closed blocks and brackets', () => {
  for (const code of [
    '1 + 1', 'x = [1, 2, 3]', 'function f(x)\n  x + 1\nend', 'a[end]', 'a[begin:end]', '[x for x in 1:3 if isodd(x)]',
    'map(1:3) do x\n  x^2\nend', 's = "a ( b"', "c = ')'", "A'", "x'y'", 'q = """\nfor\n"""', '# function\n1',
    '#= begin #= nested =# =# 2', 'mutable struct P\n  x::Int\nend', 'abstract type T end', 'x.end', ':end',
    '"$(f("(")) ok"', 'cmd = `ls (`', 'for i in 1:2; println(i); end', 'if true 1 else 2 end',
  ]) assert.equal(isInputComplete(code), true, JSON.stringify(code));
});

test('incomplete input: open blocks, brackets, strings and comments', () => {
  for (const code of [
    'function f(x)', 'function f(x)\n  x + 1', 'begin', 'f(1,', '[1, 2', 's = "abc', 'q = """\nabc', '#= open',
    'struct P', 'abstract type T', 'let x = 1', 'try\n  f()\ncatch', 'quote', 'map(1:3) do x', "c = 'a", '"$(f(1)"',
    'module M\nfunction g()\nend',
  ]) assert.equal(isInputComplete(code), false, JSON.stringify(code));
});

test('terminal keys: printable runs, arrows in both cursor modes, controls, CRLF pastes', () => {
  assert.deepEqual(parseKeys('ab\x1b[D\x1bOC\x7f\r'), [
    { kind: 'text', text: 'ab' }, { kind: 'left' }, { kind: 'right' }, { kind: 'backspace' }, { kind: 'enter' },
  ]);
  assert.deepEqual(parseKeys('\x1b[A\x1b[B\x1b[H\x1b[F\x1b[3~\x03\x01\x05'), [
    { kind: 'up' }, { kind: 'down' }, { kind: 'home' }, { kind: 'end' }, { kind: 'delete' }, { kind: 'interrupt' },
    { kind: 'home' }, { kind: 'end' },
  ]);
  assert.deepEqual(parseKeys('x=1\r\ny=2'), [{ kind: 'text', text: 'x=1' }, { kind: 'enter' }, { kind: 'text', text: 'y=2' }]);
  assert.deepEqual(parseKeys('\x1b[1;5Ca'), [{ kind: 'text', text: 'a' }], 'unknown sequences are dropped whole');
  const typed = 'f(1)\x1b[D\x7f2\x1bOA\r';
  assert.deepEqual(parseKeys(parseKeys(typed).map(keyText).join('')), parseKeys(typed), 'queued keys replay the same');
});

test('line editing: insert at the cursor, delete, home/end, unicode stays whole', () => {
  const ed = new LineEditor();
  ed.insert('α + 2');
  ed.home();
  ed.right();
  ed.insert('β');
  assert.equal(ed.text, 'αβ + 2');
  ed.end();
  ed.backspace();
  ed.insert('3');
  ed.home();
  ed.delete();
  assert.equal(ed.text, 'β + 3');
  ed.left(); // at the start already: stays
  assert.equal(ed.render('> '), '\r\x1b[K> β + 3\x1b[5D', 'the cursor is put back where it is editing');
});

test('history: up/down walk entries, keep the draft, skip blanks and repeats', () => {
  const ed = new LineEditor();
  for (const line of ['a = 1', 'a = 1', '   ', 'b = 2']) {
    ed.insert(line);
    ed.take();
  }
  ed.insert('dra');
  ed.historyUp();
  assert.equal(ed.text, 'b = 2');
  ed.historyUp();
  assert.equal(ed.text, 'a = 1');
  ed.historyUp();
  assert.equal(ed.text, 'a = 1', 'stops at the oldest');
  ed.historyDown();
  ed.historyDown();
  assert.equal(ed.text, 'dra', 'the draft comes back');
  ed.historyUp();
  assert.equal(ed.take(), 'b = 2');
  ed.historyUp();
  assert.equal(ed.text, 'b = 2', 'recalling an entry does not duplicate it');
});

test('formatting: latency, sizes, ages and the save summary', () => {
  assert.equal(formatMs(412.4), '412 ms');
  assert.equal(formatMs(1234), '1.23 s');
  assert.equal(formatMs(61_000), '61.0 s');
  assert.equal(formatBytes(900), '900 B');
  assert.equal(formatBytes(5 * 1024 + 100), '5.1 KB');
  assert.equal(formatBytes(340 * 1024), '340 KB');
  assert.equal(formatBytes(3.5 * 1024 * 1024), '3.5 MB');
  const now = Date.parse('2025-01-02T00:00:00Z');
  assert.equal(formatAge('2025-01-01T23:59:30Z', now), 'just now');
  assert.equal(formatAge('2025-01-01T23:00:00Z', now), '1 h ago');
  assert.equal(formatAge('2024-12-30T00:00:00Z', now), '3 d ago');
  assert.equal(formatAge('garbage', now), 'unknown age');
  const summary = { methodsSaved: 214, methodsAlreadyCached: 0, bytes: 512 * 1024, ms: 2400, skipped: [{ signature: 's', reason: 'r' }] };
  assert.equal(saveSummaryText(summary), 'Saved 214 methods (512 KB) in 2.4 s; 1 skipped');
  assert.equal(saveSummaryText({ ...summary, methodsAlreadyCached: 5, skipped: [] }), 'Saved 214 methods (512 KB) in 2.4 s; 0 skipped (5 already cached)');
});
