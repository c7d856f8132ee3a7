// Every custom message between the editor client and the language server, typed once.
// The client and the server import only this module from each other (like vscode-eslint's customMessages.ts).
// Generic LSP clients (neovim) reach the same handlers through workspace/executeCommand, see `ServerCommands`.
import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';

export type SessionState = 'stopped' | 'starting' | 'idle' | 'busy' | 'dead';

/** What the native cache is doing for the current session. */
export interface CacheStatus {
  state: 'none' | 'loading' | 'loaded' | 'rejected' | 'disabled';
  /** Methods installed (or waiting for their definitions) from the cache. */
  methods: number;
  bytes: number;
  loadMs?: number;
  /** Why there is no usable cache (rejected / disabled), in words a user can act on. */
  reason?: string;
  /** What the team cache pull at session start did (julia.cache.remote.*), in words. */
  teamCache?: string;
  /** Packages whose package caches (built from their tests) were loaded; they install as each package loads. */
  packages?: string[];
  /** What Save Compiled Work stored from this session; it loads in the next session. */
  saved?: { methods: number; bytes: number };
}

export interface SessionStatus {
  state: SessionState;
  juliaVersion?: string;
  pid?: number;
  /** Set when the session died or could not start: what happened and what to do. */
  message?: string;
  cache: CacheStatus;
}

/** How long one evaluation took and where the time went. */
export interface EvalTiming {
  totalMs: number;
  /** Native code generation time reported by Julia's compile log (jl_dump_compiles); excludes type inference. */
  compileMs: number;
  methodsCompiled: number;
  /** Wall time of the same code's first evaluation in the session the cache was saved from, when known. */
  coldMs?: number;
  /** coldMs - totalMs when the cache was used for this code. */
  savedMs?: number;
}

export interface StackFrame {
  func: string;
  file: string;
  line: number;
}

export interface EvalError {
  kind: 'syntax' | 'exception' | 'interrupted' | 'session-died';
  /** First line: the exception type and message, as showerror prints it. */
  message: string;
  stack: StackFrame[];
}

export interface EvaluateParams {
  code: string;
  /** File the code comes from (a path or an untitled name); used for stack traces and line numbers. */
  file?: string;
  /** 1-based line of the first line of `code` in `file`. */
  line?: number;
}

export interface EvaluateResult {
  ok: boolean;
  /** The value of the last statement as the REPL shows it (text/plain), absent for `nothing` or a trailing `;`. */
  display?: string;
  error?: EvalError;
  timing: EvalTiming;
}

export interface SkippedMethod {
  signature: string;
  reason: string;
}

export interface SaveSummary {
  methodsSaved: number;
  /** Methods already in the cache and still valid (not saved again). */
  methodsAlreadyCached: number;
  bytes: number;
  ms: number;
  skipped: SkippedMethod[];
  /** Which process compiled the methods: the session itself, or the capture worker (see captureNote). */
  capturePath?: 'session' | 'worker';
  /** Why the worker ran instead of the session. */
  captureNote?: string;
  /** Where the save's time went (ms): agentCode, capture (the request) and the capture's own steps, emit, store. */
  steps?: Record<string, number>;
}

/** What Push Compiled Work or Pull Team Cache did. */
export interface TeamCacheSummary {
  /** Entries uploaded, or downloaded and written to the local cache. */
  entries: number;
  /** Entries the other side already had. */
  present: number;
  /** Bytes sent (push) or received (pull). */
  bytes: number;
  ms: number;
  /** One sentence per entry that was refused (pull) or could not be read (push), with the reason. */
  problems: string[];
}

/** Build Package Cache from Tests: a package directory holding Project.toml and test/runtests.jl. */
export interface BuildPackageCacheParams {
  packageDir: string;
}

/** What Build Package Cache from Tests did: Test's counts, and what was saved for the package. */
export interface PackageCacheSummary {
  package: string;
  version: string;
  tests: { passed: number; failed: number; errored: number; broken: number };
  /** Testsets (at any depth) with failures or errors. */
  failedTestsets: string[];
  testMs: number;
  saveMs: number;
  methodsSaved: number;
  bytes: number;
  skipped: number;
}

export interface CacheEntryInfo {
  id: string;
  /** Human readable: the entry's main method signatures. */
  label: string;
  methods: string[];
  bytes: number;
  createdAt: string;
  lastUsedAt?: string;
  state: 'valid' | 'stale' | 'rejected';
  reason?: string;
  /** A package cache: the package every method of the entry needs (Build Package Cache from Tests). */
  package?: string;
}

export interface OutputParams {
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface EvaluationFinishedParams {
  /** A short excerpt of the code that ran (first line). */
  code: string;
  result: EvaluateResult;
}

export interface ProgressLikeParams {
  message: string;
}

export namespace StartSessionRequest {
  export const type = new RequestType0<SessionStatus, void>('julia/startSession');
}
export namespace StopSessionRequest {
  export const type = new RequestType0<SessionStatus, void>('julia/stopSession');
}
export namespace RestartSessionRequest {
  export const type = new RequestType0<SessionStatus, void>('julia/restartSession');
}
export namespace InterruptRequest {
  export const type = new RequestType0<void, void>('julia/interrupt');
}
export namespace SessionStatusRequest {
  export const type = new RequestType0<SessionStatus, void>('julia/sessionStatus');
}
export namespace EvaluateRequest {
  export const type = new RequestType<EvaluateParams, EvaluateResult, void>('julia/evaluate');
}
export namespace SaveCompiledWorkRequest {
  /** Reports progress through the standard LSP work-done progress when the client sends a token. */
  export const type = new RequestType0<SaveSummary, void>('julia/saveCompiledWork');
}
export namespace CacheEntriesRequest {
  export const type = new RequestType0<CacheEntryInfo[], void>('julia/cacheEntries');
}
export namespace DeleteCacheEntryRequest {
  export const type = new RequestType<{ id: string }, CacheEntryInfo[], void>('julia/deleteCacheEntry');
}
export namespace ClearCacheRequest {
  export const type = new RequestType0<void, void>('julia/clearCache');
}
export namespace PushCompiledWorkRequest {
  /** Publishes the valid local entries to the team cache (julia.cache.remote.url), signed with the user's key. */
  export const type = new RequestType0<TeamCacheSummary, void>('julia/pushCompiledWork');
}
export namespace PullTeamCacheRequest {
  /** Fetches entries signed by trusted keys into the local cache; they load in the next session. */
  export const type = new RequestType0<TeamCacheSummary, void>('julia/pullTeamCache');
}

export namespace BuildPackageCacheRequest {
  /** Runs the package's tests in a session of its own (trusted workspaces only) and saves its package cache. */
  export const type = new RequestType<BuildPackageCacheParams, PackageCacheSummary, void>('julia/buildPackageCache');
}

export namespace SessionStatusNotification {
  export const type = new NotificationType<SessionStatus>('julia/sessionStatus');
}
export namespace OutputNotification {
  export const type = new NotificationType<OutputParams>('julia/output');
}
export namespace EvaluationFinishedNotification {
  export const type = new NotificationType<EvaluationFinishedParams>('julia/evaluationFinished');
}
export namespace CacheChangedNotification {
  /** The cache's entries changed (saved, deleted, cleared, found stale): views and code lenses refresh. */
  export const type = new NotificationType<{}>('julia/cacheChanged');
}

/** workspace/executeCommand names, for LSP clients without custom-request support. Arguments mirror the requests. */
export const ServerCommands = {
  startSession: 'julia.server.startSession',
  stopSession: 'julia.server.stopSession',
  restartSession: 'julia.server.restartSession',
  interrupt: 'julia.server.interrupt',
  evaluate: 'julia.server.evaluate',
  saveCompiledWork: 'julia.server.saveCompiledWork',
  sessionStatus: 'julia.server.sessionStatus',
  cacheEntries: 'julia.server.cacheEntries',
  clearCache: 'julia.server.clearCache',
  pushCompiledWork: 'julia.server.pushCompiledWork',
  pullTeamCache: 'julia.server.pullTeamCache',
  buildPackageCache: 'julia.server.buildPackageCache',
} as const;

/** Settings under the `julia.cache` prefix... see package.json contributes.configuration. Sent as initializationOptions. */
export interface ServerSettings {
  /** Path to the julia executable; empty means `julia` on PATH. */
  juliaPath: string;
  juliaArgs: string[];
  /** Cache directory, relative to the workspace folder unless absolute. */
  cacheDir: string;
  /** Reload the cache automatically when a session starts. */
  autoLoad: boolean;
  /** Start a session when a workspace with Julia files opens (only in trusted workspaces). */
  autoStart: boolean;
  /** Size cap of the cache in megabytes; least recently used entries are evicted above it. */
  maxCacheMB: number;
  /** Whether the workspace is trusted (VS Code Workspace Trust); nothing runs by itself when false. */
  trusted: boolean;
  /** Team cache server (Bazel remote cache HTTP protocol); empty: none. */
  remoteUrl: string;
  /** Pull from it when a session starts, within remotePullBudgetMs; push after each save. */
  remotePull: boolean;
  remotePush: boolean;
  remotePullBudgetMs: number;
  /** `ed25519:<base64>` public keys whose entries are installed; the user's own key is always trusted. */
  remoteTrustedKeys: string[];
  /** Name of an environment variable holding the auth header (`Name: value`); the header itself is never a setting. */
  remoteAuthHeaderEnv: string;
}

export const defaultSettings: ServerSettings = {
  juliaPath: '',
  juliaArgs: [],
  cacheDir: '.jlcache',
  autoLoad: true,
  autoStart: true,
  maxCacheMB: 512,
  trusted: true,
  remoteUrl: '',
  remotePull: true,
  remotePush: true,
  remotePullBudgetMs: 1000,
  remoteTrustedKeys: [],
  remoteAuthHeaderEnv: '',
};
