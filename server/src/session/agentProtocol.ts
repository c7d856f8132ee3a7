// Types of the agent protocol in docs/DESIGN.md ("Agent protocol"): what the Julia agent answers over its socket.
import type { EvalError, EvaluateResult } from '../../../shared/src/protocol.ts';

export interface AgentIdentity {
  cpuName: string;
  cpuFeatures: string;
  tlsOffset: number;
  libjulia: string;
  sysimage: string;
  wordSize: number;
}

export interface AgentInfo {
  juliaVersion: string;
  pid: number;
  /** False when the native cache cannot work in this Julia (then `reason` says why). */
  supported: boolean;
  reason?: string;
  identity: AgentIdentity;
}

export interface StatementRecord {
  hash: string;
  kind: 'definition' | 'expression';
  line: number;
  /** Wall time of the statement itself, and the methods it compiled (absent from older agents). */
  ms?: number;
  methodsCompiled?: number;
}

export interface AgentEvalResult {
  ok: boolean;
  display?: string;
  error?: EvalError;
  totalMs: number;
  compileMs: number;
  methodsCompiled: number;
  statements: StatementRecord[];
}

/** An evaluation as the session reports it: the client-facing result plus the agent's statement records. */
export interface SessionEvalResult extends EvaluateResult {
  statements: StatementRecord[];
}

export function toSessionEvalResult(r: AgentEvalResult): SessionEvalResult {
  const result: SessionEvalResult = {
    ok: r.ok,
    timing: { totalMs: r.totalMs, compileMs: r.compileMs, methodsCompiled: r.methodsCompiled },
    statements: r.statements ?? [],
  };
  if (r.display !== undefined && r.display !== null) result.display = r.display;
  if (r.error) result.error = { kind: r.error.kind, message: r.error.message, stack: r.error.stack ?? [] };
  return result;
}

/** A definition statement the session evaluated, as the capture worker replays it. */
export interface Definition {
  code: string;
  file: string;
  line: number;
  hash: string;
}

/** The first run of a statement: its wall time and how many methods it compiled (statementTimes.ts). */
export interface FirstRun {
  hash: string;
  ms: number;
  methodsCompiled: number;
}

/** A file the session `include`d, and the module it ran in (e.g. `Main`, `Main.Geo`). */
export interface IncludedFile {
  file: string;
  module: string;
}

/** `sessionLog`: what the session evaluated and compiled. */
export interface SessionLog {
  project: string | null;
  loadPath: string[];
  definitions: Definition[];
  compiled: { sig: string; ms: number }[];
  firstRuns?: FirstRun[];
  included?: IncludedFile[];
}

/** `cache/load` (server/julia/loader/agent_extension.jl): entries to link, each a private object + plan pair. */
export interface CacheLoadParams {
  entries: { id: string; object: string; plan: string }[];
}

export interface AgentLoadResult {
  linked: number;
  installed: number;
  pending: number;
  failed: { id: string; reason: string; damaged?: boolean }[];
  ms: number;
  /** Where the agent's time went (ms; glue.jl STEP_NAMES, plus entries / satisfy / status). */
  steps?: Record<string, number>;
}

/** `cache/status`: the loader's entries in this session and their states. */
export interface LoaderStatus {
  installed: number;
  pending: number;
  present?: number;
  failed: { id: string; index: number; reason: string }[];
  entries: { cache: string; index: number; state: string; reason: string }[];
}

/** `capture` (server/julia/capture/inprocess.jl): the session compiles these compile-log signatures into `outDir`. */
export interface CaptureParams {
  outDir: string;
  signatures: string[];
  /** A package's cache: only entries that need this package, and nothing but packages, are kept. */
  onlyPackage?: string;
  /** The server's digest of the session's libjulia (the cache identity's), so the session need not hash it. */
  libjulia?: { path: string; sha256: string };
}

export interface CapturedEntryRecord {
  signature: string;
  requires: string[];
  slots: number;
}

/** What a capture wrote next to module.bc and plan.bin (the in-session reply, or the worker's capture.json). */
export interface CaptureRecord {
  entries: CapturedEntryRecord[];
  skipped: { signature: string; reason: string }[];
  slotCount: number;
  functions: number;
  /** Callees left out of the object: the loading session links them to its system image's code. */
  imports: number;
  /** Functions deleted before Julia's passes: no entry's code reaches them. */
  pruned: number;
  timing: Record<string, number>;
  /** In-session capture only: JIT compilations seen while the imaging flag was on (must be 0). */
  compiledInWindow?: number;
  /** In-session capture only: signatures the agent compiled for its own capture code (capture/agentCode.ts). */
  agentCompiled?: string[];
}

/** The session refuses in-session capture (another libjulia build, threads, coverage...): the worker runs instead. */
export type CaptureReply = CaptureRecord | { refused: string };

/**
 * Every request the server sends the agent besides the session's own initialize/eval/shutdown: method -> [params,
 * result], declared once; JuliaSession.request is typed by it.
 */
export interface AgentRequests {
  sessionLog: [Record<string, never>, SessionLog];
  capture: [CaptureParams, CaptureReply];
  'cache/load': [CacheLoadParams, AgentLoadResult];
  'cache/status': [Record<string, never>, LoaderStatus];
}
