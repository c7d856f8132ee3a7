// Scripts whose top level has side effects (workloads/effects/*.jl): saving a session's compiled work, and proving
// the entry, must never run the user's code again (no second `open(..., "w")` truncating a file, no extra appended
// line, no second spawned process), on the in-session capture path and on the worker fallback alike; a cached
// session runs the script once more, as any session does, and no more. Cached code must never return another
// session's value of a `const` computed at load time (rand(), time()).
//
// The oracle for "what one session writes" is plain `julia` (no agent, no cache) running the same script, once and
// then a second time in its own directory: after the save session the files must equal the first, after the cached
// session the second.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { brief, cleanupTemps, cliRun, linesOf, plainJulia, tempDir, workloads, type CliReport } from '../helpers/cliRun.ts';

const effects = join(workloads, 'effects');

interface Case {
  script: string;
  /** The file the script writes. */
  file: string;
  /** The lines one session leaves in it, and two sessions (from the script's own logic). */
  one: string[];
  two: string[];
}

// const_open.jl: `open(out.txt, "w")` at load time, main() writes @sprintf("%-6s %10.3f", "v$i", sqrt(i)), i = 1:5.
const openLines = [1, 2, 3, 4, 5].map((i) => `v${i}`.padEnd(6) + ' ' + Math.sqrt(i).toFixed(3).padStart(10));
// const_append.jl: one "call 1: <word counts>" line per session (the counter starts at 0 in every process).
const appendLine = 'call 1: brown=1 dog=1 fox=1 jumps=1 lazy=1 over=1 quick=1 the=2';

const cases: Case[] = [
  // "w" truncates: a second session leaves exactly one session's lines again.
  { script: 'const_open.jl', file: 'out.txt', one: openLines, two: openLines },
  { script: 'const_append.jl', file: 'log.txt', one: [appendLine], two: [appendLine, appendLine] },
  { script: 'const_spawn.jl', file: 'spawned.txt', one: ['x'], two: ['x', 'x'] },
];

/** The directory's files and their contents. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

describe('side effects at load time are never re-run by save, proof or fallback', () => {
  /** Per script: plain julia's repr(main()), and its directory after one and after two runs. */
  const oracle: Record<string, { result: string; one: Record<string, string>; two: Record<string, string> }> = {};

  before(async () => {
    for (const { script } of cases) {
      const dir = tempDir(`effects-oracle-${script}`);
      const env = { JLC_EFFECTS_DIR: dir };
      const result = await plainJulia(join(effects, script), env);
      const one = snapshot(dir);
      await plainJulia(join(effects, script), env);
      oracle[script] = { result, one, two: snapshot(dir) };
    }
  });
  after(cleanupTemps);

  test('the oracle agrees with the scripts', () => {
    for (const c of cases) {
      const o = oracle[c.script];
      assert.deepEqual(Object.keys(o.one), [c.file], `${c.script} writes only ${c.file}`);
      assert.equal(o.one[c.file], c.one.map((l) => `${l}\n`).join(''), `${c.script}: one plain run`);
      assert.equal(o.two[c.file], c.two.map((l) => `${l}\n`).join(''), `${c.script}: two plain runs`);
    }
  });

  for (const path of ['session', 'worker'] as const) {
    const env = path === 'worker' ? { JLC_FORCE_WORKER: '1' } : {};
    for (const c of cases) {
      test(`${c.script}, captured by the ${path}: the save leaves one session's ${c.file}, the cached session adds one more`, async (t) => {
        const out = tempDir(`effects-${path}-${c.script}`);
        const cache = tempDir(`effects-cache-${path}-${c.script}`);
        const file = join(out, c.file);
        const runEnv = { ...env, JLC_EFFECTS_DIR: out };
        const o = oracle[c.script];

        // The CLI returns after main(), the save and the proof of the new entry.
        const saved = await cliRun(join(effects, c.script), cache, { save: true, env: runEnv }).catch((e: Error) => e);
        // The effects first: they are what this test is about, whatever the save reported.
        assert.deepEqual(linesOf(file), c.one, `${c.file} after the save session holds exactly one session's lines`);
        assert.deepEqual(snapshot(out), o.one, 'the output directory equals a plain julia run\'s');
        if (saved instanceof Error) throw saved;
        t.diagnostic(`save: ${brief(saved)}`);
        assert.equal(saved.result, o.result, 'main() returns what plain julia returns');
        assert.equal(saved.capture_path, path, `the save was captured by the ${path}: ${brief(saved)}`);
        assert.ok((saved.methods_saved ?? 0) > 0, `the save stored methods: ${brief(saved)}`);

        // A cached session runs the script again, as every session does: exactly one more session's worth.
        const cached = await cliRun(join(effects, c.script), cache, { env: runEnv });
        t.diagnostic(`cached: ${brief(cached)}`);
        assert.deepEqual(linesOf(file), c.two, `${c.file} after the cached session: one more session's lines, nothing else`);
        assert.deepEqual(snapshot(out), o.two, 'the output directory equals two plain julia runs\'');
        assert.equal(cached.cache, 'loaded', `the cached session loaded the entry: ${brief(cached)}`);
        assert.equal(cached.result, saved.result, 'the same value from the cache');
      });
    }
  }

  /** `(SEED, scaled(2), offset_label(1), T0, elapsed_since_start())` from repr text. */
  function parseRand(r: CliReport) {
    const m = /^\((\d+), (\d+), "(.*)", ([-+.\deE]+), ([-+.\deE]+)\)$/.exec(r.result);
    assert.ok(m, `const_rand.jl's main() returned ${r.result}`);
    return { seed: Number(m[1]), scaled2: Number(m[2]), label: m[3], t0: m[4], elapsed: m[5] };
  }

  /** The values main() returns all come from this session's constants. */
  function consistent(r: CliReport, what: string) {
    const v = parseRand(r);
    const at = `${what}: ${r.result} (${brief(r)})`;
    assert.equal(v.scaled2, 2 * v.seed, `scaled(2) == 2*SEED, ${at}`);
    assert.equal(v.label, `seed+1=${v.seed + 1}`, `offset_label(1) == "seed+1=$(SEED+1)", ${at}`);
    assert.equal(v.elapsed, v.t0, `elapsed_since_start() == T0, ${at}`);
    return v;
  }

  for (const path of ['session', 'worker'] as const) {
    const env = path === 'worker' ? { JLC_FORCE_WORKER: '1' } : {};
    const sessions = path === 'session' ? 3 : 1;
    test(`const_rand.jl, captured by the ${path}: ${sessions} cached session(s) each use their own SEED and T0`, async (t) => {
      const out = tempDir(`effects-rand-${path}`);
      const cache = tempDir(`effects-cache-rand-${path}`);
      const script = join(effects, 'const_rand.jl');
      const runEnv = { ...env, JLC_EFFECTS_DIR: out };

      const saved = await cliRun(script, cache, { save: true, env: runEnv });
      t.diagnostic(`save: ${brief(saved)}`);
      assert.equal(saved.capture_path, path, `the save was captured by the ${path}: ${brief(saved)}`);
      assert.ok((saved.methods_saved ?? 0) > 0, `the save stored methods: ${brief(saved)}`);
      const first = consistent(saved, 'the save session');

      const seen = [first];
      for (let i = 1; i <= sessions; i++) {
        const cached = await cliRun(script, cache, { env: runEnv });
        t.diagnostic(`cached #${i}: ${brief(cached)}`);
        assert.equal(cached.cache, 'loaded', `cached session #${i} loaded the entry: ${brief(cached)}`);
        assert.ok(cached.methods_loaded > 0, `cached session #${i} installed methods: ${brief(cached)}`);
        const v = consistent(cached, `cached session #${i}`);
        // time() differs in every process; a seed equal to another session's (1 in 10^6) would fail here spuriously.
        for (const old of seen) {
          assert.notEqual(v.t0, old.t0, `cached session #${i} returned an earlier session's T0: ${cached.result}`);
          assert.notEqual(v.seed, old.seed, `cached session #${i} returned an earlier session's SEED: ${cached.result}`);
        }
        seen.push(v);
      }
    });
  }
});
