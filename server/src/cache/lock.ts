// A cross-process pidfile lock around every write to the cache (new entries, lastUsedAt, eviction, clear).
// Readers never take it: they only ever see whole entries because entries appear and disappear by rename.
//
// The lock file holds {pid, start, host, token}; it is created complete (written to a private temp file,
// then hard-linked into place, which fails if it exists). A lock whose owner is dead is broken. "Dead" means
// the pid no longer exists or now belongs to a different process (its start time in /proc differs), so a
// recycled pid does not keep a stale lock alive. Breaking happens under a second, short-lived guard file so
// two processes cannot both break the same stale lock and then both believe they hold the new one.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { writeNewFile } from './files.ts';
import { errnoCode, fail, ok, type Result } from './result.ts';
import { pauseAt, type PausePoint } from './testPause.ts';

interface Owner {
  pid: number;
  start: string | null;
  host: string;
  token: string;
  since: string;
}

export interface LockOptions {
  /** How long to wait for another process's lock before giving up (ms). */
  timeoutMs?: number;
}

const POLL_MS = 15;

/** Runs `fn` while holding the lock at `lockFile`. */
export async function withLock<T>(lockFile: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<Result<T>> {
  const token = randomBytes(12).toString('hex');
  const got = await acquire(lockFile, token, opts.timeoutMs ?? 15_000);
  if (!got.ok) return got;
  try {
    return ok(await fn());
  } finally {
    await release(lockFile, token);
  }
}

async function acquire(lockFile: string, token: string, timeoutMs: number): Promise<Result<void>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await createComplete(lockFile, token, 'lock-staged')) return ok(undefined);
    const owner = await readOwner(lockFile);
    if (owner === 'missing') continue; // released between our attempt and the read
    if (owner === 'unreadable' || !isAlive(owner)) {
      await breakStale(lockFile, owner === 'unreadable' ? null : owner.token);
      continue;
    }
    if (Date.now() >= deadline) {
      const where = owner.host === hostname() ? '' : ` on host ${owner.host}`;
      return fail(`the cache is busy: locked by process ${owner.pid}${where} since ${owner.since} (lock file ${lockFile})`);
    }
    await sleep(POLL_MS + Math.random() * POLL_MS);
  }
}

/** Creates `file` with this process's owner record, atomically with its content. False if it exists. */
async function createComplete(file: string, token: string, staged?: PausePoint): Promise<boolean> {
  const owner: Owner = { pid: process.pid, start: startTime(process.pid), host: hostname(), token, since: new Date().toISOString() };
  const tmp = `${file}.${token}.tmp`;
  await writeNewFile(tmp, JSON.stringify(owner));
  if (staged) pauseAt(staged);
  try {
    await link(tmp, file);
    return true;
  } catch (e) {
    if (errnoCode(e) === 'EEXIST') return false;
    throw e;
  } finally {
    await unlink(tmp);
  }
}

async function readOwner(file: string): Promise<Owner | 'missing' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return 'missing';
    throw e;
  }
  try {
    const o = JSON.parse(text) as Owner;
    if (Number.isSafeInteger(o.pid) && o.pid > 0 && typeof o.token === 'string' && typeof o.host === 'string') return o;
  } catch {
    // fall through: a lock file we cannot read was not written by this code and protects nothing
  }
  return 'unreadable';
}

/** Removes the lock at `file` if it is still the stale one we saw (token), under the break guard. */
async function breakStale(file: string, staleToken: string | null): Promise<void> {
  const guard = `${file}.break`;
  const myToken = randomBytes(12).toString('hex');
  while (!(await createComplete(guard, myToken))) {
    const holder = await readOwner(guard);
    if (holder === 'missing') continue;
    if (holder === 'unreadable' || !isAlive(holder)) await unlinkIfExists(guard);
    else await sleep(POLL_MS);
  }
  pauseAt('stale-lock-guarded');
  try {
    const now = await readOwner(file);
    const sameStaleLock = now === 'unreadable' ? staleToken === null : now !== 'missing' && now.token === staleToken;
    if (sameStaleLock) await unlinkIfExists(file);
  } finally {
    await unlinkIfExists(guard);
  }
}

async function release(file: string, token: string): Promise<void> {
  const owner = await readOwner(file);
  if (typeof owner === 'object' && owner.token === token) await unlinkIfExists(file);
}

function isAlive(o: Owner): boolean {
  if (o.host !== hostname()) return true; // cannot see another machine's processes: never break its lock
  try {
    process.kill(o.pid, 0);
  } catch (e) {
    if (errnoCode(e) === 'ESRCH') return false;
  }
  const start = startTime(o.pid);
  return o.start === null || start === null || start === o.start;
}

/** The process start time (clock ticks since boot, field 22 of /proc/<pid>/stat): identifies a pid's owner. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

async function unlinkIfExists(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
