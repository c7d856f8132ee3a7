// Save Compiled Work: session log -> capture (in the session, or the worker where the session refuses) -> codegen
// child -> store. Only what this session compiled and has not saved yet is captured (a second save stores only what
// is new); methods that cannot be cached are skipped with a reason, and the save as a whole still succeeds.
import type { SaveSummary } from '../../../shared/src/protocol.ts';
import { runCapture } from '../capture/runCapture.ts';
import { loadAgentCode } from '../capture/agentCode.ts';
import type { JuliaSession } from '../session/juliaSession.ts';
import { recordColdTimes } from './statementTimes.ts';
import type { Store } from './store.ts';
import { storeCapture } from './storeCapture.ts';
import { startCodegen, type PendingCodegen } from '../codegen/runCodegen.ts';
import type { SessionLog } from '../session/agentProtocol.ts';
import { holdAt } from './testPause.ts';

export interface SaveOptions {
  /** Signatures this session already saved (updated by saveCompiledWork). */
  alreadySaved: Set<string>;
  report?: (message: string, percent: number) => void;
  /** A package's cache (packages/buildPackageCache.ts): keep only code that needs this package. */
  onlyPackage?: string;
  /** Cancels the save between its steps: the in-session capture, one Julia call, finishes first; nothing is written. */
  signal?: AbortSignal;
}

/** The summary the editor shows, and the id of the entry this save wrote (none when nothing was new). */
export type SavedWork = SaveSummary & { entryId?: string };

export async function saveCompiledWork(session: JuliaSession, store: Store, opts: SaveOptions): Promise<SavedWork> {
  const t0 = performance.now();
  const report = opts.report ?? (() => {});
  if (!session.agentInfo) throw new Error('the Julia session is not running');
  report('reading the session log', 5);
  const log = await session.request('sessionLog', {});
  opts.signal?.throwIfAborted();
  const compileMs = new Map<string, number>();
  for (const c of log.compiled) compileMs.set(c.sig, (compileMs.get(c.sig) ?? 0) + c.ms);
  const fresh = [...compileMs.keys()].filter((sig) => !opts.alreadySaved.has(sig));
  const summary: SavedWork = { methodsSaved: 0, methodsAlreadyCached: opts.alreadySaved.size, bytes: 0, ms: 0, skipped: [] };
  if (fresh.length === 0) return { ...summary, ms: performance.now() - t0 };

  const tAgent = performance.now();
  await loadAgentCode(session);
  summary.steps = { agentCode: performance.now() - tAgent };
  report(`compiling ${fresh.length} methods to native objects`, 15);
  // Started before the capture, so that it loads LLVM while the session captures.
  const codegen = startCodegen({ julia: session.launch.exe, signal: opts.signal });
  try {
    await captureAndStore(session, store, { fresh, log, compileMs, codegen, summary, report }, opts);
  } finally {
    codegen.dispose();
  }
  summary.ms = performance.now() - t0;
  return summary;
}

interface SaveStep {
  fresh: string[];
  log: SessionLog;
  compileMs: ReadonlyMap<string, number>;
  codegen: PendingCodegen;
  /** Filled in: what was captured, skipped and written. */
  summary: SavedWork;
  report: NonNullable<SaveOptions['report']>;
}

async function captureAndStore(session: JuliaSession, store: Store, step: SaveStep, opts: SaveOptions): Promise<void> {
  const { fresh, log, summary, report } = step;
  const replay = { project: log.project, loadPath: log.loadPath, definitions: log.definitions };
  const capture = await runCapture(session, fresh, replay, { signal: opts.signal, onlyPackage: opts.onlyPackage });
  try {
    const held = holdAt('save-captured', opts.signal); // tests only: waits here until the save is cancelled
    if (held) await held;
    opts.signal?.throwIfAborted();
    Object.assign(summary.steps ??= {}, capture.record.timing, { capture: capture.ms });
    summary.capturePath = capture.path;
    if (capture.why) summary.captureNote = `captured by the worker: ${capture.why}`;
    summary.skipped = capture.record.skipped;
    const captured = capture.record.entries;
    if (captured.length > 0) {
      report('emitting the relocatable object', 60);
      const stored = await storeCapture(capture, store, session, { compileMs: step.compileMs, signal: opts.signal, codegen: step.codegen });
      Object.assign(summary.steps ??= {}, { emit: stored.emitMs, store: stored.storeMs });
      summary.bytes = stored.bytes;
      summary.entryId = stored.entryId;
      summary.methodsSaved = captured.length;
      await recordColdTimes(store, log.firstRuns ?? []);
    }
    for (const sig of fresh) opts.alreadySaved.add(sig);
    for (const s of summary.skipped) opts.alreadySaved.delete(s.signature);
  } finally {
    await capture.dispose();
  }
}
