// Damaged entries are moved out of the way (not deleted) with a reason.txt, so the problem is reported once,
// the entry's methods count as uncached and get recompiled at the next save, and someone can still look at
// what went wrong. Only the newest few are kept.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { listDir, writeNewFile } from './files.ts';
import { errnoCode } from './result.ts';

const KEEP = 10;

/** Moves `dir` to `<quarantineDir>/<time>-<label>-<rand>/entry`. False if it was already gone. */
export async function quarantineEntry(quarantineDir: string, dir: string, label: string, reason: string): Promise<boolean> {
  const safe = label.replace(/[^a-z0-9-]/g, '_').slice(0, 64);
  const holder = path.join(quarantineDir, `${Date.now().toString(36).padStart(10, '0')}-${safe}-${randomBytes(3).toString('hex')}`);
  await mkdir(holder, { mode: 0o700 });
  // The reason sits beside the moved entry, never inside it: the entry might be a symlink to elsewhere.
  await writeNewFile(path.join(holder, 'reason.txt'), `${new Date().toISOString()} ${dir}\n${reason}\n`);
  try {
    await rename(dir, path.join(holder, 'entry'));
    return true;
  } catch (e) {
    await rm(holder, { recursive: true, force: true });
    if (errnoCode(e) === 'ENOENT') return false;
    throw e;
  }
}

/** Deletes all but the newest KEEP quarantined entries. */
export async function pruneQuarantine(quarantineDir: string): Promise<void> {
  const names = (await listDir(quarantineDir)).sort();
  for (const name of names.slice(0, Math.max(0, names.length - KEEP))) {
    await rm(path.join(quarantineDir, name), { recursive: true, force: true });
  }
}
