// Whether a workspace holds Julia code (for auto-start). Bounded: a huge tree must not stall initialization.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

const SKIP = new Set(['node_modules', '.git', '.jlcache', 'dist']);

export async function containsJuliaFile(root: string, maxDepth = 4, maxEntries = 5000): Promise<boolean> {
  let budget = maxEntries;
  const walk = async (dir: string, depth: number): Promise<boolean> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return false;
    }
    for (const entry of entries) {
      if (--budget < 0) return false;
      if (entry.isFile() && entry.name.endsWith('.jl')) return true;
    }
    if (depth >= maxDepth) return false;
    for (const entry of entries) {
      if (entry.isDirectory() && !entry.name.startsWith('.') && !SKIP.has(entry.name)) {
        if (await walk(join(dir, entry.name), depth + 1)) return true;
      }
    }
    return false;
  };
  return walk(root, 0);
}
