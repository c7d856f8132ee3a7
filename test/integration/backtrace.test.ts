// Backtraces through cached code, against real Julia 1.5.3 and the C loader: an error thrown inside cached code
// must show the cached functions' frames (named, with their file) and the frames below them, like the same error
// in a session that compiled the code itself; the session stays usable afterwards.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { loadCache } from '../../server/src/cache/loadFlow.ts';
import { saveCompiledWork } from '../../server/src/cache/saveFlow.ts';
import { openSessionStore } from '../../server/src/cache/sessionStore.ts';
import { mustSucceed } from '../../server/src/cli/cliSession.ts';
import { readElf, STT_FUNC } from '../../server/src/codegen/elf.ts';
import type { JuliaSession } from '../../server/src/session/juliaSession.ts';
import { inSession } from '../helpers/juliaSession.ts';

const fixture = resolve(__dirname, '..', 'fixtures', 'julia', 'backtrace_cases.jl');
const cacheDir = mkdtempSync(join(tmpdir(), 'jlcache-backtrace-'));
after(() => rmSync(cacheDir, { recursive: true, force: true }));

async function store(session: JuliaSession) {
  const s = await openSessionStore(session, { cacheDir, maxCacheMB: 512 });
  assert.ok(s.ok, s.ok ? '' : s.error);
  return s.value;
}

/** Defines the fixture's functions, then throws from the innermost one; the eval's error. */
async function throwFromFixture(s: JuliaSession) {
  mustSucceed('fixture', await s.evaluate({ code: readFileSync(fixture, 'utf8'), file: fixture, line: 1 }));
  const r = await s.evaluate({ code: 'bt_outer(20)', file: 'caller.jl', line: 7 });
  assert.equal(r.ok, false, 'bt_outer(20) must throw');
  assert.equal(r.error?.kind, 'exception');
  assert.equal(r.error?.message, 'bt boom 21');
  return r.error!.stack;
}

/** How many sections of the stored object hold entry code: one per part of the module. */
async function codeSections(session: JuliaSession): Promise<number> {
  const st = await store(session);
  const listed = await st.listEntries();
  assert.ok(listed.ok && listed.value.length === 1, JSON.stringify(listed));
  const entry = await st.readEntry(listed.value[0].id);
  assert.ok(entry.ok, entry.ok ? '' : entry.error);
  const elf = readElf(entry.value.object);
  return new Set(elf.symbols.filter((y) => y.type === STT_FUNC && /^jlentry_\d+_spec$/.test(y.name)).map((y) => y.shndx)).size;
}

// The module is emitted in 8 parts (JLC_CODEGEN_PARTS, runCodegen.ts), so the frames' code and unwind info lie in
// different sections of the object: a part whose .eh_frame the loader did not register would cut the stack there.
test('an error thrown in cached code shows the cached frames, as an uncached session does', async () => {
  const cold = await inSession(async (s) => {
    mustSucceed('fixture', await s.evaluate({ code: readFileSync(fixture, 'utf8'), file: fixture, line: 1 }));
    const ok = mustSucceed('bt_outer(1)', await s.evaluate({ code: 'bt_outer(1)' })).display;
    const stack = await throwFromFixture(s);
    process.env.JLC_CODEGEN_PARTS = '8';
    try {
      const saved = await saveCompiledWork(s, await store(s), { alreadySaved: new Set() });
      return { ok, stack, saved, sections: await codeSections(s) };
    } finally {
      delete process.env.JLC_CODEGEN_PARTS;
    }
  });
  assert.ok(cold.saved.methodsSaved > 0, JSON.stringify(cold.saved));
  assert.ok(cold.sections >= 4, `entry code in ${cold.sections} sections`);
  const coldFuncs = cold.stack.map((f) => f.func);
  assert.deepEqual(coldFuncs.filter((f) => f.startsWith('bt_')), ['bt_inner', 'bt_middle', 'bt_outer'], JSON.stringify(cold.stack));

  await inSession(async (s) => {
    const outcome = await loadCache(s, await store(s));
    assert.equal(outcome.status.state, 'loaded', JSON.stringify(outcome.status));
    const stack = await throwFromFixture(s);
    const compiled = (await s.request('sessionLog', {})).compiled.map((c) => c.sig);
    assert.deepEqual(compiled.filter((sig) => /Main\.bt_/.test(sig)), [], 'bt_* must run from the cache, not be compiled');

    // Same frames, in the same order, down to the caller's top level (nothing below the cached frames is lost).
    assert.deepEqual(stack.map((f) => f.func), coldFuncs, JSON.stringify(stack));
    assert.deepEqual(stack.at(-1), { func: 'top-level scope', file: 'caller.jl', line: 7 });
    for (const f of stack.filter((f) => f.func.startsWith('bt_'))) {
      assert.equal(f.file, fixture, JSON.stringify(f));
      assert.ok(f.line > 0, JSON.stringify(f));
    }

    // The session is fine afterwards: the same cached code answers, and throws again with the same stack.
    assert.equal(mustSucceed('bt_outer(1)', await s.evaluate({ code: 'bt_outer(1)' })).display, cold.ok);
    const again = await s.evaluate({ code: 'bt_outer(20)', file: 'caller.jl', line: 7 });
    assert.deepEqual(again.error?.stack, stack);
    assert.equal(mustSucceed('after', await s.evaluate({ code: 'bt_outer(3) - bt_outer(2)' })).ok, true);
  });
});
