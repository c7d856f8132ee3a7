// The agent's capture code, cached by the product itself. Without it the first save of every session spends
// seconds compiling the capture code (requirements, slot descriptions, LLVM glue) before any of the user's work.
// The roots the agent compiled for itself during a save (the capture reply's `agentCompiled`) are captured once per
// agent version and Julia identity into a store of their own in the user's cache directory; later saves load that
// entry before capturing. It goes through the same verification and proof as any entry (loadFlow.ts), and has no
// requirements: the store's directory is keyed by a digest of every file under server/julia. If anything about
// it fails, the save compiles the capture code as before and says why on stderr (the server's log).
import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { defaultDigestCacheDir } from '../cache/digestCache.ts';
import { loadCache } from '../cache/loadFlow.ts';
import { ensureProven } from '../cache/prove.ts';
import { openSessionStore } from '../cache/sessionStore.ts';
import type { Store } from '../cache/store.ts';
import { storeCapture } from '../cache/storeCapture.ts';
import type { JuliaSession } from '../session/juliaSession.ts';
import { repoRoot } from '../util/repoRoot.ts';
import { runCapture } from './runCapture.ts';

const AGENT_CODE_MB = 64;
/** Sessions (by agent pid) whose capture code is already installed. */
const loadedIn = new WeakMap<JuliaSession, number>();
let digest: Promise<string> | undefined;

/** The agent-code store of this session (opened, and its entry installed once per session), or undefined. */
export async function loadAgentCode(session: JuliaSession): Promise<Store | undefined> {
  try {
    const root = join(agentCodeRoot(), await agentDigest());
    const opened = await openSessionStore(session, { cacheDir: root, maxCacheMB: AGENT_CODE_MB });
    if (!opened.ok) throw new Error(opened.error);
    const pid = session.agentInfo?.pid;
    if (pid !== undefined && loadedIn.get(session) !== pid) {
      const outcome = await loadCache(session, opened.value);
      if (outcome.status.state === 'loaded') loadedIn.set(session, pid);
      else if (outcome.problems.length) warn(outcome.problems[0]);
    }
    return opened.value;
  } catch (e) {
    warn((e as Error).message);
    return undefined;
  }
}

/** After a save in the session: captures the agent's own roots into its store, if that store has no entry yet. */
export async function cacheAgentCode(session: JuliaSession, store: Store | undefined, roots: string[], julia: string): Promise<void> {
  const info = session.agentInfo;
  if (!store || !info || roots.length === 0) return;
  try {
    const listed = await store.listEntries();
    if (!listed.ok || listed.value.some((e) => e.state === 'valid')) return;
    const none = { project: null, loadPath: [], definitions: [] };
    const capture = await runCapture(session, roots, none, { julia, sysimage: info.identity.sysimage });
    try {
      if (capture.path !== 'session' || capture.record.entries.length === 0) return;
      await storeCapture(capture, store, info, { julia });
    } finally {
      await capture.dispose();
    }
    await removeOtherVersions();
    void ensureProven(store, 'all', { session }); // proven in the background, before any session installs it
  } catch (e) {
    warn((e as Error).message);
  }
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

async function removeOtherVersions(): Promise<void> {
  const keep = await agentDigest();
  for (const name of await readdir(agentCodeRoot())) {
    if (name !== keep) await rm(join(agentCodeRoot(), name), { recursive: true, force: true });
  }
}

function warn(message: string): void {
  process.stderr.write(`agent-code cache: ${message}\n`);
}
