// What a code lens says about one function: how long the session spent compiling it (the agent's compile log,
// summed over the function's specializations) and whether its compiled code is in the cache, stale (the cached
// methods were compiled from a definition that has since changed), or not cached.
import type { FunctionDefinition } from './scanner.ts';

export interface CompiledRecord {
  /** e.g. `Tuple{typeof(Main.f), Int64}` */
  sig: string;
  ms: number;
}

export interface CachedMethod {
  signature: string;
  /** "stmt:<hash>" for each statement the method depends on (its own definition among them). */
  requires: string[];
  compileMs?: number;
}

export type CacheState = 'cached' | 'stale' | 'not cached';

export interface FunctionReport {
  line: number;
  name: string;
  /** Compile time this session (or, if it compiled nothing yet, what the cached methods took): undefined = none. */
  compileMs?: number;
  cache: CacheState;
  title: string;
}

/** The function a signature belongs to (`Main.f` for `Tuple{typeof(Main.f), Int64}`), if it names one. */
export function functionOf(sig: string): string | undefined {
  return /^Tuple\{typeof\(([^(){},\s]+)\)/.exec(sig)?.[1];
}

/** Methods of another module's function (e.g. `Base.show`) count only when specialized on this session's types. */
function belongsTo(sig: string, name: string): boolean {
  if (functionOf(sig) !== name) return false;
  return name.startsWith('Main.') || sig.includes('Main.');
}

export function describeFunctions(defs: FunctionDefinition[], compiled: CompiledRecord[], cached: CachedMethod[]): FunctionReport[] {
  // Every current definition hash of each function in the document.
  const hashesOf = new Map<string, Set<string>>();
  for (const d of defs) {
    if (!hashesOf.has(d.name)) hashesOf.set(d.name, new Set());
    hashesOf.get(d.name)!.add(`stmt:${d.statementHash}`);
  }
  return defs.map((d) => {
    const mine = cached.filter((m) => belongsTo(m.signature, d.name));
    const current = hashesOf.get(d.name)!;
    let cache: CacheState = 'not cached';
    if (mine.some((m) => m.requires.includes(`stmt:${d.statementHash}`))) cache = 'cached';
    // Cached methods none of whose requirements is a current definition of the function: compiled from old source.
    else if (mine.some((m) => !m.requires.some((r) => current.has(r)))) cache = 'stale';
    let ms = sum(compiled.filter((c) => belongsTo(c.sig, d.name)).map((c) => c.ms));
    if (ms === 0) ms = sum(mine.map((m) => m.compileMs ?? 0));
    const compileMs = ms > 0 ? ms : undefined;
    return { line: d.line, name: d.name, compileMs, cache, title: titleOf(compileMs, cache) };
  });
}

function titleOf(ms: number | undefined, cache: CacheState): string {
  const compiled = ms === undefined ? 'not compiled yet' : `compiled in ${formatMs(ms)}`;
  if (cache === 'cached') return `${compiled} · cached`;
  if (cache === 'stale') return `${compiled} · stale (source changed)`;
  return ms === undefined ? compiled : `${compiled} · not cached`;
}

function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
