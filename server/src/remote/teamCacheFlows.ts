// The team cache in the language server: a pull when a session starts, bounded by julia.cache.remote.pullBudgetMs
// (the session then starts with what it has), a push in the background after each save, and the two commands.
// Every refusal (an entry, an index, the server) is logged once per server process, not at every session start.
import type { ServerSettings, TeamCacheSummary } from '../../../shared/src/protocol.ts';
import { fail, ok, type Result } from '../cache/result.ts';
import type { Store } from '../cache/store.ts';
import { connectTeamCache, type TeamCache } from './connect.ts';
import { pullCache, type PullReport } from './pull.ts';
import { pushCache } from './push.ts';
import { workspaceStatements } from './workspaceSources.ts';

export interface TeamCacheLog {
  info(message: string): void;
  warn(message: string): void;
}

/** Commands may move a whole cache; only the pull at session start has a short budget. */
const COMMAND_TIMEOUT_MS = 5 * 60_000;

export class TeamCacheFlows {
  private readonly reported = new Set<string>();

  constructor(
    private readonly settings: ServerSettings,
    private readonly log: TeamCacheLog,
    /** The workspace folder: its sources decide which entries are worth pulling (workspaceSources.ts). */
    private readonly workspaceRoot: string | undefined,
  ) {}

  get enabled(): boolean {
    return this.settings.remoteUrl !== '';
  }

  /** Pulls into `store` for at most the budget; returns what happened, in words, or undefined when pull is off. */
  async pullAtStart(store: Store): Promise<{ text: string; pulled: string[] } | undefined> {
    if (!this.enabled || !this.settings.remotePull) return undefined;
    const budget = this.settings.remotePullBudgetMs;
    const late = `the team cache did not answer within ${budget} ms (julia.cache.remote.pullBudgetMs): the session started with the local cache`;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => {
        controller.abort(new Error(late));
        resolve('late');
      }, budget);
    });
    try {
      const r = await Promise.race([this.pull(store, controller.signal), expired]);
      // A late pull is logged by itself when its aborted requests return.
      if (r === 'late') return { text: late, pulled: [] };
      if (!r.ok) return { text: r.error, pulled: [] };
      return { text: summaryText(r.value), pulled: r.value.pulled };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Pull Team Cache: everything trusted that is new, with a generous timeout. */
  async pullNow(store: Store): Promise<Result<TeamCacheSummary & { pulled: string[] }>> {
    const r = await this.pull(store, AbortSignal.timeout(COMMAND_TIMEOUT_MS));
    if (!r.ok) return r;
    const { pulled, present, bytesReceived, ms, problems } = r.value;
    return ok({ entries: pulled.length, present, bytes: bytesReceived, ms, problems, pulled });
  }

  /** Push Compiled Work (all valid local entries), or the entries `only` names (after a save). */
  async push(store: Store, only?: ReadonlySet<string>): Promise<Result<TeamCacheSummary>> {
    const remote = await this.connect(AbortSignal.timeout(COMMAND_TIMEOUT_MS));
    if (!remote.ok) return remote;
    const r = await pushCache(store, remote.value, only);
    if (!r.ok) return fail(this.problem(`push failed: ${r.error}`));
    for (const p of r.value.problems) this.problem(p);
    const { pushed, present, bytesSent, ms, problems } = r.value;
    this.log.info(`team cache: pushed ${pushed} entries (${kb(bytesSent)}), ${present} already there, in ${ms.toFixed(0)} ms`);
    return ok({ entries: pushed, present, bytes: bytesSent, ms, problems });
  }

  /** After a save: the new entry goes to the team cache without anyone waiting for it. */
  pushInBackground(store: Store, id: string): void {
    if (this.enabled && this.settings.remotePush) void this.push(store, new Set([id]));
  }

  private async pull(store: Store, signal: AbortSignal): Promise<Result<PullReport>> {
    const remote = await this.connect(signal);
    if (!remote.ok) return remote;
    const sources = this.workspaceRoot ? await workspaceStatements(this.workspaceRoot) : undefined;
    const r = await pullCache(store, remote.value, sources);
    for (const p of r.problems) this.problem(p);
    if (r.stopped) return fail(this.problem(`pull stopped: ${r.stopped}`));
    this.log.info(`team cache: ${summaryText(r)}`);
    return ok(r);
  }

  private async connect(signal: AbortSignal): Promise<Result<TeamCache>> {
    const s = this.settings;
    if (!this.enabled) return fail('no team cache is configured (julia.cache.remote.url)');
    if (!s.trusted) return fail('the workspace is not trusted: the team cache is not used');
    const r = await connectTeamCache({ url: s.remoteUrl, authHeaderEnv: s.remoteAuthHeaderEnv || undefined, trustedKeys: s.remoteTrustedKeys }, signal);
    if (!r.ok) return fail(this.problem(r.error));
    for (const p of r.value.problems) this.problem(p);
    return r;
  }

  /** Logs a problem the first time it occurs in this server process; returns it. */
  private problem(text: string): string {
    if (!this.reported.has(text)) {
      this.reported.add(text);
      this.log.warn(`team cache: ${text}`);
    }
    return text;
  }
}

function summaryText(r: PullReport): string {
  const rest = [r.stale ? `${r.stale} for other sources skipped` : '', r.problems.length ? `${r.problems.length} refused` : ''].filter(Boolean).join(', ');
  if (r.pulled.length === 0) return `nothing new (${r.present} entries already here${rest ? `, ${rest}` : ''})`;
  return `pulled ${r.pulled.length} entries (${r.methods} methods, ${kb(r.bytesReceived)}) in ${r.ms.toFixed(0)} ms` + (rest ? `; ${rest}` : '');
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KB`;
}
