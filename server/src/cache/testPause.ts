// Test-only stop points inside a cache write (and a team cache push, and one hold in a save). With
// JLC_TEST_PAUSE_AT=<point> in its environment, a process that reaches that step prints "paused <point>" on stderr
// (stdout may be the language server's protocol stream) and then blocks for good, so a test can SIGKILL it exactly
// there (storeConcurrency.test.ts, faultsSave.test.ts) instead of hoping a timed kill lands mid-save. A cancel must
// land at an exact step too, but needs the event loop running to receive it: holdAt waits asynchronously until the
// save's AbortSignal fires (saveCancel.test.ts). Without the variable, which is always the case outside tests,
// pauseAt and holdAt only compare one string.
import { writeSync } from 'node:fs';

/** The steps of a save, in order; "staged"/"guarded" are inside taking the lock (lock.ts). */
export const PAUSE_POINTS = [
  'lock-staged', // the lock's owner record is in its private temp file, not yet linked as the lock
  'stale-lock-guarded', // breaking a dead owner's lock: the break guard is held, the stale lock not yet removed
  'locked', // the lock is held, nothing of the entry written
  'tmp-created', // an empty entry directory under tmp/
  'object-written', // object.o written and fsynced
  'plan-written', // plan.bin written and fsynced
  'meta-written', // meta.json written and fsynced: the entry is complete, still under tmp/
  'tmp-synced', // the entry directory fsynced, about to be renamed into entries/
  'renamed', // the entry is visible in entries/, the directory not yet fsynced
  'entries-synced', // the rename is durable, eviction not yet run
  'victim-parked', // eviction renamed a victim into trash/ and has not deleted it yet
  'evicted', // the save is done, the lock not yet released
] as const;

export type PausePoint = (typeof PAUSE_POINTS)[number];

/** The steps of a team cache push (server/src/remote/push.ts), in order. */
export const REMOTE_PAUSE_POINTS = [
  'remote-upload-half', // half of a blob's body sent, the rest not
  'remote-blobs-pushed', // an entry's blobs are on the server, its manifest not yet
] as const;

export function pauseAt(point: PausePoint | (typeof REMOTE_PAUSE_POINTS)[number]): void {
  if (process.env.JLC_TEST_PAUSE_AT !== point) return;
  writeSync(2, `paused ${point}\n`);
  // Blocks the event loop too, so no later step (timer, promise, exit handler) can run before the kill.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

/** Asynchronous holds (holdAt): the step waits for its cancellation instead of blocking for a kill. */
export const HOLD_POINTS = [
  'save-captured', // saveFlow.ts: the capture returned, nothing compiled to an object or stored yet
] as const;

const held = new Set<string>();

/**
 * With JLC_TEST_PAUSE_AT=<point>, the first time this process reaches the point: prints "paused <point>" on stderr
 * and returns a promise that resolves once `signal` is aborted (never, without a signal). Only the first time, so the
 * test's next save in the same server runs through. Otherwise returns undefined; the caller awaits only a promise.
 */
export function holdAt(point: (typeof HOLD_POINTS)[number], signal: AbortSignal | undefined): Promise<void> | undefined {
  if (process.env.JLC_TEST_PAUSE_AT !== point || held.has(point)) return undefined;
  held.add(point);
  writeSync(2, `paused ${point}\n`);
  return new Promise((resolve) => {
    if (signal?.aborted) resolve();
    else signal?.addEventListener('abort', () => resolve(), { once: true });
  });
}
