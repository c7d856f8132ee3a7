// textDocument/codeLens for Julia files: one lens above each top-level function (scanner.ts) saying how long its
// compilation took this session and whether its compiled code is cached (describe.ts). The server asks the client
// to refresh the lenses (workspace/codeLens/refresh) after evaluations, saves of a file, cache changes and session
// restarts, so they follow what the user does.
import {
  CodeLensRefreshRequest,
  TextDocuments,
  TextDocumentSyncKind,
  type ClientCapabilities,
  type CodeLens,
  type Connection,
  type ServerCapabilities,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { fileURLToPath } from 'node:url';
import { ServerCommands } from '../../../shared/src/protocol.ts';
import { openSessionStore, type StoreSettings } from '../cache/sessionStore.ts';
import type { JuliaSession } from '../session/juliaSession.ts';
import { describeFunctions, type CachedMethod, type CompiledRecord } from './describe.ts';
import { moduleOfFile } from './fileModule.ts';
import type { IncludedFile } from '../session/agentProtocol.ts';
import { findFunctions } from './scanner.ts';

/** What the lenses need of the agent's session log. */
interface LogView {
  pid: number;
  compiled: CompiledRecord[];
  included: IncludedFile[];
}

/** Requests for lenses come in bursts (several files, each edit): one refresh for a burst of changes. */
const REFRESH_DELAY_MS = 150;

export class CodeLensProvider {
  readonly capabilities: ServerCapabilities = {
    textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: true },
    codeLensProvider: { resolveProvider: false },
  };
  private readonly documents = new TextDocuments(TextDocument);
  private session: JuliaSession | undefined;
  private store: StoreSettings | undefined;
  private refreshSupported = false;
  private refreshTimer: NodeJS.Timeout | undefined;
  /** The last session log read, per session process: used while the session is busy (the agent answers in turn). */
  private log: LogView | undefined;

  constructor(private readonly connection: Connection) {
    this.documents.listen(connection);
    this.documents.onDidSave(() => this.refresh());
    connection.onCodeLens(async (params) => {
      const doc = this.documents.get(params.textDocument.uri);
      if (!doc) return [];
      try {
        return await this.lenses(doc.getText(), filePath(doc.uri));
      } catch (e) {
        connection.console.warn(`code lens: ${e instanceof Error ? e.message : String(e)}`);
        return [];
      }
    });
  }

  attach(session: JuliaSession, client: ClientCapabilities, store: StoreSettings): void {
    this.session = session;
    this.store = store;
    this.refreshSupported = client.workspace?.codeLens?.refreshSupport === true;
    let last = '';
    session.on('status', (s) => {
      const key = `${s.pid}:${s.cache.state}`; // a new process or a (re)loaded cache
      if (key !== last) this.refresh();
      last = key;
    });
  }

  refresh(): void {
    if (!this.refreshSupported) return;
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.connection.sendRequest(CodeLensRefreshRequest.type).catch(() => {}); // the client may be gone
    }, REFRESH_DELAY_MS);
  }

  private async lenses(text: string, file: string | undefined): Promise<CodeLens[]> {
    const session = this.session;
    const pid = session?.agentInfo?.pid;
    if (!session || !pid || !['idle', 'busy'].includes(session.status().state)) return [];
    if (findFunctions(text).length === 0) return [];
    const [log, cached] = await Promise.all([this.sessionLog(session, pid), this.cachedMethods(session)]);
    // A file loaded by `include` runs in the including module: that names its functions and hashes its statements.
    const defs = findFunctions(text, file ? moduleOfFile(file, text, log.included, cached) : undefined);
    return describeFunctions(defs, log.compiled, cached, file).map((r) => ({
      range: { start: { line: r.line, character: 0 }, end: { line: r.line, character: 0 } },
      // Compiled but not cached: the lens offers to save; otherwise it only informs.
      command: r.cache === 'not cached' && r.compileMs !== undefined
        ? { title: r.title, command: ServerCommands.saveCompiledWork }
        : { title: r.title, command: '' },
    }));
  }

  private async sessionLog(session: JuliaSession, pid: number): Promise<LogView> {
    if (session.status().state === 'idle' || this.log?.pid !== pid) {
      // `included`: each file the session loaded with `include`, and the module that include ran in (the last time).
      const log = await session.request('sessionLog', {});
      this.log = { pid, compiled: log.compiled, included: log.included ?? [] };
    }
    return this.log;
  }

  /** Methods of this session's valid cache entries (with their requirements). */
  private async cachedMethods(session: JuliaSession): Promise<CachedMethod[]> {
    if (!this.store || !session.agentInfo?.supported) return [];
    const store = await openSessionStore(session, this.store);
    if (!store.ok) return [];
    const listed = await store.value.listEntries();
    if (!listed.ok) return [];
    return listed.value.filter((e) => e.state === 'valid' && e.meta).flatMap((e) => e.meta!.methods);
  }
}

function filePath(uri: string): string | undefined {
  return uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
}
