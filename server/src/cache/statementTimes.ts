// What the cache saved, per evaluation (EvaluateResult.timing.coldMs / savedMs, "saved N ms" in the status bar).
// A save records each statement's first run in the saving session (agent sessionLog `firstRuns`: wall time and
// methods compiled, by statement hash) in a side file of the store's identity directory, HMAC-signed with the same
// per-user key as the entries. Only runs that compiled something are recorded, and a recorded time is never
// replaced, so the file keeps cold times, not times of sessions that already had the cache.
// A session with the cache loaded reports, for an evaluation whose statements all run for the first time in it and
// all have a recorded cold time: coldMs = the recorded times' sum, savedMs = coldMs - this run's time of the same
// statements, but only if this run compiled fewer methods than the cold one (the cache spared compilation). It is
// a comparison with another session's run on this machine, not a counterfactual of this one: documented as such.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvalTiming } from '../../../shared/src/protocol.ts';
import type { StatementRecord } from '../session/agentProtocol.ts';
import { canonicalJson, hmacEquals, hmacHex, loadOrCreateKey } from './hmacKey.ts';
import type { Store } from './store.ts';
import type { FirstRun } from '../session/agentProtocol.ts';

export type ColdTimes = Map<string, { ms: number; methodsCompiled: number }>;

const FILE = 'statement-times.json';
/** Keeps the file small: older statements beyond this are dropped first. */
const MAX_STATEMENTS = 5000;

const fileOf = (store: Store) => join(store.layout.identityDir, FILE);
const isRun = (v: any): v is { ms: number; methodsCompiled: number } =>
  v && Number.isFinite(v.ms) && v.ms >= 0 && Number.isInteger(v.methodsCompiled) && v.methodsCompiled >= 0;

/** The recorded cold times; empty when there are none or the file is damaged or not signed by this user. */
export async function readColdTimes(store: Store): Promise<ColdTimes> {
  const times: ColdTimes = new Map();
  try {
    const key = await loadOrCreateKey();
    if (!key.ok) return times;
    const doc = JSON.parse(await readFile(fileOf(store), 'utf8'));
    if (typeof doc?.hmac !== 'string' || !hmacEquals(doc.hmac, hmacHex(key.value, canonicalJson(doc.times ?? null)))) return times;
    for (const [hash, run] of Object.entries(doc.times ?? {})) {
      if (/^[0-9a-f]{40}$/.test(hash) && isRun(run)) times.set(hash, { ms: run.ms, methodsCompiled: run.methodsCompiled });
    }
  } catch {
    // missing or unreadable: nothing to report
  }
  return times;
}

/** Adds the statements whose first run compiled something; existing (colder) records are kept. Never throws. */
export async function recordColdTimes(store: Store, runs: FirstRun[]): Promise<void> {
  try {
    const key = await loadOrCreateKey();
    if (!key.ok) return;
    const times = await readColdTimes(store);
    for (const r of runs) {
      if (r.methodsCompiled > 0 && isRun(r) && !times.has(r.hash)) times.set(r.hash, { ms: r.ms, methodsCompiled: r.methodsCompiled });
    }
    const kept = Object.fromEntries([...times].slice(-MAX_STATEMENTS));
    const file = fileOf(store);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ times: kept, hmac: hmacHex(key.value, canonicalJson(kept)) }), { mode: 0o600 });
    await rename(tmp, file);
  } catch {
    // a display aid: failing to record never fails the save
  }
}

/** Fills coldMs/savedMs of evaluations in one session that runs with the cache loaded (see the top of this file). */
export class SavedTime {
  private readonly ran = new Set<string>();

  constructor(private readonly cold: ColdTimes) {}

  annotate(timing: EvalTiming, statements: StatementRecord[]): void {
    const firstHere = statements.every((s) => !this.ran.has(s.hash));
    for (const s of statements) this.ran.add(s.hash);
    if (!firstHere || statements.length === 0) return;
    let coldMs = 0;
    let coldMethods = 0;
    let ms = 0;
    let methods = 0;
    for (const s of statements) {
      const c = this.cold.get(s.hash);
      if (!c || s.ms === undefined || s.methodsCompiled === undefined) return;
      coldMs += c.ms;
      coldMethods += c.methodsCompiled;
      ms += s.ms;
      methods += s.methodsCompiled;
    }
    if (methods >= coldMethods) return;
    timing.coldMs = coldMs;
    timing.savedMs = Math.max(0, coldMs - ms);
  }
}
