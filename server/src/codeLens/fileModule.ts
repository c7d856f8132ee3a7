// The module a file's top-level code runs in, which names its functions (`Geo.area`) and is part of its
// statements' hashes: Main for a file evaluated itself, the including module for a file loaded by `include`
// (`module Geo; include("geo.jl"); end`). The session knows where it included each file (agent sessionLog
// `included`); a session that has not included the file yet has only the cache to go by: the module whose names
// for the document's functions are those of the cached methods that came from this file (`def:<file>:` requirements).
import { functionOf, type CachedMethod } from './describe.ts';
import { EVAL_MODULE, findFunctions } from './scanner.ts';
import type { IncludedFile } from '../session/agentProtocol.ts';

export function moduleOfFile(file: string, text: string, included: IncludedFile[], cached: CachedMethod[]): string {
  const known = included.find((i) => i.file === file);
  if (known) return known.module;
  const fromFile = new Set<string>();
  for (const m of cached) {
    const f = functionOf(m.signature);
    if (f && m.requires.some((r) => r.startsWith(`def:${file}:`))) fromFile.add(f);
  }
  let best = { module: EVAL_MODULE, score: 0 };
  for (const candidate of modulePrefixes(fromFile)) {
    const score = findFunctions(text, candidate).filter((d) => fromFile.has(d.name)).length;
    if (score > best.score) best = { module: candidate, score };
  }
  return best.module;
}

/** Every module that encloses one of the functions: `Main.Geo` and `Main.Geo.Units` for `Geo.Units.f` (as printed). */
function modulePrefixes(functions: Set<string>): string[] {
  const out = new Set<string>();
  for (const f of functions) {
    const parts = f.split('.');
    if (parts[0] !== EVAL_MODULE) parts.unshift(EVAL_MODULE);
    for (let k = 1; k < parts.length; k++) out.add(parts.slice(0, k).join('.'));
  }
  return [...out].sort((a, b) => a.length - b.length);
}
