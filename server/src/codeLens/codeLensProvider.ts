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
import { ServerCommands } from '../../../shared/src/protocol.ts';
import { openSessionStore, type StoreSettings } from '../cache/sessionStore.ts';
import type { JuliaSession } from '../session/juliaSession.ts';
import { describeFunctions, type CachedMethod, type CompiledRecord } from './describe.ts';
import { findFunctions } from './scanner.ts';

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
  /** The last compile log read, per session process: used while the session is busy (the agent answers in turn). */
  private log: { pid: number; compiled: CompiledRecord[] } | undefined;

  constructor(private readonly connection: Connection) {
    this.documents.listen(connection);
    this.documents.onDidSave(() => this.refresh());
    connection.onCodeLens(async (params) => {
      const doc = this.documents.get(params.textDocument.uri);
      if (!doc) return [];
      try {
        return await this.lenses(doc.getText());
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

  private async lenses(text: string): Promise<CodeLens[]> {
    const session = this.session;
    const pid = session?.agentInfo?.pid;
    if (!session || !pid || !['idle', 'busy'].includes(session.status().state)) return [];
    const defs = findFunctions(text);
    if (defs.length === 0) return [];
    const [compiled, cached] = await Promise.all([this.compiled(session, pid), this.cachedMethods(session)]);
    return describeFunctions(defs, compiled, cached).map((r) => ({
      range: { start: { line: r.line, character: 0 }, end: { line: r.line, character: 0 } },
      // Compiled but not cached: the lens offers to save; otherwise it only informs.
      command: r.cache === 'not cached' && r.compileMs !== undefined
        ? { title: r.title, command: ServerCommands.saveCompiledWork }
        : { title: r.title, command: '' },
    }));
  }

  private async compiled(session: JuliaSession, pid: number): Promise<CompiledRecord[]> {
    if (session.status().state === 'idle' || this.log?.pid !== pid) {
      const log = (await session.request('sessionLog', {})) as { compiled: CompiledRecord[] };
      this.log = { pid, compiled: log.compiled };
    }
    return this.log.compiled;
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
