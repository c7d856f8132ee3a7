// `cache key | push | pull`: the team cache from the command line (CI builds and pushes, developers pull).
//   cache key                                        print this user's public key (created on first use)
//   cache push --cache DIR --remote URL [--json]     publish the valid entries of DIR, signed with this user's key
//   cache pull --cache DIR --remote URL [--trust KEY]... [--json]   fetch, verify and prove entries into DIR
// push and pull start a Julia session only to learn its identity (build, system image, CPU): entries are exchanged
// for exactly that identity. Options: --auth-env VAR (an environment variable holding the auth header).
import { resolve } from 'node:path';
import { ensureProven } from '../cache/prove.ts';
import { openSessionStore } from '../cache/sessionStore.ts';
import { connectTeamCache, type TeamCache } from '../remote/connect.ts';
import { pullCache } from '../remote/pull.ts';
import { pushCache } from '../remote/push.ts';
import { loadOrCreateTeamKey } from '../remote/teamKey.ts';
import type { Store } from '../cache/store.ts';
import type { JuliaSession } from '../session/juliaSession.ts';
import { withSession, type CliOptions } from './cliSession.ts';

/** A CLI push or pull may move a large cache over a slow link; the editor's pull at session start has its own budget. */
const CLI_TIMEOUT_MS = 10 * 60_000;

export async function cacheCommand(sub: string, options: CliOptions): Promise<number> {
  if (sub === 'key') return keyCommand(options);
  if (sub !== 'push' && sub !== 'pull') throw new Error(`unknown cache command ${sub}: key, push or pull`);
  if (!options.cacheDir || !options.remoteUrl) throw new Error(`cache ${sub} needs --cache DIR and --remote URL`);
  const remote = await connectTeamCache(
    { url: options.remoteUrl, authHeaderEnv: options.authHeaderEnv, trustedKeys: options.trustedKeys ?? [] },
    AbortSignal.timeout(CLI_TIMEOUT_MS),
  );
  if (!remote.ok) return failed(remote.error, options);
  for (const p of remote.value.problems) process.stderr.write(`${p}\n`);
  return withSession({ ...options, json: true }, async (session) => {
    const store = await openSessionStore(session, { cacheDir: resolve(options.cacheDir!), maxCacheMB: 512 });
    if (!store.ok) return failed(store.error, options);
    return sub === 'push' ? push(store.value, remote.value, options) : pull(session, store.value, remote.value, options);
  });
}

async function keyCommand(options: CliOptions): Promise<number> {
  const key = await loadOrCreateTeamKey();
  if (!key.ok) return failed(key.error, options);
  process.stdout.write(options.json ? `${JSON.stringify({ publicKey: key.value.publicText, file: key.value.file })}\n` : `${key.value.publicText}\n`);
  return 0;
}

async function push(store: Store, remote: TeamCache, options: CliOptions): Promise<number> {
  const r = await pushCache(store, remote);
  if (!r.ok) return failed(`push failed: ${r.error}`, options);
  const { pushed, present, bytesSent, ms, problems } = r.value;
  for (const p of problems) process.stderr.write(`${p}\n`);
  if (options.json) process.stdout.write(`${JSON.stringify(r.value)}\n`);
  else process.stdout.write(`pushed ${pushed} entries (${kb(bytesSent)} sent), ${present} already on the server, in ${ms.toFixed(0)} ms\n`);
  return 0;
}

async function pull(session: JuliaSession, store: Store, remote: TeamCache, options: CliOptions): Promise<number> {
  const r = await pullCache(store, remote);
  // Pulled entries are proven now, as a saved entry is after its save, so the next session's load is not delayed.
  const listed = await store.listEntries();
  const fresh = listed.ok ? listed.value.filter((e) => r.pulled.includes(e.id)) : [];
  const proof = await ensureProven(store, fresh, { session });
  const report = { ...r, proven: proof.usable.length, problems: [...r.problems, ...proof.problems] };
  for (const p of report.problems) process.stderr.write(`${p}\n`);
  if (report.stopped) process.stderr.write(`pull stopped: ${report.stopped}\n`);
  if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else {
    process.stdout.write(
      `pulled ${r.pulled.length} entries (${r.methods} methods, ${kb(r.bytesReceived)} received, ${report.proven} proven), ` +
        `${r.present} already here, ${report.problems.length} refused, in ${r.ms.toFixed(0)} ms\n`,
    );
  }
  return report.stopped ? 1 : 0;
}

function failed(message: string, options: CliOptions): number {
  process.stderr.write(`${message}\n`);
  if (options.json) process.stdout.write(`${JSON.stringify({ error: message })}\n`);
  return 1;
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KB`;
}
