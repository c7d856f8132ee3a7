// Opening the store and listing its entries while the session starts. The agent answers `initialize` (which carries
// the cache identity) before its ~1 s warm-up (juliaSession.ts 'identified'), so the identity digest, the signing key,
// the store's directories and the listing (each meta.json's HMAC and sizes, each proof marker) are done by the time
// the session is ready, instead of after it: the session waits only for what is left of them (usually nothing).
//
// Nothing is checked less or earlier than it matters: the listing's checks are the ones loadFlow.ts would run, and the
// loader still checks each file's sha256 (from the signed meta) on the very bytes it links when the load comes.
import type { JuliaSession } from '../session/juliaSession.ts';
import { disabledAtStart } from './cacheStatus.ts';
import { errorText, type Result } from './result.ts';
import { cacheRoot, openSessionStore, type StoreSettings } from './sessionStore.ts';
import type { EntryListing, Store } from './store.ts';

export interface LoadAhead {
  /** The root it opened (the settings may change before the load: then it is not used). */
  root: string;
  store: Result<Store>;
  /** Absent when the store did not open. */
  listed?: Result<EntryListing[]>;
  /** Wall time of each, ms (spent during the start, not waited for unless the start finished first). */
  openMs: number;
  listMs: number;
}

/** Opens and lists the session's store now; never rejects. */
export async function openAndList(session: JuliaSession, settings: StoreSettings): Promise<LoadAhead> {
  const root = cacheRoot(settings);
  const t0 = performance.now();
  const store = await openSessionStore(session, settings).catch((e): Result<Store> => ({ ok: false, error: `cannot open the compiled-code cache: ${errorText(e)}` }));
  const t1 = performance.now();
  const listed = store.ok ? await store.value.listEntries() : undefined;
  return { root, store, listed, openMs: t1 - t0, listMs: performance.now() - t1 };
}

/**
 * Calls `settings()` and starts openAndList each time `session` is identified, when its cache may be loaded
 * (disabledAtStart: Julia version, agent support, trust, autoLoad); `take(session)` hands out that start's result once.
 */
export class LoadAheadTracker {
  private pending: { session: JuliaSession; ahead: Promise<LoadAhead> } | undefined;

  constructor(private readonly settings: () => StoreSettings & { autoLoad: boolean; trusted: boolean }) {}

  watch(session: JuliaSession): void {
    session.on('identified', () => {
      const s = this.settings();
      this.pending = disabledAtStart(session, s) ? undefined : { session, ahead: openAndList(session, s) };
    });
  }

  /** The listing made during this session's start, if it is for the store `settings` names now. */
  async take(session: JuliaSession, settings: StoreSettings): Promise<LoadAhead | undefined> {
    const p = this.pending?.session === session ? this.pending : undefined;
    this.pending = undefined;
    const ahead = p && (await p.ahead);
    return ahead && ahead.root === cacheRoot(settings) ? ahead : undefined;
  }
}
