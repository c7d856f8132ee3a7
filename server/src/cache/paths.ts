// The on-disk layout of a cache root and the checks that keep every path the store touches inside it.
//
//   <root>/.lock                                   cross-process lock (lock.ts)
//   <root>/v<format>/<identityKey>/entries/<id>/   object.o, plan.bin, meta.json, proof.json (once proven)
//   <root>/tmp/        entries being written (only while the lock is held; anything found there is debris)
//   <root>/trash/      entries being deleted (renamed here first so deletion looks atomic to readers)
//   <root>/quarantine/ damaged entries with a reason.txt, kept a while for inspection
import { lstat, mkdir, realpath } from 'node:fs/promises';
import * as path from 'node:path';
import { errnoCode } from './result.ts';

/** Bump when the entry layout or meta.json schema changes: older entries then read as stale. */
export const FORMAT_VERSION = 1;

export const ENTRY_ID = /^[a-z0-9-]{1,64}$/;
export const IDENTITY_KEY = /^[0-9a-f]{64}$/;
export const FORMAT_DIR = /^v([0-9]{1,6})$/;

export const OBJECT_FILE = 'object.o';
export const PLAN_FILE = 'plan.bin';
export const META_FILE = 'meta.json';
/** Written by prove.ts once the entry survived a throwaway Julia process (meta.ts ProofRecord). */
export const PROOF_FILE = 'proof.json';

export interface Layout {
  root: string;
  lockFile: string;
  formatDir: string;
  identityDir: string;
  entriesDir: string;
  tmpDir: string;
  trashDir: string;
  quarantineDir: string;
}

export function layoutOf(rootReal: string, identityKey: string): Layout {
  const formatDir = path.join(rootReal, `v${FORMAT_VERSION}`);
  const identityDir = path.join(formatDir, identityKey);
  return {
    root: rootReal,
    lockFile: path.join(rootReal, '.lock'),
    formatDir,
    identityDir,
    entriesDir: path.join(identityDir, 'entries'),
    tmpDir: path.join(rootReal, 'tmp'),
    trashDir: path.join(rootReal, 'trash'),
    quarantineDir: path.join(rootReal, 'quarantine'),
  };
}

export function isInside(child: string, root: string): boolean {
  const rel = path.relative(root, child);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** `<parent>/<name>` for a name read from disk or metadata, or null if the name could escape `parent`. */
export function childPath(parent: string, name: string, pattern: RegExp): string | null {
  if (!pattern.test(name)) return null;
  const p = path.join(parent, name);
  return path.dirname(p) === parent ? p : null;
}

/**
 * Creates (if needed) each directory from `root` down to `dir` and checks that none of them is a symlink or
 * a non-directory, so a planted link (e.g. in a cache cloned with a repository) cannot redirect writes
 * outside the root. Returns an error sentence or null.
 */
export async function ensureRealDir(root: string, dir: string): Promise<string | null> {
  if (dir !== root && !isInside(dir, root)) return `${dir} is outside the cache root ${root}`;
  const parts = path.relative(root, dir).split(path.sep).filter(Boolean);
  let cur = root;
  for (const part of parts) {
    cur = path.join(cur, part);
    try {
      await mkdir(cur, { mode: 0o700 });
    } catch (e) {
      if (errnoCode(e) !== 'EEXIST') throw e;
    }
    const st = await lstat(cur);
    if (st.isSymbolicLink()) return `${cur} is a symbolic link; the cache refuses to follow it`;
    if (!st.isDirectory()) return `${cur} is not a directory`;
  }
  if ((await realpath(dir)) !== dir) return `${dir} resolves outside the cache root`;
  return null;
}
