// The name the cache view shows for an entry: the user's own functions first (what the user recognises), then the
// others, by function name rather than by Julia's full signature, and how many methods it holds.

const SHOWN = 3;

/** `Tuple{typeof(Main.parse_config), String}` -> `{ module: 'Main', name: 'parse_config' }`; other forms: null. */
export function functionOf(signature: string): { module: string; name: string } | null {
  const m = /^Tuple\{typeof\(([A-Za-z_][\w.]*)\.([^,(){}]+|var"[^"]+")\)/.exec(signature);
  return m ? { module: m[1], name: m[2] } : null;
}

/**
 * The package an entry was built for (Build Package Cache from Tests): every method needs only packages
 * (`pkg:<name>:<digest>`) and one package is needed by all of them; otherwise undefined (the session's own work).
 */
export function packageOf(requires: string[][]): string | undefined {
  if (requires.length === 0) return undefined;
  let common: Set<string> | undefined;
  for (const reqs of requires) {
    if (reqs.length === 0 || !reqs.every((r) => r.startsWith('pkg:'))) return undefined;
    const names = new Set(reqs.map((r) => r.split(':')[1]));
    common = common ? new Set([...common].filter((n) => names.has(n))) : names;
  }
  return common && common.size > 0 ? [...common].sort()[0] : undefined;
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
