// The requirements the workspace's current sources can satisfy: `stmt:<hash>` of every top-level statement of its
// Julia files, hashed as the agent hashes a statement it evaluates (codeLens/scanner.ts). A pull at session start
// skips entries none of whose methods these could satisfy (their code was edited since, or is not in this
// workspace); the loader still checks every requirement before it installs anything. Bounded like auto-start's scan.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { MethodRecord } from '../cache/meta.ts';
import { splitTopLevel, statementHash } from '../codeLens/scanner.ts';

const SKIP = new Set(['node_modules', '.git', '.jlcache', 'dist']);
const MAX_FILES = 2000;
const MAX_FILE_BYTES = 2 << 20;
const MAX_DEPTH = 8;

export async function workspaceStatements(root: string): Promise<Set<string>> {
  const out = new Set<string>();
  let files = 0;
  const walk = async (dir: string, depth: number): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isFile() && e.name.endsWith('.jl') && ++files <= MAX_FILES) await addFile(p, out);
      else if (e.isDirectory() && depth < MAX_DEPTH && !e.name.startsWith('.') && !SKIP.has(e.name)) await walk(p, depth + 1);
    }
  };
  await walk(root, 0);
  return out;
}

async function addFile(file: string, out: Set<string>): Promise<void> {
  try {
    if ((await stat(file)).size > MAX_FILE_BYTES) return;
    const text = await readFile(file, 'utf8');
    for (const st of splitTopLevel(text)) out.add(`stmt:${statementHash(text.slice(st.start, st.end))}`);
  } catch {
    // unreadable: it satisfies nothing
  }
}

/** Whether some method of an entry has every statement it requires in `sources` (other requirements are checked at install). */
export function usableWith(methods: MethodRecord[], sources: ReadonlySet<string>): boolean {
  return methods.some((m) => m.requires.every((r) => !r.startsWith('stmt:') || sources.has(r)));
}
