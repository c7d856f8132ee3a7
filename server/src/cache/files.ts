// Low-level file operations the store is built on. Reads never follow symbolic links (O_NOFOLLOW) and never
// block on a planted FIFO (O_NONBLOCK); writes only ever create new files (O_EXCL, which also refuses to
// follow a symlink at the target) and are flushed to disk before they are renamed into place.
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { link, lstat, open, readdir, rename, rm, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import { errnoCode } from './result.ts';
import { pauseAt } from './testPause.ts';

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export type ReadOutcome = { ok: true; data: Buffer } | { ok: false; why: 'missing' | 'not-a-file' | 'too-large' };

/** Reads a regular file (not a symlink, FIFO or device) of at most `maxBytes`. Other errors throw. */
export async function readRegularFile(file: string, maxBytes: number): Promise<ReadOutcome> {
  let fh;
  try {
    fh = await open(file, READ_FLAGS);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT') return { ok: false, why: 'missing' };
    if (code === 'ELOOP' || code === 'ENXIO' || code === 'EISDIR') return { ok: false, why: 'not-a-file' };
    throw e;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return { ok: false, why: 'not-a-file' };
    if (st.size > maxBytes) return { ok: false, why: 'too-large' };
    const data = Buffer.alloc(st.size);
    let done = 0;
    while (done < st.size) {
      const { bytesRead } = await fh.read(data, done, st.size - done, done);
      if (bytesRead === 0) break; // shrank while we read: the caller's size/checksum check reports it
      done += bytesRead;
    }
    return { ok: true, data: done === st.size ? data : data.subarray(0, done) };
  } finally {
    await fh.close();
  }
}

/** Creates `file` (which must not exist), writes `data`, and fsyncs it. */
export async function writeNewFile(file: string, data: Buffer | string, mode = 0o600): Promise<void> {
  const fh = await open(file, CREATE_FLAGS, mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Creates `file` with `data` (mode 0600) only if it does not exist: written completely under a temp name, then
 * linked into place, so no reader sees it half-written; if another process won the race, theirs is kept.
 */
export async function publishNewFile(file: string, data: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeNewFile(tmp, data, 0o600);
  try {
    await link(tmp, file);
  } catch (e) {
    if (errnoCode(e) !== 'EEXIST') throw e;
  } finally {
    await unlink(tmp);
  }
}

/** Flushes a directory's entries (a rename is durable only once its directory is synced). */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Names in `dir`, or [] when it does not exist. */
export async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return [];
    throw e;
  }
}

/** Total bytes of the regular files under `p`, without following symlinks. */
export async function treeBytes(p: string): Promise<number> {
  let st;
  try {
    st = await lstat(p);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return 0;
    throw e;
  }
  if (st.isFile()) return st.size;
  if (!st.isDirectory()) return 0;
  let total = 0;
  for (const name of await listDir(p)) total += await treeBytes(path.join(p, name));
  return total;
}

/**
 * Removes `victim` by first renaming it into `trashDir` (atomic: readers see the whole entry or nothing,
 * never a half-deleted one), then deleting it there. Returns false when it was already gone.
 */
export async function removeViaTrash(victim: string, trashDir: string): Promise<boolean> {
  const parked = path.join(trashDir, `${path.basename(victim)}-${process.pid}-${Date.now().toString(36)}`);
  try {
    await rename(victim, parked);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return false;
    throw e;
  }
  pauseAt('victim-parked');
  await rm(parked, { recursive: true, force: true });
  return true;
}
