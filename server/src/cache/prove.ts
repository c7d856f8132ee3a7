// Prove before install: an entry's native code is linked, its slots filled and its methods installed in a
// throwaway Julia process (server/julia/loader/prove.jl: same binary, options and system image as the session)
// before any user session installs it. If that process crashes, is killed by a signal, exits with an error or
// hangs, the entry is quarantined with the reason and never reaches the session. If it succeeds, a signed proof
// marker bound to the entry's bytes and identity (meta.ts ProofRecord) is stored, so each entry is proven once.
//
// How much is proven: the link (every relocation resolved and applied), the slot fill and the install of every method
// without requirements, then a full GC. Methods that need the user's definitions stay linked but not installed: the
// proving process runs none of the user's code (no statement, constant or `__init__`), so they are checked when the
// session installs them. The marker records that scope. No cached method is called.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JuliaLaunch } from '../session/juliaLaunch.ts';
import type { JuliaSession } from '../session/juliaSession.ts';
import { loadExeca } from '../util/execa.ts';
import { repoRoot } from '../util/repoRoot.ts';
import type { ProofRecord } from './meta.ts';
import type { EntryListing, Store, VerifiedEntry } from './store.ts';

export interface ProveOptions {
  /** The running session whose Julia binary, command-line options and system image the proof copies. */
  session: JuliaSession;
  /** A proving process that runs longer is killed and the entry quarantined (default 60 s). */
  timeoutMs?: number;
}

export interface ProofRun {
  id: string;
  /** unreadable: the store refused the entry (damaged: quarantined; reason says so); unproven: no verdict. */
  outcome: 'proven' | 'quarantined' | 'unreadable' | 'unproven';
  /** Wall time of the proving process. */
  ms: number;
  reason?: string;
  scope?: ProofRecord['scope'];
}

export interface ProofOutcome {
  /** The given entries that may be installed: proven before, or just now. */
  usable: EntryListing[];
  /** One sentence per entry that may not be installed. */
  problems: string[];
  runs: ProofRun[];
}

const DEFAULT_TIMEOUT_MS = 60_000;
/** One proving process per entry at a time, also when a save's background proof and a session start overlap. */
const inFlight = new Map<string, Promise<ProofRun>>();

/**
 * Proves every unproven valid entry of `entries` ('all': every valid entry of the store) and returns those that
 * may be installed. Never throws: a failure to prove leaves the entry out with a reason.
 */
export async function ensureProven(store: Store, entries: EntryListing[] | 'all', opts: ProveOptions): Promise<ProofOutcome> {
  const out: ProofOutcome = { usable: [], problems: [], runs: [] };
  let list = entries;
  if (list === 'all') {
    const listed = await store.listEntries();
    if (!listed.ok) return { ...out, problems: [listed.error] };
    list = listed.value;
  }
  for (const e of list.filter((x) => x.state === 'valid')) {
    if (e.proven) {
      out.usable.push(e);
      continue;
    }
    const key = join(store.layout.entriesDir, e.id);
    const other = inFlight.get(key);
    // Another caller's run that could not prove (e.g. its session went away) is no verdict: prove it ourselves.
    let r = other ? await other : undefined;
    if (!r || r.outcome === 'unproven') r = await startRun(key, store, e.id, opts);
    out.runs.push(r);
    if (r.outcome === 'proven') out.usable.push({ ...e, proven: true });
    else if (r.outcome === 'quarantined') out.problems.push(`cache entry ${e.id} failed its proof in a throwaway Julia process and has been quarantined: ${r.reason}`);
    else if (r.outcome === 'unreadable') out.problems.push(r.reason ?? `cache entry ${e.id} cannot be read`);
    else out.problems.push(`cache entry ${e.id} is not installed: it could not be proven (${r.reason})`);
  }
  return out;
}

/**
 * Proves the entry a save just wrote (only that one: others are proven when a session loads them).
 */
export async function proveSavedEntry(store: Store, id: string, opts: ProveOptions): Promise<ProofOutcome> {
  const listed = await store.listEntries();
  if (!listed.ok) return { usable: [], problems: [listed.error], runs: [] };
  return ensureProven(store, listed.value.filter((e) => e.id === id), opts);
}

function startRun(key: string, store: Store, id: string, opts: ProveOptions): Promise<ProofRun> {
  const run = proveOne(store, id, opts).catch((err): ProofRun => ({ id, outcome: 'unproven', ms: 0, reason: String(err?.message ?? err) }));
  inFlight.set(key, run);
  void run.finally(() => inFlight.get(key) === run && inFlight.delete(key));
  return run;
}

async function proveOne(store: Store, id: string, opts: ProveOptions): Promise<ProofRun> {
  const read = await store.readEntry(id);
  if (!read.ok) return { id, outcome: 'unreadable', ms: 0, reason: read.error };
  if (!opts.session.agentInfo) return { id, outcome: 'unproven', ms: 0, reason: 'the Julia session is not running' };
  const launch = opts.session.launch;
  const dir = await mkdtemp(join(tmpdir(), 'jlcache-prove-'));
  try {
    const t0 = performance.now();
    const verdict = await runProver(dir, read.value, launch, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const ms = performance.now() - t0;
    if (verdict.kind === 'spawn') return { id, outcome: 'unproven', ms, reason: verdict.reason };
    if (verdict.kind === 'failed') {
      const q = await store.quarantine(id, `failed its proof: ${verdict.reason}`);
      return q.ok ? { id, outcome: 'quarantined', ms, reason: verdict.reason } : { id, outcome: 'unproven', ms, reason: `${verdict.reason}; ${q.error}` };
    }
    const recorded = await store.recordProof(read.value, { provenAt: new Date().toISOString(), ms: Math.round(ms), scope: verdict.scope });
    return recorded.ok ? { id, outcome: 'proven', ms, scope: verdict.scope } : { id, outcome: 'unproven', ms, reason: recorded.error };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

type Verdict =
  | { kind: 'proven'; scope: ProofRecord['scope'] }
  | { kind: 'failed'; reason: string }
  | { kind: 'spawn'; reason: string };

const STAGES: Record<string, string> = {
  link: 'linking it and installing its methods',
  gc: 'collecting garbage after installing it',
};

async function runProver(dir: string, entry: VerifiedEntry, launch: JuliaLaunch, timeoutMs: number): Promise<Verdict> {
  // The prover links private copies of the verified bytes; its loader checks their sha256 again, as the session's does.
  const object = join(dir, 'object.o');
  const plan = join(dir, 'plan.bin');
  const report = join(dir, 'report.txt');
  await writeFile(object, entry.object, { mode: 0o600 });
  await writeFile(plan, entry.plan, { mode: 0o600 });
  const { object: o, plan: p } = entry.meta.files;
  const { execa } = await loadExeca();
  const script = join(repoRoot(), 'server', 'julia', 'loader', 'prove.jl');
  const r = await execa(launch.exe, [...launch.options, script, object, o.sha256, plan, p.sha256, entry.id, report], {
    env: launch.env, extendEnv: false, cwd: dir, reject: false, timeout: timeoutMs, killSignal: 'SIGKILL', stdin: 'ignore', all: true, maxBuffer: 1 << 20,
  });
  const lines = (await readFile(report, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((l) => l.split('\t'));
  const last = (tag: string) => [...lines].reverse().find((l) => l[0] === tag);
  const stage = STAGES[last('stage')?.[1] ?? ''];
  const tail = String(r.all ?? '').trim().split('\n').filter((l) => l.trim()).slice(-1)[0]?.trim().slice(0, 300);
  const during = stage ? ` while ${stage}` : '';
  const limit = timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`;
  if (r.timedOut) return { kind: 'failed', reason: `the proving process did not finish within ${limit}${during}` };
  if (r.signal) return { kind: 'failed', reason: `the proving process was killed by ${r.signal}${during}${tail ? ` (${tail})` : ''}` };
  if (r.exitCode === undefined) return { kind: 'spawn', reason: `cannot start ${launch.exe}: ${r.shortMessage ?? 'unknown error'}` };
  const rejected = last('rejected');
  if (rejected) return { kind: 'failed', reason: `the loader rejected it: ${rejected[1]}` };
  const done = last('done');
  if (r.exitCode !== 0 || !done) {
    return { kind: 'failed', reason: `the proving process exited with code ${r.exitCode}${during}${tail ? ` (${tail})` : ''}` };
  }
  const [installed, present, pending, failed] = done.slice(1, 5).map(Number);
  return { kind: 'proven', scope: { installed, present, pending, failed } };
}
