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
  type InitializeResult,
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
  new Server(connection, options).listen();
}

/** The LSP side: one Julia session per workspace, its cache service and code lenses, and the requests that use them. */
class Server {
  private context: ServerContext | undefined;
  private cache: CacheService | undefined;
  private readonly lenses: CodeLensProvider;
  private readonly lensStore: StoreSettings = { cacheDir: '', maxCacheMB: 0 };
  /** One start at a time, shared by auto-start, explicit starts and evaluations that need a session. */
  private startInFlight: Promise<SessionStatus> | undefined;

  constructor(
    private readonly connection: Connection,
    private readonly options: ServerOptions,
  ) {
    this.lenses = new CodeLensProvider(connection);
  }

  listen(): void {
    const { connection } = this;
    connection.onInitialize((params) => this.initialize(params));
    connection.onInitialized(() => {
      void connection.sendNotification(SessionStatusNotification.type, this.ready().session.status());
      this.autoStart();
    });
    connection.onDidChangeConfiguration((params) => void this.applySettings(params.settings));
    connection.onShutdown(async () => {
      await this.context?.session.stop();
    });
    this.registerRequests(this.actions());
  }

  private ready(): ServerContext {
    if (!this.context) throw new ResponseError(ErrorCodes.ServerNotInitialized, 'the server has not been initialized yet');
    return this.context;
  }

  private cacheService(): CacheService {
    this.ready();
    return this.cache!;
  }

  private initialize(params: InitializeParams): InitializeResult {
    const { connection } = this;
    const { settings, problems } = readSettings(params.initializationOptions);
    const workspaceRoot = rootOf(params);
    const session = new JuliaSession({ juliaPath: settings.juliaPath, juliaArgs: settings.juliaArgs, cwd: workspaceRoot, ...this.options.session });
    session.on('status', (status) => void connection.sendNotification(SessionStatusNotification.type, status));
    session.on('output', (output) => void connection.sendNotification(OutputNotification.type, output));
    this.context = { connection, session, settings, workspaceRoot };
    this.cache = createNativeCacheService(this.context);
    Object.assign(this.lensStore, { cacheDir: settings.cacheDir, maxCacheMB: settings.maxCacheMB, workspaceRoot });
    this.lenses.attach(session, params.capabilities, this.lensStore);
    for (const problem of problems) connection.console.warn(problem);
    return {
      capabilities: { executeCommandProvider: { commands: Object.values(ServerCommands) }, ...this.lenses.capabilities },
      serverInfo: { name: 'julia-compiled-cache', version: '0.1.0' },
    };
  }

  /** Starts a session by itself when the settings allow it and the workspace holds Julia files (trusted only). */
  private autoStart(): void {
    const { session, settings, workspaceRoot } = this.ready();
    if (!settings.autoStart || !workspaceRoot) return;
    if (!settings.trusted) return this.connection.console.info('Julia was not started automatically: the workspace is not trusted');
    void containsJuliaFile(workspaceRoot).then((hasJulia) => {
      // A failed start is already reported through the status notification (state 'dead' with a message).
      if (hasJulia && session.status().state === 'stopped') this.startSession().catch(() => {});
    });
  }

  /**
   * Settings that need no restart (cache directory and size, auto-load, remote cache) apply at once; a new Julia path
   * or arguments restart a running session with them, and start one as at initialization otherwise (e.g. after a
   * start failed because the old path named no Julia).
   */
  private async applySettings(raw: unknown): Promise<void> {
    const { console } = this.connection;
    const { session, settings } = this.ready();
    const { settings: next, problems } = readSettings(raw);
    for (const problem of problems) console.warn(problem);
    const relaunch = next.juliaPath !== settings.juliaPath || next.juliaArgs.join('\0') !== settings.juliaArgs.join('\0');
    Object.assign(settings, next);
    Object.assign(this.lensStore, { cacheDir: next.cacheDir, maxCacheMB: next.maxCacheMB });
    this.lenses.refresh();
    if (!relaunch) return console.info('settings changed: applied without restarting Julia');
    session.reconfigure({ juliaPath: next.juliaPath, juliaArgs: next.juliaArgs });
    const running = !['stopped', 'dead'].includes(session.status().state);
    console.info(`settings changed: a new Julia path or arguments${running ? ', restarting the session' : ''}`);
    await session.stop(); // a dead session goes back to 'stopped'
    if (running) await this.startSession().catch(() => {}); // a failed start is reported by the status
    else this.autoStart();
  }

  /**
   * A start includes the cache load: an evaluation that arrives while it runs waits for it (the status bar says
   * 'cache: loading'), or it would compile what the cache is about to install.
   */
  private startSession(): Promise<SessionStatus> {
    const { session } = this.ready();
    if (this.startInFlight) return this.startInFlight;
    const state = session.status().state;
    if (state === 'idle' || state === 'busy') return Promise.resolve(session.status());
    this.startInFlight = (async () => {
      await session.start();
      try {
        await this.cacheService().sessionStarted(session);
      } catch (error) {
        this.connection.console.error(`cache load failed: ${messageOf(error)}`);
      }
      return session.status();
    })().finally(() => (this.startInFlight = undefined));
    return this.startInFlight;
  }

  private async evaluate(params: EvaluateParams): Promise<EvaluateResult> {
    const { session } = this.ready();
    let result: EvaluateResult;
    try {
      await this.startSession(); // a no-op while running; starts a stopped or dead session
      const sessionResult = await session.evaluate(params);
      this.cacheService().evaluated(session, sessionResult);
      const { statements: _statements, ...clientResult } = sessionResult;
      result = clientResult;
    } catch (error) {
      if (!(error instanceof SessionError && error.kind === 'session-died')) throw error;
      // The session died under the evaluation: that is its result, not a protocol failure.
      const timing = { totalMs: 0, compileMs: 0, methodsCompiled: 0 };
      result = { ok: false, error: { kind: 'session-died', message: error.message, stack: [] }, timing };
    }
    void this.connection.sendNotification(EvaluationFinishedNotification.type, { code: firstLine(params.code), result });
    this.lenses.refresh();
    return result;
  }

  /** Every request and command, by its ServerCommands name. */
  private actions(): Record<keyof typeof ServerCommands | 'deleteCacheEntry', Action> {
    const session = () => this.ready().session;
    const cache = () => this.cacheService();
    const refreshing = <T>(p: Promise<T>) => p.finally(() => this.lenses.refresh());
    return {
      startSession: () => this.startSession(),
      stopSession: () => session().stop(),
      restartSession: async () => {
        await session().stop();
        return this.startSession();
      },
      interrupt: () => (session().interrupt(), null),
      sessionStatus: () => session().status(),
      evaluate: (params) => this.evaluate(readEvaluateParams(params)),
      saveCompiledWork: (_params, progress, token) => refreshing(cache().saveCompiledWork(progress, token)),
      buildPackageCache: (params, progress, token) => refreshing(cache().buildPackageCache(readPackageDir(params), progress, token)),
      cacheEntries: () => cache().cacheEntries(),
      deleteCacheEntry: (params) => refreshing(cache().deleteCacheEntry(readEntryId(params))),
      clearCache: async () => (await refreshing(cache().clearCache()), null),
      pushCompiledWork: () => cache().pushCompiledWork(),
      pullTeamCache: () => refreshing(cache().pullTeamCache()),
    };
  }

  private registerRequests(actions: ReturnType<Server['actions']>): void {
    const { connection } = this;
    const run = async (action: Action, params: unknown, progressToken: string | number | undefined, token?: CancellationToken) => {
      try {
        return await action(params, connection.window.attachWorkDoneProgress(progressToken), token);
      } catch (error) {
        throw toResponseError(error);
      }
    };
    const handle = (action: Action) => (params: unknown, token?: CancellationToken) => run(action, params, workDoneToken(params), token);
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
      return run(actions[name], params.arguments?.[0], params.workDoneToken, token);
    });
  }
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
