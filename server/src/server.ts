// The LSP side: settings from initializationOptions, one JuliaSession per server, the custom requests of
// shared/src/protocol.ts (and the same actions through workspace/executeCommand for generic clients), and
// notifications for session state, output and finished evaluations. No handler can take the server down: every
// failure becomes a ResponseError with a message the user can act on.
import { fileURLToPath } from 'node:url';
import {
  ErrorCodes,
  ExecuteCommandRequest,
  ResponseError,
  type CancellationToken,
  type Connection,
  type ExecuteCommandParams,
  type InitializeParams,
  type WorkDoneProgressReporter,
} from 'vscode-languageserver/node';
import {
  BuildPackageCacheRequest,
  CacheEntriesRequest,
  ClearCacheRequest,
  DeleteCacheEntryRequest,
  EvaluateRequest,
  EvaluationFinishedNotification,
  InterruptRequest,
  OutputNotification,
  PullTeamCacheRequest,
  PushCompiledWorkRequest,
  RestartSessionRequest,
  SaveCompiledWorkRequest,
  ServerCommands,
  SessionStatusNotification,
  SessionStatusRequest,
  StartSessionRequest,
  StopSessionRequest,
  type EvaluateParams,
  type EvaluateResult,
  type ServerSettings,
  type SessionStatus,
} from '../../shared/src/protocol.ts';
import type { CacheService } from './cacheService.ts';
import { createNativeCacheService } from './cache/nativeCacheService.ts';
import { CodeLensProvider } from './codeLens/codeLensProvider.ts';
import { SessionError } from './session/errors.ts';
import { JuliaSession, type SessionOptions } from './session/juliaSession.ts';
import { InvalidParams, readEntryId, readEvaluateParams, readPackageDir } from './util/params.ts';
import { readSettings } from './util/settings.ts';
import type { StoreSettings } from './cache/sessionStore.ts';
import { containsJuliaFile } from './util/workspaceFiles.ts';

export interface ServerContext {
  connection: Connection;
  session: JuliaSession;
  settings: ServerSettings;
  /** First workspace folder, if the client opened one. */
  workspaceRoot: string | undefined;
}

export interface ServerOptions {
  /** Overrides for the session (tests point these at fakes of julia). */
  session?: Partial<SessionOptions>;
}

/** Error code for session failures (Julia missing, died, not running): a server-defined JSON-RPC code. */
export const SESSION_ERROR = -32002;

type Action = (params: unknown, progress: WorkDoneProgressReporter, token?: CancellationToken) => Promise<unknown> | unknown;

export function startServer(connection: Connection, options: ServerOptions = {}): void {
  let context: ServerContext | undefined;
  let cache: CacheService | undefined;
  const lenses = new CodeLensProvider(connection);
  const lensStore: StoreSettings = { cacheDir: '', maxCacheMB: 0 };

  const ready = (): ServerContext => {
    if (!context) throw new ResponseError(ErrorCodes.ServerNotInitialized, 'the server has not been initialized yet');
    return context;
  };
  const cacheOf = (): CacheService => (ready(), cache!);

  connection.onInitialize((params: InitializeParams) => {
    const { settings, problems } = readSettings(params.initializationOptions);
    const workspaceRoot = rootOf(params);
    const session = new JuliaSession({
      juliaPath: settings.juliaPath,
      juliaArgs: settings.juliaArgs,
      cwd: workspaceRoot,
      ...options.session,
    });
    session.on('status', (status) => void connection.sendNotification(SessionStatusNotification.type, status));
    session.on('output', (output) => void connection.sendNotification(OutputNotification.type, output));
    context = { connection, session, settings, workspaceRoot };
    cache = createNativeCacheService(context);
    Object.assign(lensStore, { cacheDir: settings.cacheDir, maxCacheMB: settings.maxCacheMB, workspaceRoot });
    lenses.attach(session, params.capabilities, lensStore);
    for (const problem of problems) connection.console.warn(problem);
    return {
      capabilities: { executeCommandProvider: { commands: Object.values(ServerCommands) }, ...lenses.capabilities },
      serverInfo: { name: 'julia-compiled-cache', version: '0.1.0' },
    };
  });

  connection.onInitialized(() => {
    void connection.sendNotification(SessionStatusNotification.type, ready().session.status());
    autoStart();
  });

  /** Starts a session by itself when the settings allow it and the workspace holds Julia files (trusted only). */
  const autoStart = () => {
    const { session, settings, workspaceRoot } = ready();
    if (!settings.autoStart || !workspaceRoot) return;
    if (!settings.trusted) {
      connection.console.info('Julia was not started automatically: the workspace is not trusted');
      return;
    }
    void containsJuliaFile(workspaceRoot).then((hasJulia) => {
      // A failed start is already reported through the status notification (state 'dead' with a message).
      if (hasJulia && session.status().state === 'stopped') startSession().catch(() => {});
    });
  };

  // Settings that need no restart (cache directory and size, auto-load, remote cache) apply at once; a new Julia path
  // or arguments restart a running session with them, and start one as at initialization otherwise (e.g. after a
  // start failed because the old path named no Julia).
  connection.onDidChangeConfiguration((params) => void applySettings(params.settings));
  const applySettings = async (raw: unknown) => {
    const { session, settings } = ready();
    const { settings: next, problems } = readSettings(raw);
    for (const problem of problems) connection.console.warn(problem);
    const relaunch = next.juliaPath !== settings.juliaPath || next.juliaArgs.join('\0') !== settings.juliaArgs.join('\0');
    Object.assign(settings, next);
    Object.assign(lensStore, { cacheDir: next.cacheDir, maxCacheMB: next.maxCacheMB });
    lenses.refresh();
    if (!relaunch) return connection.console.info('settings changed: applied without restarting Julia');
    session.reconfigure({ juliaPath: next.juliaPath, juliaArgs: next.juliaArgs });
    const running = !['stopped', 'dead'].includes(session.status().state);
    connection.console.info(`settings changed: a new Julia path or arguments${running ? ', restarting the session' : ''}`);
    await session.stop(); // a dead session goes back to 'stopped'
    if (running) await startSession().catch(() => {}); // a failed start is reported by the status
    else autoStart();
  };

  connection.onShutdown(async () => {
    await context?.session.stop();
  });

  // One start at a time, shared by auto-start, explicit starts and evaluations that need a session.
  let startInFlight: Promise<SessionStatus> | undefined;
  const startSession = (): Promise<SessionStatus> => {
    const { session } = ready();
    // A start includes the cache load: an evaluation that arrives while it runs waits for it (the status bar says
    // 'cache: loading'), or it would compile what the cache is about to install.
    if (startInFlight) return startInFlight;
    const state = session.status().state;
    if (state === 'idle' || state === 'busy') return Promise.resolve(session.status());
    startInFlight ??= (async () => {
      await session.start();
      try {
        await cacheOf().sessionStarted(session);
      } catch (error) {
        connection.console.error(`cache load failed: ${messageOf(error)}`);
      }
      return session.status();
    })().finally(() => (startInFlight = undefined));
    return startInFlight;
  };

  const evaluate = async (params: EvaluateParams): Promise<EvaluateResult> => {
    const { session } = ready();
    let result: EvaluateResult;
    try {
      await startSession(); // a no-op while running; starts a stopped or dead session
      const sessionResult = await session.evaluate(params);
      cacheOf().evaluated(session, sessionResult);
      const { statements: _statements, ...clientResult } = sessionResult;
      result = clientResult;
    } catch (error) {
      if (!(error instanceof SessionError && error.kind === 'session-died')) throw error;
      // The session died under the evaluation: that is its result, not a protocol failure.
      result = {
        ok: false,
        error: { kind: 'session-died', message: error.message, stack: [] },
        timing: { totalMs: 0, compileMs: 0, methodsCompiled: 0 },
      };
    }
    void connection.sendNotification(EvaluationFinishedNotification.type, { code: firstLine(params.code), result });
    lenses.refresh();
    return result;
  };

  const actions: Record<keyof typeof ServerCommands | 'deleteCacheEntry', Action> = {
    startSession: () => startSession(),
    stopSession: () => ready().session.stop(),
    restartSession: async () => {
      await ready().session.stop();
      return startSession();
    },
    interrupt: () => {
      ready().session.interrupt();
      return null;
    },
    sessionStatus: () => ready().session.status(),
    evaluate: (params) => evaluate(readEvaluateParams(params)),
    saveCompiledWork: (_params, progress, token) => cacheOf().saveCompiledWork(progress, token).finally(() => lenses.refresh()),
    buildPackageCache: (params, progress, token) => cacheOf().buildPackageCache(readPackageDir(params), progress, token).finally(() => lenses.refresh()),
    cacheEntries: () => cacheOf().cacheEntries(),
    deleteCacheEntry: (params) => cacheOf().deleteCacheEntry(readEntryId(params)).finally(() => lenses.refresh()),
    clearCache: async () => {
      await cacheOf().clearCache().finally(() => lenses.refresh());
      return null;
    },
    pushCompiledWork: () => cacheOf().pushCompiledWork(),
    pullTeamCache: () => cacheOf().pullTeamCache().finally(() => lenses.refresh()),
  };

  const handle = (action: Action) => async (params: unknown, token?: CancellationToken) => {
    try {
      const progress = connection.window.attachWorkDoneProgress(workDoneToken(params));
      return await action(params, progress, token);
    } catch (error) {
      throw toResponseError(error);
    }
  };
  // Requests without params: the handler's first argument is the cancellation token, never params.
  // (Registered by method name: the handlers return the protocol's types through the untyped `Action`.)
  const handle0 = (action: Action) => (token: CancellationToken) => handle(action)(undefined, token);

  connection.onRequest(StartSessionRequest.type.method, handle0(actions.startSession));
  connection.onRequest(StopSessionRequest.type.method, handle0(actions.stopSession));
  connection.onRequest(RestartSessionRequest.type.method, handle0(actions.restartSession));
  connection.onRequest(InterruptRequest.type.method, handle0(actions.interrupt));
  connection.onRequest(SessionStatusRequest.type.method, handle0(actions.sessionStatus));
  connection.onRequest(EvaluateRequest.type.method, handle(actions.evaluate));
  // Takes params so that a client may pass { workDoneToken } for progress.
  connection.onRequest(SaveCompiledWorkRequest.type.method, handle(actions.saveCompiledWork));
  connection.onRequest(BuildPackageCacheRequest.type.method, handle(actions.buildPackageCache));
  connection.onRequest(CacheEntriesRequest.type.method, handle0(actions.cacheEntries));
  connection.onRequest(DeleteCacheEntryRequest.type.method, handle(actions.deleteCacheEntry));
  connection.onRequest(ClearCacheRequest.type.method, handle0(actions.clearCache));
  connection.onRequest(PushCompiledWorkRequest.type.method, handle0(actions.pushCompiledWork));
  connection.onRequest(PullTeamCacheRequest.type.method, handle0(actions.pullTeamCache));

  connection.onRequest(ExecuteCommandRequest.type.method, async (params: ExecuteCommandParams, token: CancellationToken) => {
    const name = (Object.keys(ServerCommands) as (keyof typeof ServerCommands)[]).find((key) => ServerCommands[key] === params?.command);
    if (!name) {
      throw new ResponseError(ErrorCodes.InvalidParams, `unknown command ${JSON.stringify(params?.command)}; known: ${Object.values(ServerCommands).join(', ')}`);
    }
    try {
      const progress = connection.window.attachWorkDoneProgress(params.workDoneToken);
      return await actions[name](params.arguments?.[0], progress, token);
    } catch (error) {
      throw toResponseError(error);
    }
  });
}

function toResponseError(error: unknown): ResponseError<unknown> {
  if (error instanceof ResponseError) return error;
  if (error instanceof InvalidParams) return new ResponseError(ErrorCodes.InvalidParams, error.message);
  if (error instanceof SessionError) return new ResponseError(SESSION_ERROR, error.message, { kind: error.kind });
  return new ResponseError(ErrorCodes.InternalError, `internal error: ${messageOf(error)}`);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function workDoneToken(params: unknown): string | number | undefined {
  const token = typeof params === 'object' && params !== null ? (params as { workDoneToken?: unknown }).workDoneToken : undefined;
  return typeof token === 'string' || typeof token === 'number' ? token : undefined;
}

function rootOf(params: InitializeParams): string | undefined {
  const uri = params.workspaceFolders?.[0]?.uri ?? params.rootUri;
  if (uri?.startsWith('file:')) return fileURLToPath(uri);
  return params.rootPath ?? undefined;
}

function firstLine(code: string): string {
  const line = code.trimStart().split('\n', 1)[0];
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}
