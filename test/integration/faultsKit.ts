// Shared by the fault tests (faults*.test.ts): the headless CLI as a real child process, and tools to damage,
// forge and copy cache entries on disk the way a disk, a bug or another user would.
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { loadOrCreateKey } from '../../server/src/cache/hmacKey.ts';
import { withKey } from '../../server/src/cache/identity.ts';
import { signMeta, type EntryMeta } from '../../server/src/cache/meta.ts';
import { repo, run as runChild, workloads, type Exit } from '../helpers/cliRun.ts';

export { repo, workloads };
export const fixtures = join(repo, 'test', 'fixtures', 'faults');

/** A private signing key for everything these tests start: the user's real key is never touched. */
export const keyDir = mkdtempSync(join(tmpdir(), 'jlcache-faults-key-'));
export const env = { ...process.env, JLCACHE_KEY_DIR: keyDir };

export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `jlcache-faults-${label}-`));
}

export type { Exit };

/** Runs a command to its end, with these tests' environment unless told otherwise. */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<Exit> {
  return runChild(cmd, args, opts.env ?? env);
}

/** What `cli run FILE --json` reports (server/src/cli/runCommand.ts). */
export interface RunReport {
  result: string;
  cache: string;
  load_ms: number;
  first_ms: number;
  methods_loaded: number;
  methods_compiled: number;
  methods_saved?: number;
}

/** `cli run FILE --cache DIR [--save] --json` in a fresh process (the CLI from sources, as the tests build nothing). */
export async function cliRun(file: string, cacheDir: string, opts: { save?: boolean } = {}): Promise<RunReport> {
  const args = ['--import', 'tsx', join(repo, 'server', 'src', 'cli.ts'), 'run', file, '--cache', cacheDir, '--json'];
  if (opts.save) args.push('--save');
  const r = await run(process.execPath, args);
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.code !== 0 || !line.startsWith('{')) throw new Error(`cli run ${file} failed (exit ${r.code ?? r.signal}):\n${r.stderr.slice(-2000)}`);
  return JSON.parse(line) as RunReport;
}

/** Every entry directory under a cache root (any format, any identity). */
export function entryDirs(root: string): string[] {
  const out: string[] = [];
  for (const v of safeList(root).filter((n) => /^v\d+$/.test(n))) {
    for (const key of safeList(join(root, v))) {
      for (const id of safeList(join(root, v, key, 'entries'))) out.push(join(root, v, key, 'entries', id));
    }
  }
  return out;
}

/** Files under `dir` (recursively), relative to it. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)));
}

/** A new cache root holding a copy of one entry, at the same place; returns the root and the copy's directory. */
export function cacheWith(entryDir: string): { root: string; entry: string } {
  const root = tempDir('cache');
  const rel = join(...entryDir.split('/').slice(-4));
  const entry = join(root, rel);
  mkdirSync(dirname(entry), { recursive: true });
  cpSync(entryDir, entry, { recursive: true });
  return { root, entry };
}

/** Rewrites an entry's meta.json with `change` applied and signs it with `signer` (default: this user's key). */
export async function forgeMeta(entry: string, change: (meta: EntryMeta) => void, signer = keyDir): Promise<string> {
  const { hmac: _old, ...unsigned } = JSON.parse(readFileSync(join(entry, 'meta.json'), 'utf8')) as EntryMeta;
  change(unsigned as EntryMeta);
  const { key: _stale, ...fields } = unsigned.identity;
  unsigned.identity = withKey(fields);
  const key = await loadOrCreateKey(signer);
  if (!key.ok) throw new Error(key.error);
  const signed = signMeta({ ...unsigned, keyId: key.value.id }, key.value);
  writeFileSync(join(entry, 'meta.json'), JSON.stringify(signed, null, 1));
  // An entry lives under the directory of its identity key.
  const parts = entry.split('/');
  if (parts.at(-3) === signed.identity.key) return entry;
  const moved = join(...['/', ...parts.slice(0, -3)], signed.identity.key, 'entries', parts.at(-1)!);
  mkdirSync(dirname(moved), { recursive: true });
  renameSync(entry, moved);
  return moved;
}

/** The sha256 of a file, as meta.json records it. */
export function sha256Of(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Byte offset of the first relocation record (Elf64_Rela: r_offset u64, r_info u64, r_addend i64) of an object. */
export function firstRelocation(obj: Buffer): number {
  const shoff = Number(obj.readBigUInt64LE(0x28));
  const shentsize = obj.readUInt16LE(0x3a);
  for (let i = 0; i < obj.readUInt16LE(0x3c); i++) {
    const sh = shoff + i * shentsize;
    const SHT_RELA = 4;
    if (obj.readUInt32LE(sh + 4) === SHT_RELA && obj.readBigUInt64LE(sh + 0x20) > 0n) return Number(obj.readBigUInt64LE(sh + 0x18));
  }
  throw new Error('the object has no relocations');
}


/** Copies an entry into `root` (same identity) under a new id, re-signed by this user: a second, distinct entry. */
export async function cloneEntry(entryDir: string, root: string, id: string): Promise<string> {
  const target = join(root, ...entryDir.split('/').slice(-4, -1), id);
  mkdirSync(dirname(target), { recursive: true });
  cpSync(entryDir, target, { recursive: true });
  return forgeMeta(target, (m) => void (m.id = id));
}

/** Live processes below `pid` (children, grandchildren, ...), with their command lines, from /proc. */
export function descendants(pid: number): { pid: number; cmdline: string }[] {
  const parent = new Map<number, number>();
  const cmd = new Map<number, string>();
  for (const name of safeList('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z') continue;
      parent.set(Number(name), Number(ppid));
      cmd.set(Number(name), readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' '));
    } catch {
      // the process ended while we looked
    }
  }
  const below = (p: number): boolean => {
    for (let q = parent.get(p); q !== undefined && q > 1; q = parent.get(q)) if (q === pid) return true;
    return false;
  };
  return [...parent.keys()].filter(below).map((p) => ({ pid: p, cmdline: cmd.get(p) ?? '' }));
}
