// The name the cache view shows for an entry: the user's own functions first (what the user recognises), then the
// others, by function name rather than by Julia's full signature, and how many methods it holds.

const SHOWN = 3;

/** `Tuple{typeof(Main.parse_config), String}` -> `{ module: 'Main', name: 'parse_config' }`; other forms: null. */
export function functionOf(signature: string): { module: string; name: string } | null {
  const m = /^Tuple\{typeof\(([A-Za-z_][\w.]*)\.([^,(){}]+|var"[^"]+")\)/.exec(signature);
  return m ? { module: m[1], name: m[2] } : null;
}

export function entryLabel(id: string, signatures: string[]): string {
  if (signatures.length === 0) return id;
  const user: string[] = [];
  const other: string[] = [];
  for (const s of signatures) {
    const f = functionOf(s);
    if (!f) other.push(s);
    else if (f.module === 'Main') user.push(f.name);
    else other.push(`${f.module}.${f.name}`);
  }
  const names = [...new Set([...user, ...other])];
  const shown = names.slice(0, SHOWN).join(', ') + (names.length > SHOWN ? ', …' : '');
  return signatures.length === 1 ? shown : `${shown} (${signatures.length} methods)`;
}
