// The agent's capture code, cached by the product itself. Without it the first save of every session spends
// seconds compiling the capture code (requirements, slot descriptions, LLVM glue) before any of the user's work.
// Once per agent version and Julia identity, a throwaway session of our own (never the user's) runs
// server/julia/capture/agent_code_driver.jl, captures it, and the roots the capture code compiled for itself (the
// reply's `agentCompiled`) are captured into a store of their own in the user's cache directory. Every later save
// installs that entry before capturing. It goes through the same verification and proof as any entry
// (loadFlow.ts) and has no requirements: the store's directory is keyed by a digest of every file under
// server/julia. If anything about it fails, saves compile the capture code as before; the server's log says why.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { defaultDigestCacheDir } from '../cache/digestCache.ts';
import { loadCache } from '../cache/loadFlow.ts';
import { ensureProven } from '../cache/prove.ts';
import { openSessionStore } from '../cache/sessionStore.ts';
import type { Store } from '../cache/store.ts';
import { storeCapture } from '../cache/storeCapture.ts';
import type { CaptureReply } from '../session/agentProtocol.ts';
import type { JuliaSession } from '../session/juliaSession.ts';
import { repoRoot } from '../util/repoRoot.ts';
import { runCapture } from './runCapture.ts';

const AGENT_CODE_MB = 64;
/** Versions of the agent code kept side by side (other checkouts or extension versions may use the older ones). */
const VERSIONS_KEPT = 3;
const NO_REPLAY = { project: null, loadPath: [], definitions: [] };
/** Sessions (by agent pid) whose capture code is already installed. */
const loadedIn = new WeakMap<JuliaSession, number>();
let digest: Promise<string> | undefined;
let building: Promise<void> | undefined;

/** Before a capture: installs the agent code in `session` (once per process). Never throws. */
export async function loadAgentCode(session: JuliaSession): Promise<void> {
  const pid = session.agentInfo?.pid;
  if (pid === undefined || loadedIn.get(session) === pid) return;
  try {
    const outcome = await loadCache(session, await agentCodeStore(session));
    if (outcome.status.state === 'loaded') loadedIn.set(session, pid);
    else if (outcome.problems.length) log(outcome.problems[0]);
  } catch (e) {
    log((e as Error).message);
  }
}

/**
 * After a save: builds the agent code for `session`'s Julia in a sibling session if its store has none yet (one
 * build at a time; nothing to do when `session` installed it). The user's session is not involved. Never throws.
 */
export function ensureAgentCode(session: JuliaSession): Promise<void> {
  // Installed in this session: the store has it, and a sibling session would only start to find that out.
  const pid = session.agentInfo?.pid;
  if (pid !== undefined && loadedIn.get(session) === pid) return Promise.resolve();
  building ??= build(session.sibling()).finally(() => (building = undefined));
  return building;
}

async function build(session: JuliaSession): Promise<void> {
  try {
    await session.start();
    const store = await agentCodeStore(session);
    const listed = await store.listEntries();
    if (!listed.ok || listed.value.some((e) => e.state === 'valid')) return;
    const t0 = performance.now();
    const probe = await emptyCapture(session);
    if ('refused' in probe) return log(`not built: the session does not capture in process (${probe.refused})`);
    const roots = [...new Set([...(probe.agentCompiled ?? []), ...(await driverRoots(session))])];
    const capture = await runCapture(session, roots, NO_REPLAY);
    try {
      if (capture.path !== 'session' || capture.record.entries.length === 0) return;
      const stored = await storeCapture(capture, store, session);
      log(`cached ${capture.record.entries.length} methods of the capture code (${Math.round(stored.bytes / 1024)} KB) in ${Math.round(performance.now() - t0)} ms`);
    } finally {
      await capture.dispose();
    }
    await ensureProven(store, 'all', { session });
    await removeOldVersions();
  } catch (e) {
    log(`not built: ${(e as Error).message}`);
  } finally {
    await session.stop();
  }
}

/**
 * A capture of nothing: refused where the session cannot capture in process (threads, coverage, another build...),
 * before the driver or the worker runs; otherwise its `agentCompiled` holds the capture code's own first compilations.
 */
async function emptyCapture(session: JuliaSession): Promise<CaptureReply> {
  const dir = await mkdtemp(join(tmpdir(), 'jlcache-agent-code-'));
  try {
    return await session.request('capture', { outDir: dir, signatures: [] });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs the driver and captures it; returns the roots the capture code compiled for itself. */
async function driverRoots(session: JuliaSession): Promise<string[]> {
  const file = join(repoRoot(), 'server', 'julia', 'capture', 'agent_code_driver.jl');
  const ran = await session.evaluate({ code: await readFile(file, 'utf8'), file, line: 1 });
  if (!ran.ok) throw new Error(`the driver failed: ${ran.error?.message}`);
  const sessionLog = await session.request('sessionLog', {});
  const signatures = [...new Set(sessionLog.compiled.map((c) => c.sig))];
  const capture = await runCapture(session, signatures, NO_REPLAY);
  await capture.dispose();
  return capture.record.agentCompiled ?? [];
}

async function agentCodeStore(session: JuliaSession): Promise<Store> {
  const root = join(agentCodeRoot(), await agentDigest());
  const opened = await openSessionStore(session, { cacheDir: root, maxCacheMB: AGENT_CODE_MB });
  if (!opened.ok) throw new Error(opened.error);
  return opened.value;
}

function agentCodeRoot(): string {
  return join(defaultDigestCacheDir(), 'agent-code');
}

/** sha256 over the relative paths and contents of every file under server/julia: any edit makes a new store. */
function agentDigest(): Promise<string> {
  digest ??= (async () => {
    const dir = join(repoRoot(), 'server', 'julia');
    const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((d) => d.isFile())
      .map((d) => join(d.parentPath ?? d.path, d.name))
      .sort();
    const h = createHash('sha256');
    for (const f of files) h.update(relative(dir, f)).update('\0').update(await readFile(f)).update('\0');
    return h.digest('hex').slice(0, 16);
  })();
  return digest;
}

/** Keeps this version and the most recently written others, up to VERSIONS_KEPT. */
async function removeOldVersions(): Promise<void> {
  const root = agentCodeRoot();
  const current = await agentDigest();
  const names = (await readdir(root)).filter((n) => n !== current);
  const others = await Promise.all(names.map(async (name) => ({ name, at: (await stat(join(root, name))).mtimeMs })));
  others.sort((a, b) => b.at - a.at);
  for (const { name } of others.slice(VERSIONS_KEPT - 1)) await rm(join(root, name), { recursive: true, force: true });
}

function log(message: string): void {
  process.stderr.write(`agent-code cache: ${message}\n`);
}
