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
  /** The statements the method depends on (its own definition among them): `stmt:<hash>`, `def:<file>:<hash>`, ... */
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

/**
 * A function's own methods count; methods of another module's function (e.g. `Base.show`) only when specialized on
 * a type of the user's modules (printed `Main.T`, or `M.T` for a module M below Main).
 */
function belongsTo(sig: string, d: FunctionDefinition, userModules: string[]): boolean {
  if (functionOf(sig) !== d.name) return false;
  return d.own || userModules.some((m) => sig.includes(`${m}.`));
}

/** The modules the document's own functions live in, as signatures print them. */
function modulesOf(defs: FunctionDefinition[]): string[] {
  return [...new Set(['Main', ...defs.filter((d) => d.own).map((d) => d.name.slice(0, d.name.lastIndexOf('.')))])];
}

/**
 * The requirements that name a statement of the document (capture/requires.jl): `stmt:<hash>` when it is evaluated
 * itself (Execute File, a selection), `def:<file>:<hash>` when `file` is loaded by `include`.
 */
function statementRequirements(hash: string, file: string | undefined): string[] {
  return file ? [`stmt:${hash}`, `def:${file}:${hash}`] : [`stmt:${hash}`];
}

/** `file`: the document's path (its statements may have been evaluated by an `include` of it). */
export function describeFunctions(defs: FunctionDefinition[], compiled: CompiledRecord[], cached: CachedMethod[], file?: string): FunctionReport[] {
  // Every current definition of each function in the document, as requirements.
  const requirementsOf = new Map<string, Set<string>>();
  for (const d of defs) {
    if (!requirementsOf.has(d.name)) requirementsOf.set(d.name, new Set());
    for (const r of statementRequirements(d.statementHash, file)) requirementsOf.get(d.name)!.add(r);
  }
  const userModules = modulesOf(defs);
  return defs.map((d) => {
    const mine = cached.filter((m) => belongsTo(m.signature, d, userModules));
    const current = requirementsOf.get(d.name)!;
    const itsStatement = statementRequirements(d.statementHash, file);
    let cache: CacheState = 'not cached';
    if (mine.some((m) => m.requires.some((r) => itsStatement.includes(r)))) cache = 'cached';
    // Cached methods none of whose requirements is a current definition of the function: compiled from old source.
    else if (mine.some((m) => !m.requires.some((r) => current.has(r)))) cache = 'stale';
    let ms = sum(compiled.filter((c) => belongsTo(c.sig, d, userModules)).map((c) => c.ms));
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
