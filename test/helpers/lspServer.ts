// Runs the real language server as a child process over stdio (from sources through tsx, or dist/server.js when
// SERVER_JS is set) and talks to it with vscode-jsonrpc, recording every notification it sends.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { InitializeResult } from 'vscode-languageserver/node';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import type { EvaluationFinishedParams, OutputParams, ServerSettings, SessionStatus } from '../../shared/src/protocol.ts';
import { waitUntil } from './wait.ts';

export const repo = join(__dirname, '..', '..');

export interface LspServer {
  conn: MessageConnection;
  proc: ChildProcess;
  initializeResult: InitializeResult;
  statuses: SessionStatus[];
  outputs: OutputParams[];
  finished: EvaluationFinishedParams[];
  logs: string[];
  stderr(): string;
  /** All stdout text received so far. */
  stdoutText(): string;
  waitForState(state: SessionStatus['state'], timeoutMs?: number): Promise<SessionStatus>;
  /** Called with each status notification as it arrives (to act at an exact moment, e.g. while the cache loads). */
  onStatus?: (status: SessionStatus) => void;
  /** LSP shutdown + exit, then waits for the server process to end; returns its exit code. */
  close(): Promise<number | null>;
}

export async function startLspServer(
  /** wrap: a command that runs the server (its argv follows), e.g. to give it its own mount namespace. */
  options: { settings?: Partial<ServerSettings>; workspace?: string; env?: NodeJS.ProcessEnv; wrap?: string[]; capabilities?: object } = {},
): Promise<LspServer> {
  const args = process.env.SERVER_JS ? [process.env.SERVER_JS, '--stdio'] : ['--import', 'tsx', join(repo, 'server/src/main.ts'), '--stdio'];
  const [cmd, ...argv] = [...(options.wrap ?? []), process.execPath, ...args];
  const proc = spawn(cmd, argv, { cwd: repo, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const conn = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  const server: LspServer = {
    conn,
    proc,
    initializeResult: { capabilities: {} },
    statuses: [],
    outputs: [],
    finished: [],
    logs: [],
    stderr: () => stderr,
    stdoutText: () => server.outputs.filter((o) => o.stream === 'stdout').map((o) => o.text).join(''),
    waitForState: (state, timeoutMs = 60_000) =>
      waitUntil(() => [...server.statuses].reverse().find((s) => s.state === state), timeoutMs, `session state ${state}`),
    close: async () => {
      await conn.sendRequest('shutdown');
      await conn.sendNotification('exit');
      const code = await exited;
      conn.dispose();
      return code;
    },
  };
  conn.onNotification('julia/sessionStatus', (s: SessionStatus) => {
    server.statuses.push(s);
    server.onStatus?.(s);
  });
  conn.onNotification('julia/output', (o: OutputParams) => void server.outputs.push(o));
  conn.onNotification('julia/evaluationFinished', (f: EvaluationFinishedParams) => void server.finished.push(f));
  conn.onNotification('window/logMessage', (m: { message: string }) => void server.logs.push(m.message));
  conn.listen();
  const workspace = options.workspace;
  server.initializeResult = await conn.sendRequest('initialize', {
    processId: process.pid,
    rootUri: workspace ? pathToFileURL(workspace).href : null,
    workspaceFolders: workspace ? [{ uri: pathToFileURL(workspace).href, name: 'ws' }] : null,
    capabilities: options.capabilities ?? {},
    initializationOptions: { autoStart: false, ...options.settings },
  });
  await conn.sendNotification('initialized', {});
  return server;
}
